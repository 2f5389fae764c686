import { useEffect, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';

import { graphql } from '../gql';
import type { InviteManyMutation } from '../gql/graphql';
import { ErrorLine } from './Errors';

const WorkspaceInvitations = graphql(`
  query WorkspaceInvitations($id: ID!) {
    workspace(id: $id) {
      id
      name
      domains
      # Every state: by default the server lists PENDING and ACCEPTED only.
      invitations(first: 100, status: [PENDING, ACCEPTED, DECLINED, EXPIRED, REVOKED]) {
        nodes {
          id
          email
          status
          role
        }
      }
    }
  }
`);

const WorkspaceEvents = graphql(`
  subscription WorkspaceEvents($id: ID!) {
    invitationEvents(workspaceId: $id) {
      id
      kind
      invitation {
        id
        status
      }
    }
  }
`);

const InviteMany = graphql(`
  mutation InviteMany($workspaceId: ID!, $emails: [String!]!) {
    createInvitations(workspaceId: $workspaceId, emails: $emails) {
      invitedCount
      results {
        email
        outcome
        invitation {
          id
        }
      }
    }
  }
`);

/** A workspace's invitations, kept live by the subscription. */
export function WorkspacePage({ id }: { id: string }) {
  const [{ data, error }, refetch] = useQuery({ query: WorkspaceInvitations, variables: { id } });
  const [live] = useSubscription({ query: WorkspaceEvents, variables: { id } });
  // Each event (created, accepted, declined, ...) reloads the list.
  useEffect(() => {
    if (live.data) refetch({ requestPolicy: 'network-only' });
  }, [live.data, refetch]);
  const workspace = data?.workspace;
  return (
    <>
      <section>
        <h1>{workspace?.name ?? 'Workspace'}</h1>
        <ErrorLine error={error} />
        <ErrorLine error={live.error} />
        <p>
          Allowed domains: {workspace?.domains?.join(', ')}{' '}
          <span data-testid="live">{live.fetching || live.data ? '● live' : ''}</span>
        </p>
        <table>
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {workspace?.invitations?.nodes.map((i) => (
              <tr key={i.id} data-email={i.email}>
                <td>{i.email}</td>
                <td>{i.role}</td>
                <td>
                  <span className={`status ${i.status}`} data-testid="status">
                    {i.status}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <Invite workspaceId={id} />
    </>
  );
}

/** Many addresses at once; each gets its own outcome. */
function Invite({ workspaceId }: { workspaceId: string }) {
  const [emails, setEmails] = useState('');
  const [results, setResults] = useState<InviteManyMutation['createInvitations'] | null>(null);
  const [sent, invite] = useMutation(InviteMany);
  return (
    <section>
      <h2>Invite</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const list = emails.split(/[\s,;]+/).filter(Boolean);
          const res = await invite({ workspaceId, emails: list });
          if (res.data) {
            setResults(res.data.createInvitations);
            setEmails('');
          }
        }}
      >
        <textarea
          aria-label="Email addresses"
          placeholder="One address per line"
          rows={4}
          value={emails}
          onChange={(e) => setEmails(e.target.value)}
        />
        <p>
          <button type="submit">Invite</button>
        </p>
      </form>
      <ErrorLine error={sent.error} />
      {results && (
        <>
          <p data-testid="invited-count">{results.invitedCount} invited</p>
          <table>
            <tbody>
              {results.results.map((r) => (
                <tr key={r.email} data-result={r.email}>
                  <td>{r.email}</td>
                  <td>
                    <span className={`status ${r.outcome}`}>{r.outcome}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
