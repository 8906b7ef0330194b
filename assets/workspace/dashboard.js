// The dashboard room: reads /graphql with the session (see api.js). Status labels and colours come from the
// API (progressStatuses), defined once in the server. The view's state — year, sort column and direction —
// lives in the URL fragment, so a view can be bookmarked or shared.
import { graphql, el } from './api.js';
let STATUS = {};
let ORDER = [];
const QUERY = `query Dashboard($year: Int) {
  me { department roles }
  progressStatuses { status labelZh labelEn colour rank }
  summary(year: $year) { year years { year targetsWithValues targets } region { code nameZh nameEn }
    domains { domain { code nameZh nameEn } total counts { status count } } }
  progress(filter: { year: $year }) { indicator { code nameZh nameEn decimals unit } status latest { year value }
    targetValue targetLabel why projection chartSvg target { kind targetYear } }
  earlyWarnings(severity: MEDIUM, year: $year) { severity message }
}`;
const REPORTS = [['annual', '年度报告 Annual report'], ['midterm', '中期评估 Mid-term review'], ['final', '终期评估 Final review']];
const fmt = (v, d) => (v === null || v === undefined) ? '–' : Number(v).toFixed(Math.max(0, Math.min(4, d)));
const SYMBOL = { PERCENT: ' %', RATIO_PERCENT: ' %', PER_MILLE: ' ‰', PER_100000: ' /100k', PER_1000_CHILDREN: ' /1000 children',
  PER_1000_POPULATION: ' /1000 pop.', COUNT: '', BOOLEAN: '' };

// The view's state from the fragment: year, sort, dir.
function state() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const year = Number(fragment.get('year')) || null;
  return { year, sort: fragment.get('sort'), dir: fragment.get('dir') === 'desc' ? -1 : 1 };
}

function setFragment(changes) {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  for (const [k, v] of Object.entries(changes)) v === null ? fragment.delete(k) : fragment.set(k, v);
  history.replaceState(null, '', window.location.pathname + '#' + fragment);
}

async function load() {
  const s = state();
  document.getElementById('error').textContent = '';
  document.getElementById('content').setAttribute('aria-busy', 'true');
  const data = await graphql(QUERY, { year: s.year });
  document.getElementById('content').removeAttribute('aria-busy');
  if (data) render(data, s);
}

function render(data, s) {
  STATUS = Object.fromEntries(data.progressStatuses.map(x => [x.status, [x.labelZh, x.labelEn, x.colour]]));
  ORDER = [...data.progressStatuses].sort((a, b) => a.rank - b.rank).map(x => x.status);
  const sum = data.summary;
  document.getElementById('heading').textContent = `${sum.region.nameZh} ${sum.region.nameEn} · ${sum.year}`;

  const select = document.getElementById('year');
  select.replaceChildren();
  for (const y of [...sum.years].reverse()) {
    const option = el('option', { value: y.year }, `${y.year} (${y.targetsWithValues}/${y.targets})`);
    if (y.year === sum.year) option.setAttribute('selected', '');
    select.append(option);
  }
  select.onchange = () => { setFragment({ year: select.value }); load(); };

  const reports = document.getElementById('reports');
  reports.replaceChildren();
  for (const [kind, label] of REPORTS) {
    // The session cookie opens the report: a plain link, with no token in it.
    const link = el('a', { href: `/reports/${sum.year}/${kind}.html`, target: '_blank', rel: 'noopener', 'data-kind': kind, 'data-year': sum.year }, `${label} ${sum.year}`);
    reports.append(el('li'));
    reports.lastChild.append(link);
  }

  const tiles = document.getElementById('tiles');
  tiles.replaceChildren();
  for (const d of sum.domains) {
    const tile = el('div', { class: 'tile', 'data-domain': d.domain.code });
    tile.append(el('h3', {}, `${d.domain.nameZh} `));
    tile.firstChild.append(el('small', {}, d.domain.nameEn));
    for (const c of d.counts.filter(c => c.count > 0)) {
      const [zh, en, colour] = STATUS[c.status];
      tile.append(el('span', { class: 'chip', 'data-status': c.status, style: `background:${colour}`, title: en }, `${zh} ${c.count}`));
    }
    tiles.append(tile);
  }

  const rows = data.progress.map(p => ({
    code: p.indicator.code, name: `${p.indicator.nameZh} ${p.indicator.nameEn}`, latest: p.latest ? p.latest.value : null,
    latestYear: p.latest ? p.latest.year : null, target: p.targetValue, targetLabel: p.targetLabel, status: p.status,
    statusRank: ORDER.indexOf(p.status), why: p.why, projection: p.projection, decimals: p.indicator.decimals,
    unit: SYMBOL[p.indicator.unit] ?? '', chart: p.chartSvg, targetYear: p.target.targetYear,
  }));
  const tbody = document.querySelector('#targets tbody');
  const draw = () => {
    tbody.replaceChildren();
    for (const r of rows) {
      const tr = el('tr', { 'data-code': r.code, 'data-status': r.status });
      const latest = r.latest === null ? '–' : `${fmt(r.latest, r.decimals)}${r.unit} (${r.latestYear})`;
      tr.append(el('td', {}, r.code), el('td', {}, r.name), el('td', {}, latest), el('td', { class: 'target' }, r.targetLabel));
      const [zh, en, colour] = STATUS[r.status];
      const cell = el('td', { title: r.why });
      cell.append(el('span', { class: 'status', style: `background:${colour}` }, `${zh} ${en}`), el('div', { class: 'why' }, r.why));
      const projection = r.projection === null ? '–' : `${fmt(r.projection, r.decimals)}${r.unit}`;
      tr.append(cell, el('td', {}, projection));
      tbody.append(tr);
    }
  };
  const sortBy = (key, dir) => {
    document.querySelectorAll('#targets th').forEach(h => h.removeAttribute('aria-sort'));
    const th = document.querySelector(`#targets th[data-key="${key}"]`);
    if (!th) return;
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    rows.sort((a, b) => (a[key] === null) - (b[key] === null) || (a[key] < b[key] ? -dir : a[key] > b[key] ? dir : 0));
  };
  document.querySelectorAll('#targets th').forEach(th => {
    th.querySelector('button').onclick = () => {
      const dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      setFragment({ sort: th.dataset.key, dir: dir === 1 ? 'asc' : 'desc' });
      sortBy(th.dataset.key, dir);
      draw();
    };
  });
  if (s.sort) sortBy(s.sort, s.dir);
  draw();

  const warnings = document.getElementById('warnings');
  warnings.replaceChildren();
  for (const w of data.earlyWarnings) warnings.append(el('li', { class: w.severity }, `${w.severity}: ${w.message}`));
  const charts = document.getElementById('charts');
  charts.replaceChildren();
  for (const r of rows) {
    const figure = el('figure', { 'data-code': r.code });
    figure.innerHTML = r.chart;
    charts.append(figure);
  }
}

load();
