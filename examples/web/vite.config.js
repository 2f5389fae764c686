import { defineConfig } from 'vite';

// The page calls /graphql on its own origin; Vite forwards it (and the
// subscription WebSocket) to the server, so no CORS setup is needed.
const server = process.env.INVITATIONS_URL ?? 'http://127.0.0.1:8080';
const proxy = { '/graphql': { target: server, ws: true, changeOrigin: true } };

export default defineConfig({
  // React's automatic JSX runtime, without a plugin.
  oxc: { jsx: { runtime: 'automatic' } },
  server: { proxy },
  preview: { proxy },
});
