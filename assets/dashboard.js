// The dashboard: signs in with a bearer token kept in sessionStorage and reads /graphql.
// Status labels and colours come from the API (progressStatuses), defined once in the server.
let STATUS = {};
let ORDER = [];
const QUERY = `{
  me { department roles }
  progressStatuses { status labelZh labelEn colour rank }
  summary { year region { code nameZh nameEn } domains { domain { code nameZh nameEn } total counts { status count } } }
  progress { indicator { code nameZh nameEn decimals } status latest { year value } targetValue projection chartSvg target { kind } }
  earlyWarnings(severity: MEDIUM) { severity message }
}`;
const el = (tag, attrs = {}, text) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};
const fmt = (v, d) => (v === null || v === undefined) ? '–' : Number(v).toFixed(Math.max(0, Math.min(4, d)));

function token() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const t = fragment.get('token');
  if (t) { sessionStorage.setItem('childhub-token', t); history.replaceState(null, '', window.location.pathname); }
  return sessionStorage.getItem('childhub-token');
}

async function load() {
  const t = token();
  if (!t) { document.getElementById('signin').hidden = false; return; }
  const response = await fetch('/graphql', {
method: 'POST',
headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + t },
body: JSON.stringify({ query: QUERY }),
  });
  const body = await response.json();
  if (body.errors) {
document.getElementById('error').textContent = body.errors.map(e => e.message).join('; ');
if (response.status === 401) { sessionStorage.removeItem('childhub-token'); document.getElementById('signin').hidden = false; }
return;
  }
  render(body.data);
}

function render(data) {
  STATUS = Object.fromEntries(data.progressStatuses.map(s => [s.status, [s.labelZh, s.labelEn, s.colour]]));
  ORDER = [...data.progressStatuses].sort((a, b) => a.rank - b.rank).map(s => s.status);
  document.getElementById('who').textContent = `${data.me.department} · ${data.me.roles.join(', ').toLowerCase()}`;
  const s = data.summary;
  document.getElementById('heading').textContent = `${s.region.nameZh} ${s.region.nameEn} · ${s.year}`;
  const tiles = document.getElementById('tiles');
  for (const d of s.domains) {
const tile = el('div', { class: 'tile', 'data-domain': d.domain.code });
tile.append(el('h3', {}, `${d.domain.nameZh} `));
tile.firstChild.append(el('small', {}, d.domain.nameEn));
for (const c of d.counts.filter(c => c.count > 0)) {
  const [zh, en, colour] = STATUS[c.status];
  const chip = el('span', { class: 'chip', 'data-status': c.status, style: `background:${colour}`, title: en }, `${zh} ${c.count}`);
  tile.append(chip);
}
tiles.append(tile);
  }
  const rows = data.progress.map(p => ({
code: p.indicator.code, name: `${p.indicator.nameZh} ${p.indicator.nameEn}`, latest: p.latest ? p.latest.value : null,
latestYear: p.latest ? p.latest.year : null, target: p.targetValue, kind: p.target.kind, status: p.status,
statusRank: ORDER.indexOf(p.status), projection: p.projection, decimals: p.indicator.decimals, chart: p.chartSvg,
  }));
  const tbody = document.querySelector('#targets tbody');
  const draw = () => {
tbody.replaceChildren();
for (const r of rows) {
  const tr = el('tr', { 'data-code': r.code, 'data-status': r.status });
  tr.append(el('td', {}, r.code), el('td', {}, r.name), el('td', {}, `${fmt(r.latest, r.decimals)}${r.latestYear ? ' (' + r.latestYear + ')' : ''}`));
  tr.append(el('td', {}, r.target === null ? r.kind.toLowerCase().replaceAll('_', ' ') : fmt(r.target, r.decimals)));
  const [zh, en, colour] = STATUS[r.status];
  const cell = el('td'); cell.append(el('span', { class: 'status', style: `background:${colour}` }, `${zh} ${en}`));
  tr.append(cell, el('td', {}, fmt(r.projection, r.decimals)));
  tbody.append(tr);
}
  };
  document.querySelectorAll('#targets th').forEach(th => th.addEventListener('click', () => {
const key = th.dataset.key;
const dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
document.querySelectorAll('#targets th').forEach(h => h.removeAttribute('aria-sort'));
th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
rows.sort((a, b) => (a[key] === null) - (b[key] === null) || (a[key] < b[key] ? -dir : a[key] > b[key] ? dir : 0));
draw();
  }));
  draw();
  const warnings = document.getElementById('warnings');
  for (const w of data.earlyWarnings) warnings.append(el('li', { class: w.severity }, `${w.severity}: ${w.message}`));
  const charts = document.getElementById('charts');
  for (const r of rows) {
const figure = el('figure', { 'data-code': r.code });
figure.innerHTML = r.chart;
charts.append(figure);
  }
  document.getElementById('content').hidden = false;
}

document.getElementById('signin-button').addEventListener('click', () => {
  sessionStorage.setItem('childhub-token', document.getElementById('token-input').value.trim());
  document.getElementById('signin').hidden = true;
  load();
});
load();
