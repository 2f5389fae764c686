// Apollo Server 4 with DataLoader on the bench database: the same
// listing as the invitations server's request 2 (the 50 newest
// invitations a creator sent, with creator and workspace), written the way
// Apollo's docs advise (a DataLoader per request for each relation), on
// node-postgres with a pool of 10. One Node.js process. It checks no token.
//   DATABASE_URL=postgres://... PORT=5001 node server.mjs
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import DataLoader from 'dataloader';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });

const typeDefs = `#graphql
  type Profile { id: ID! name: String! handle: String! }
  type Workspace { id: ID! name: String! }
  type Invitation {
    id: ID!
    status: String!
    email: String!
    created: String!
    creator: Profile!
    workspace: Workspace!
  }
  type InvitationConnection { nodes: [Invitation!]! }
  type Query { sentInvitations(creatorId: ID!, first: Int!): InvitationConnection! }
`;

/** Rows by id, in the order DataLoader asked for them. */
function byId(table, columns) {
  return async (ids) => {
    const { rows } = await pool.query(
      `SELECT ${columns} FROM ${table} WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const found = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => found.get(id) ?? null);
  };
}

const resolvers = {
  Query: {
    sentInvitations: async (_, { creatorId, first }) => {
      const { rows } = await pool.query(
        `SELECT id, status, email, created, creator_id, workspace_id FROM invitation
         WHERE creator_id = $1 ORDER BY created DESC, id DESC LIMIT $2`,
        [creatorId, first],
      );
      return { nodes: rows };
    },
  },
  Invitation: {
    created: (i) => i.created.toISOString(),
    creator: (i, _, { profiles }) => profiles.load(i.creator_id),
    workspace: (i, _, { workspaces }) => workspaces.load(i.workspace_id),
  },
};

const server = new ApolloServer({ typeDefs, resolvers });
await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT), host: '127.0.0.1' },
  context: async () => ({
    profiles: new DataLoader(byId('profile', 'id, name, handle')),
    workspaces: new DataLoader(byId('workspace', 'id, name')),
  }),
});
console.log('ready');
