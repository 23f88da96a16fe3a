// Starts GraphiQL on the page's endpoint. Kept out of the page so that the page's
// Content-Security-Policy can forbid inline scripts.
(function () {
  var el = document.getElementById("graphiql");
  var fetcher = GraphiQL.createFetcher({ url: el.getAttribute("data-endpoint") });
  ReactDOM.createRoot(el).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: '{\n  "Authorization": "Bearer sk_live_…"\n}',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultQuery:
        "# Put an API key in the Headers tab below, then run:\n{\n  adminOauthClients(limit: 10) {\n    totalCount\n    items { id name clientType isActive }\n  }\n}\n",
    })
  );
})();
