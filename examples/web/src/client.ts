// One urql client per signed-in token: queries and mutations over HTTP,
// subscriptions over graphql-ws, every operation sent as the hash of its
// persisted document (the server may run with only those trusted).
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createWsClient } from 'graphql-ws';

export function makeClient(token: string): { client: Client; dispose: () => void } {
  const http = new URL('/graphql', window.location.href);
  const ws = createWsClient({
    url: http.href.replace(/^http/, 'ws'),
    connectionParams: { Authorization: `Bearer ${token}` },
    lazy: true,
  });
  const client = new Client({
    url: http.href,
    fetchOptions: { headers: { Authorization: `Bearer ${token}` } },
    exchanges: [
      cacheExchange,
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        enableForSubscriptions: true,
        preferGetForPersistedQueries: false,
        // The client preset put each document's id ("sha256:<hex>") beside
        // it; Apollo's extension carries the hex alone.
        generateHash: async (_query, document) =>
          (document as unknown as { __meta__: { hash: string } }).__meta__.hash.replace(
            /^sha256:/,
            '',
          ),
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }),
          };
        },
      }),
    ],
  });
  return { client, dispose: () => void ws.dispose() };
}

/** The email a token was issued to (for the header only; the server checks it). */
export function emailOf(token: string): string {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload)).email ?? '';
  } catch {
    return '';
  }
}
