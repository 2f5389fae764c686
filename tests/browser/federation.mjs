// The server as an Apollo Federation v2 subgraph: composes its `_service`
// SDL with a second subgraph (made here, which points at our Invitation
// entity) using Apollo's composition, serves the supergraph through an
// in-process @apollo/gateway that forwards `Authorization`, and queries
// through it, so the gateway calls our `_entities` with the viewer's token.
// Usage: BASE_URL=http://127.0.0.1:8080 TOKEN=<jwt> node federation.mjs
// (the server runs with GRAPHQL_FEDERATION=true)
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

const base = process.env.BASE_URL;
const token = process.env.TOKEN;
if (!base || !token) {
  console.error('BASE_URL and TOKEN must be set');
  process.exit(2);
}
let failed = false;
const fail = (message) => {
  console.error(`FAIL ${message}`);
  failed = true;
};

async function post(url, query, variables, authorization) {
  const headers = { 'content-type': 'application/json' };
  if (authorization) headers.authorization = authorization;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return res.json();
}

const servers = [];
try {
  // Our subgraph's schema, as a router fetches it: no token.
  const service = await post(`${base}/graphql`, '{ _service { sdl } }');
  const sdl = service?.data?._service?.sdl;
  if (!sdl) throw new Error(`no _service SDL: ${JSON.stringify(service)}`);

  // Something for the gateway to join: a workspace and an invitation.
  const bearer = `Bearer ${token}`;
  const made = await post(
    `${base}/graphql`,
    'mutation { createWorkspace(input: { name: "Federated", domains: ["fed.test"] }) { id } }',
    {},
    bearer,
  );
  const ws = made.data.createWorkspace.id;
  const invited = await post(
    `${base}/graphql`,
    'mutation($ws: ID!) { createInvitation(workspaceId: $ws, email: "carol@fed.test") { id } }',
    { ws },
    bearer,
  );
  const invitationId = invited.data.createInvitation.id;

  // A second subgraph: pinned notes that name one of our invitations.
  const notesSdl = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
    type Invitation @key(fields: "id", resolvable: false) { id: ID! }
    type Note { text: String! invitation: Invitation }
    type Query { notes: [Note!]! }
  `;
  const notes = new ApolloServer({
    plugins: [ApolloServerPluginInlineTraceDisabled()],
    schema: buildSubgraphSchema({
      typeDefs: parse(notesSdl),
      resolvers: {
        Query: {
          notes: () => [
            { text: 'call Carol', invitation: { __typename: 'Invitation', id: invitationId } },
            { text: 'a stranger', invitation: { __typename: 'Invitation', id: '00000000-0000-4000-8000-000000000000' } },
          ],
        },
      },
    }),
  });
  const { url: notesUrl } = await startStandaloneServer(notes, { listen: { port: 0, host: '127.0.0.1' } });
  servers.push(notes);

  const composed = composeServices([
    { name: 'invitations', typeDefs: parse(sdl), url: `${base}/graphql` },
    { name: 'notes', typeDefs: parse(notesSdl), url: notesUrl },
  ]);
  if (composed.errors) throw new Error(`composition: ${composed.errors.map((e) => e.message).join('; ')}`);
  console.log('composition: ok');

  const gateway = new ApolloGateway({
    supergraphSdl: composed.supergraphSdl,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource({
        url,
        willSendRequest({ request, context }) {
          if (context.authorization) request.http.headers.set('authorization', context.authorization);
        },
      }),
  });
  const router = new ApolloServer({ gateway });
  const { url: routerUrl } = await startStandaloneServer(router, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  servers.push(router);

  const query = `{
    me { handle }
    notes { text invitation { id email status workspace { name } creator { handle } } }
  }`;
  const answer = await post(routerUrl, query, {}, bearer);
  console.log(`through the gateway: ${JSON.stringify(answer)}`);
  const [mine, strangers] = answer?.data?.notes ?? [];
  if (!answer?.data?.me?.handle) fail('no `me` through the gateway');
  if (mine?.invitation?.email !== 'carol@fed.test') fail('our invitation was not resolved as an entity');
  if (mine?.invitation?.workspace?.name !== 'Federated') fail('nested fields of the entity');
  // Not visible (here: it does not exist): null.
  if (strangers?.invitation !== null) fail(`an invisible invitation resolved: ${JSON.stringify(strangers)}`);

  const anonymous = await post(routerUrl, '{ notes { invitation { email } } }', {});
  const code = anonymous?.errors?.[0]?.extensions?.code;
  console.log(`without a token: ${code}`);
  if (code !== 'UNAUTHENTICATED' && !JSON.stringify(anonymous).includes('UNAUTHENTICATED')) {
    fail(`expected UNAUTHENTICATED without a token: ${JSON.stringify(anonymous)}`);
  }
} catch (e) {
  fail(String(e?.stack ?? e));
} finally {
  for (const s of servers) await s.stop();
}
process.exit(failed ? 1 : 0);
