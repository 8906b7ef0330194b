// GraphiQL for childhub: the token from the URL fragment fills the header editor; the schema comes from
// /graphiql/schema.json so that GraphiQL works where /graphql answers no introspection.
// A token passed in the URL fragment (#token=…) fills the header editor. The fragment never reaches
// the server, so the token does not end up in access logs.
const fragment = new URLSearchParams(window.location.hash.slice(1));
const token = fragment.get('token');
if (token) { history.replaceState(null, '', window.location.pathname); }
const defaultHeaders = token
  ? JSON.stringify({ Authorization: 'Bearer ' + token }, null, 2)
  : JSON.stringify({ Authorization: 'Bearer <paste a token from `childhub token`>' }, null, 2);
const defaultQuery = `# childhub: the city's child-development indicators.
# The header editor (below) carries your bearer token.
{
  me { department roles }
  domains {
    code nameZh nameEn
    indicators {
      code nameZh nameEn unit
      targets { kind value targetYear scope }
      latest(region: "DEMO") { year value }
    }
  }
}
`;
const graphql = GraphiQL.createFetcher({ url: new URL('/graphql', window.location.origin).toString() });
// The schema comes from /graphiql/schema.json, so GraphiQL works where /graphql has introspection off.
const fetcher = async (params, options) => {
  if (params.operationName === 'IntrospectionQuery') {
    // With the header editor's token: where introspection is off, the schema needs one.
    const response = await fetch('/graphiql/schema.json', { headers: (options && options.headers) || {} });
    return response.json();
  }
  return graphql(params, options);
};
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery,
    defaultHeaders,
    headerEditorEnabled: true,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: 'headers',
  })
);
