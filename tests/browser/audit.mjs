// graphql-http's GraphQL-over-HTTP audit against a running server.
// Usage: GRAPHQL_URL=http://127.0.0.1:8080/graphql node audit.mjs
// Exits non-zero unless every audit passes; prints each result.
import { auditServer } from 'graphql-http';

const url = process.env.GRAPHQL_URL;
if (!url) {
  console.error('GRAPHQL_URL is not set');
  process.exit(2);
}
const results = await auditServer({ url });
let passed = 0;
for (const r of results) {
  if (r.status === 'ok') passed += 1;
  else console.log(`${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason}`);
}
console.log(`graphql-http audit: ${passed} of ${results.length} pass`);
process.exit(passed === results.length ? 0 : 1);
