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
  progress(filter: { year: $year }) { indicator { code nameZh nameEn decimals unit dimensions } status latest { year value }
    targetValue targetLabel why projection chartSvg target { kind targetYear }
    townships { region { code nameZh } status latest { year value } belowFloor } }
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
  return { year, sort: fragment.get('sort'), dir: fragment.get('dir') === 'desc' ? -1 : 1, township: fragment.get('township'),
    breakdown: fragment.get('breakdown') };
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

  townshipView(data.progress);
  breakdownView(data.progress, sum.region.code);

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

/// Fills the select `id` with the targets' indicators, keeping the one chosen (from the fragment, or
/// before a reload), else the first; returns the select.
function chooser(id, targets, fromFragment) {
  const select = document.getElementById(id);
  const chosen = fromFragment || select.value || (targets[0] && targets[0].indicator.code);
  select.replaceChildren(...targets.map(p => {
    const o = el('option', { value: p.indicator.code }, `${p.indicator.code} ${p.indicator.nameZh} ${p.indicator.nameEn}`);
    if (p.indicator.code === chosen) o.setAttribute('selected', '');
    return o;
  }));
  return select;
}

// --- by township: every township's value, target and status for one per-township target, as a table
// (sortable) and a grid of tiles in status colours.
function townshipView(progress) {
  const targets = progress.filter(p => p.townships.length);
  const select = chooser('township-target', targets, state().township);
  select.onchange = () => { setFragment({ township: select.value }); show(); };
  let sort = { key: 'below', dir: -1 };
  const show = () => {
    const p = targets.find(t => t.indicator.code === select.value);
    if (!p) return;
    const unit = SYMBOL[p.indicator.unit] ?? '';
    const rows = p.townships.map(t => ({
      code: t.region.code, name: t.region.nameZh, value: t.latest ? t.latest.value : null, year: t.latest ? t.latest.year : null,
      status: t.status, statusRank: ORDER.indexOf(t.status), below: t.belowFloor ? 1 : 0,
    }));
    rows.sort((a, b) => (a[sort.key] === null) - (b[sort.key] === null)
      || (a[sort.key] < b[sort.key] ? -sort.dir : a[sort.key] > b[sort.key] ? sort.dir : 0) || a.code.localeCompare(b.code));
    const grid = document.getElementById('township-grid');
    grid.replaceChildren(...rows.map(r => {
      const [zh, en, colour] = STATUS[r.status];
      const tile = el('div', { class: `township${r.below ? ' below' : ''}`, role: 'listitem', style: `background:${colour}`,
        'data-township': r.code, title: `${zh} ${en}` });
      tile.append(el('b', {}, `${r.code} ${r.name}`), el('br'), document.createTextNode(r.value === null ? '–' : `${fmt(r.value, p.indicator.decimals)}${unit}`));
      return tile;
    }));
    const tbody = document.querySelector('#townships tbody');
    tbody.replaceChildren(...rows.map(r => {
      const [zh, en, colour] = STATUS[r.status];
      const tr = el('tr', { 'data-township': r.code });
      const status = el('td');
      status.append(el('span', { class: 'status', style: `background:${colour}` }, `${zh} ${en}`));
      tr.append(el('td', {}, `${r.code} ${r.name}`), el('td', {}, r.value === null ? '–' : `${fmt(r.value, p.indicator.decimals)}${unit} (${r.year})`),
        el('td', { class: 'target' }, p.targetLabel), status, el('td', { class: r.below ? 'bad' : '' }, r.below ? '是 yes' : '否 no'));
      return tr;
    }));
    document.querySelectorAll('#townships th').forEach(th => {
      th.setAttribute('aria-sort', th.dataset.key === sort.key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none');
      const button = th.querySelector('button');
      if (button) button.onclick = () => { sort = { key: th.dataset.key, dir: sort.key === th.dataset.key ? -sort.dir : 1 }; show(); };
    });
  };
  show();
}

// --- breakdowns: the latest values of boys and girls, urban and rural, at the city, for an indicator
// that has them.
function breakdownView(progress, city) {
  const targets = progress.filter(p => p.indicator.dimensions.some(d => d === 'SEX' || d === 'RESIDENCE'));
  const select = chooser('breakdown-target', targets, state().breakdown);
  const show = () => {
    const p = targets.find(t => t.indicator.code === select.value);
    if (p) breakdown(p, city, SYMBOL[p.indicator.unit] ?? '');
  };
  select.onchange = () => { setFragment({ breakdown: select.value }); show(); };
  show();
}

async function breakdown(p, city, unit) {
  const box = document.getElementById('breakdown');
  box.replaceChildren();
  const data = await graphql(`query($code: String!, $r: String!) { indicator(code: $code) { dimensions
    boys: latest(region: $r, sex: "M") { year value } girls: latest(region: $r, sex: "F") { year value }
    urban: latest(region: $r, residence: "U") { year value } rural: latest(region: $r, residence: "R") { year value } } }`,
    { code: p.indicator.code, r: city });
  const i = data && data.indicator;
  if (!i) return;
  const groups = [];
  if (i.dimensions.includes('SEX')) groups.push(['性别 Sex', [['男童 Boys', i.boys], ['女童 Girls', i.girls]]]);
  if (i.dimensions.includes('RESIDENCE')) groups.push(['城乡 Urban / rural', [['城镇 Urban', i.urban], ['农村 Rural', i.rural]]]);
  if (!groups.length) return;
  const top = Math.max(...groups.flatMap(([, pairs]) => pairs.map(([, v]) => v ? Math.abs(v.value) : 0)), 1);
  box.append(el('h3', {}, `${p.indicator.code} 分组 Breakdowns`));
  for (const [label, pairs] of groups) {
    box.append(el('h4', {}, label));
    for (const [name, v] of pairs) {
      const bar = el('div', { class: 'bar', 'data-group': name });
      const fill = el('span', { class: 'fill', style: `width:${v ? Math.round(240 * Math.abs(v.value) / top) : 0}px` });
      bar.append(el('span', {}, name), fill, el('span', {}, v ? `${fmt(v.value, p.indicator.decimals)}${unit} (${v.year})` : '–'));
      box.append(bar);
    }
  }
}

load();
