import { useMutation, useQuery } from 'urql';

import { graphql } from '../gql';
import { ErrorLine } from './Errors';

const ReceivedInvitations = graphql(`
  query ReceivedInvitations {
    receivedInvitations(first: 50) {
      nodes {
        id
        status
        role
        workspace {
          id
          name
        }
        creator {
          id
          name
        }
      }
    }
  }
`);

const Accept = graphql(`
  mutation AcceptInvitation($id: ID!) {
    acceptInvitation(id: $id) {
      id
      status
    }
  }
`);

const Decline = graphql(`
  mutation DeclineInvitation($id: ID!) {
    declineInvitation(id: $id) {
      id
      status
    }
  }
`);

export function Received() {
  const [{ data, error }] = useQuery({ query: ReceivedInvitations });
  const [accepted, accept] = useMutation(Accept);
  const [declined, decline] = useMutation(Decline);
  return (
    <section>
      <h1>Received invitations</h1>
      <ErrorLine error={error ?? accepted.error ?? declined.error} />
      <table>
        <tbody>
          {data?.receivedInvitations.nodes.map((i) => (
            <tr key={i.id} data-workspace={i.workspace.name}>
              <td>{i.workspace.name}</td>
              <td>from {i.creator.name}</td>
              <td>
                <span className={`status ${i.status}`} data-testid="status">
                  {i.status}
                </span>
              </td>
              <td>
                {i.status === 'PENDING' && (
                  <>
                    <button onClick={() => accept({ id: i.id })}>Accept</button>
                    <button onClick={() => decline({ id: i.id })}>Decline</button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
