// PostGraphile 4 on the bench database, as its docs set it up for
// production (no GraphiQL, no query log, no watch), one Node.js process
// with its default pool of 10. It exposes the tables as they are: the
// bench asks for `allInvitations` of the busy creator, newest first, with
// each one's creator and workspace, which PostGraphile answers with one
// SQL statement building the JSON in PostgreSQL. It checks no token.
//   DATABASE_URL=postgres://... PORT=5000 node server.mjs
import http from 'node:http';
import { postgraphile } from 'postgraphile';

const handler = postgraphile(process.env.DATABASE_URL, 'public', {
  graphiql: false,
  disableQueryLog: true,
  retryOnInitFail: false,
  watchPg: false,
  setofFunctionsContainNulls: false,
  ignoreRBAC: true,
});
http.createServer(handler).listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log('ready');
});
