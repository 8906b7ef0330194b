// What every room's script shares: GraphQL through the session (the cookie goes by itself; the CSRF token
// comes from the page's <meta>), a clear message when something fails, sign-out, and small DOM helpers.
// No token ever reaches this code: the session lives on the hub.
const CSRF = document.querySelector('meta[name="childhub-csrf"]')?.content || '';

export const el = (tag, attrs = {}, text) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
};

export function showError(message) {
  document.getElementById('error').textContent = message;
}

export function clearError() {
  document.getElementById('error').textContent = '';
}

/// Back to sign-in, returning to this very view afterwards.
export function signInAgain() {
  const here = window.location.pathname + window.location.search + window.location.hash;
  window.location.assign('/signin?return_to=' + encodeURIComponent(here));
}

/// Runs a GraphQL operation; resolves to `data`, or shows the problem and resolves to null.
export function graphql(query, variables = {}) {
  return send({ 'Content-Type': 'application/json' }, JSON.stringify({ query, variables }));
}

/// Runs an operation and resolves to its whole answer (`data` and `errors`, each error with its
/// `extensions.code`), for a page that handles some errors itself; null when the hub cannot be read.
export function graphqlAnswer(query, variables = {}) {
  return send({ 'Content-Type': 'application/json' }, JSON.stringify({ query, variables }), true);
}

/// Runs an operation with one file as `$file`, as the GraphQL multipart request spec has it.
export function graphqlWithFile(query, variables, file) {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables: { ...variables, file: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', file, file.name);
  return send({}, form);
}

async function send(headers, payload, whole = false) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { ...headers, 'x-csrf-token': CSRF },
      body: payload,
    });
  } catch (e) {
    showError('无法连接到系统。Cannot reach the hub: check the network connection and reload the page.');
    return null;
  }
  if (response.status === 401) { signInAgain(); return null; }
  let body;
  try { body = await response.json(); } catch (e) {
    showError(`系统返回了无法读取的结果 (${response.status})。The hub answered ${response.status} without a readable body; try again later.`);
    return null;
  }
  if (whole) return body;
  if (body.errors && body.errors.length) {
    showError(body.errors.map(e => e.message).join('; '));
    if (!body.data) return null;
  }
  return body.data;
}

/// The CSRF token, for scripts that post elsewhere than /graphql (uploads, GraphiQL's fetcher).
export const csrfToken = () => CSRF;

/// Fills a table body: one row per item, one cell per value of `cells(item)`; a note when empty.
export function fillTable(table, items, cells, emptyText) {
  const tbody = table.querySelector('tbody');
  tbody.replaceChildren();
  if (!items.length) {
    const td = el('td', { class: 'empty', colspan: table.querySelectorAll('thead th').length }, emptyText);
    tbody.append(el('tr'));
    tbody.lastChild.append(td);
    return;
  }
  for (const item of items) {
    const tr = el('tr');
    for (const value of cells(item)) {
      const td = el('td');
      if (value instanceof Node) td.append(value); else td.textContent = value ?? '–';
      tr.append(td);
    }
    tbody.append(tr);
  }
}

export function done() {
  document.getElementById('content')?.removeAttribute('aria-busy');
}

// Sign-out: the hub ends its session, then the browser goes where the hub says (the provider's
// end-session page, which ends the city sign-in too, and comes back to /signed-out).
document.getElementById('signout')?.addEventListener('click', async () => {
  try {
    const response = await fetch('/signout', { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': CSRF } });
    const body = await response.json();
    window.location.assign(body.redirect || '/signed-out');
  } catch (e) {
    showError('退出失败，请重试。Signing out failed; try again.');
  }
});
