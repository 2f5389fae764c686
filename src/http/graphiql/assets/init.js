// Starts GraphiQL against this server's /graphql. Queries and mutations go
// over HTTP, subscriptions over a WebSocket to the same path
// (graphql-transport-ws), each with the headers typed in the Headers tab
// (for the socket, as its connection_init payload); nothing is fetched from
// anywhere but this server.
(function () {
  'use strict';
  var url = new URL('/graphql', window.location.href).toString();
  var socket = new URL('/graphql', window.location.href);
  socket.protocol = socket.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: socket.toString() });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultQuery: '# Paste {"Authorization": "Bearer <token>"} into Headers, then run:\n{ me { handle email } }\n',
    }),
  );
})();
