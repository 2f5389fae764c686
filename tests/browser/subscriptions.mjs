// The graphql-ws client (what Apollo Client and urql use for subscriptions)
// against a running server: a subscriber hears an invitation created over
// HTTP, and a socket with a bad token is closed with 4403.
// Usage: BASE_URL=http://127.0.0.1:8080 TOKEN=<jwt> node subscriptions.mjs
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = process.env.BASE_URL;
const token = process.env.TOKEN;
if (!base || !token) {
  console.error('BASE_URL and TOKEN must be set');
  process.exit(2);
}
const socketUrl = `${base.replace(/^http/, 'ws')}/graphql`;
let failed = false;
const fail = (message) => {
  console.error(`FAIL ${message}`);
  failed = true;
};

async function http(query, variables) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function client(authorization) {
  return createClient({
    url: socketUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: authorization },
    retryAttempts: 0,
    lazy: true,
  });
}

const within = (ms, promise, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing in ${ms} ms`)), ms)),
  ]);

// 1. A subscriber hears an invitation created through HTTP.
const ws = await http(
  'mutation { createWorkspace(input: { name: "Live", domains: ["live.test"] }) { id } }',
).then((d) => d.createWorkspace.id);
const good = client(`Bearer ${token}`);
try {
  const events = good.iterate({
    query: `subscription($ws: ID) { invitationEvents(workspaceId: $ws) { id kind invitation { email status } } }`,
    variables: { ws },
  });
  const first = events.next();
  // The subscription is live once the server has acknowledged it; a query
  // over the same socket is answered after the subscribe was read.
  await within(5000, new Promise((resolve, reject) => {
    good.subscribe({ query: '{ me { handle } }' }, { next: () => {}, error: reject, complete: resolve });
  }), 'a query over the socket');
  const started = Date.now();
  await http('mutation($ws: ID!) { createInvitation(workspaceId: $ws, email: "carol@live.test") { id } }', { ws });
  const { value } = await within(5000, first, 'the CREATED event');
  const e = value?.data?.invitationEvents;
  console.log(`heard ${e?.kind} for ${e?.invitation?.email} in ${Date.now() - started} ms`);
  if (e?.kind !== 'CREATED' || e?.invitation?.email !== 'carol@live.test') fail(`unexpected event ${JSON.stringify(value)}`);
  await events.return();
} catch (e) {
  fail(String(e));
} finally {
  await good.dispose();
}

// 2. A bad token: the server closes the socket with 4403.
const bad = client('Bearer not-a-token');
try {
  const code = await within(5000, new Promise((resolve) => {
    bad.subscribe(
      { query: 'subscription { invitationEvents { id } }' },
      { next: () => resolve('next'), error: (e) => resolve(e?.code ?? String(e)), complete: () => resolve('complete') },
    );
  }), 'the refusal');
  console.log(`bad token: closed with ${code}`);
  if (code !== 4403) fail(`expected close code 4403, got ${code}`);
} catch (e) {
  fail(String(e));
} finally {
  await bad.dispose();
}
process.exit(failed ? 1 : 0);
