// Starts GraphiQL against this server's /graphql. Queries and mutations go
// over HTTP with the headers typed in the Headers tab; nothing is fetched
// from anywhere but this server.
(function () {
  'use strict';
  var url = new URL('/graphql', window.location.href).toString();
  var fetcher = GraphiQL.createFetcher({ url: url });
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
