import { useState } from 'react';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../gql';
import { ErrorLine } from './Errors';

const MyWorkspaces = graphql(`
  query MyWorkspaces {
    workspaces(first: 50) {
      nodes {
        id
        name
        domains
      }
    }
  }
`);

const CreateWorkspace = graphql(`
  mutation CreateWorkspace($input: CreateWorkspaceInput!) {
    createWorkspace(input: $input) {
      id
      name
    }
  }
`);

export function Workspaces() {
  const [{ data, error }, refetch] = useQuery({ query: MyWorkspaces });
  const [created, create] = useMutation(CreateWorkspace);
  const [name, setName] = useState('');
  const [domains, setDomains] = useState('');
  return (
    <>
      <section>
        <h1>My workspaces</h1>
        <ErrorLine error={error} />
        <ul>
          {data?.workspaces.nodes.map((w) => (
            <li key={w.id}>
              <a href={`#/workspaces/${w.id}`}>{w.name}</a> ({w.domains?.join(', ')})
            </li>
          ))}
        </ul>
      </section>
      <section>
        <h2>New workspace</h2>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const list = domains.split(/[\s,]+/).filter(Boolean);
            const res = await create({ input: { name, domains: list } });
            if (!res.error) {
              setName('');
              setDomains('');
              refetch({ requestPolicy: 'network-only' });
            }
          }}
        >
          <p>
            <input aria-label="Name" placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} />
          </p>
          <p>
            <input
              aria-label="Allowed domains"
              placeholder="Allowed domains, such as acme.test"
              value={domains}
              onChange={(e) => setDomains(e.target.value)}
            />
          </p>
          <button type="submit">Create</button>
          <ErrorLine error={created.error} />
        </form>
      </section>
    </>
  );
}
