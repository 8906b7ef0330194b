// GraphiQL in the workspace: queries go to /graphql with the session (the cookie and the page's CSRF
// token), so no token is pasted anywhere; the schema comes from /graphiql/schema.json, so GraphiQL works
// where /graphql answers no introspection.
import { csrfToken, signInAgain } from './api.js';

const defaultQuery = `# childhub: the city's child-development indicators, as your department may read them.
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
const headers = { 'Content-Type': 'application/json', 'x-csrf-token': csrfToken() };
const fetcher = async (params) => {
  const introspection = params.operationName === 'IntrospectionQuery';
  const response = introspection
    ? await fetch('/graphiql/schema.json', { credentials: 'same-origin', headers })
    : await fetch('/graphql', { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(params) });
  if (response.status === 401) signInAgain();
  return response.json();
};
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery,
    shouldPersistHeaders: false,
  })
);
