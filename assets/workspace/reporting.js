// Reporting: what the department owes for a year (counts, deadline, a template of what is missing), a
// file dropped or chosen and previewed on a grid of its cells (problems and warnings at the cells they
// are about), submitted once the clerk has checked the warnings, and the department's submissions —
// a rejected one opens with its values to correct and send again.
import { graphql, graphqlWithFile, fillTable, done, el, showError, clearError } from './api.js';

const SUBMIT_FILE = `mutation($file: Upload!, $year: Int, $dry: Boolean, $confirm: Boolean) {
  submitFile(file: $file, year: $year, dryRun: $dry, confirmWarnings: $confirm) {
    written unchanged needsConfirmation submission { id status }
    rowErrors { row cell sheet column field value message }
    warnings { row cell kind message }
    file { name format encoding layout sheets values skipped mapped { cell given code }
           rows { cell indicator region year sex ageGroup residence value } } } }`;

const STATUS = { PENDING: '待审核 pending', APPROVED: '已通过 approved', REJECTED: '已退回 rejected' };
const LAYOUT = { template: '本系统模板 the hub\'s template', long: '长表 one row per value', wide: '宽表 one column per indicator' };
const $ = (id) => document.getElementById(id);

let department = null;
let year = null;
let chosen = null; // the file previewed, sent as is when the clerk submits

async function load() {
  const params = new URLSearchParams(window.location.search);
  const me = await graphql('{ me { department } summary { year years { year } } }');
  if (!me) return done();
  department = me.me.department;
  const years = me.summary.years.map(y => y.year);
  const next = Math.max(...years, me.summary.year) + 1;
  year = Number(params.get('year')) || me.summary.year;
  const select = $('year');
  select.replaceChildren(...[...new Set([next, ...[...years].reverse()])].map(y => {
    const o = el('option', { value: y }, String(y));
    if (y === year) o.setAttribute('selected', '');
    return o;
  }));
  select.onchange = () => { const p = new URLSearchParams(window.location.search); p.set('year', select.value); window.location.search = p; };
  const base = `/templates/${encodeURIComponent(department)}/${year}`;
  $('template-missing').href = `${base}.xlsx?missing=true`;
  $('template-all').href = `${base}.xlsx`;
  $('template-csv').href = `${base}.csv?missing=true`;
  await refresh();
  done();
}

/// What is due and the submissions, read again after every submission.
async function refresh() {
  const data = await graphql(`query($year: Int!, $dept: String!) {
    reportingDue(department: $dept, year: $year) { deadline daysLeft expected missing pending rejected approved
      indicators { indicator { code nameZh nameEn } expected missing pending rejected approved } }
    submissions(filter: { department: $dept }, first: 100) { id status rowsTotal origin submittedBy createdAt decidedBy reason }
  }`, { year, dept: department });
  if (!data) return;
  const due = data.reportingDue;
  // The department's values of the year, every status, downloaded with the session (no token in the URL).
  const exported = new URLSearchParams({
    indicators: due.indicators.map(c => c.indicator.code).join(','), from: year, to: year, version: 'latest',
  });
  $('export-xlsx').href = `/exports/observations.xlsx?${exported}`;
  $('export-csv').href = `/exports/observations.csv?${exported}`;
  const deadline = $('deadline');
  deadline.textContent = due.daysLeft >= 0
    ? `截止日期 Deadline ${due.deadline}（还有 ${due.daysLeft} 天 · ${due.daysLeft} days left）`
    : `截止日期 Deadline ${due.deadline}（已逾期 ${-due.daysLeft} 天 · ${-due.daysLeft} days overdue）`;
  deadline.classList.toggle('late', due.daysLeft < 0 && due.missing + due.rejected > 0);
  $('counts').replaceChildren(...[
    ['应报 Expected', due.expected], ['缺报 Missing', due.missing], ['待审 Pending', due.pending],
    ['退回 Rejected', due.rejected], ['已通过 Approved', due.approved],
  ].map(([label, n]) => { const t = el('div', { class: 'tile' }); t.append(el('b', {}, String(n)), el('span', {}, label)); return t; }));
  fillTable($('completeness'), due.indicators,
    c => [`${c.indicator.code} ${c.indicator.nameZh} ${c.indicator.nameEn}`, c.expected, c.missing, c.pending, c.rejected, c.approved],
    '本年度没有应报指标。Nothing is due for this year.');
  fillTable($('submissions'), data.submissions, s => {
    const status = el('span', { class: `status-${s.status}` }, STATUS[s.status] || s.status);
    let action = '';
    if (s.status === 'REJECTED') {
      action = el('button', { type: 'button', 'data-resend': s.id }, '修改后重报 Correct and resend');
      action.onclick = () => openResend(s.id);
    }
    return [s.id, status, s.rowsTotal, s.origin || '', s.submittedBy, new Date(s.createdAt).toLocaleString('zh-CN'),
      s.reason ? `退回理由 Reason: ${s.reason}` : (s.decidedBy ? `✓ ${s.decidedBy}` : ''), action];
  }, '尚无报送。No submissions yet.');
}

// --- the file: choose or drop, preview, submit -------------------------------------------------------

const drop = $('drop');
$('file').addEventListener('change', (e) => { if (e.target.files[0]) preview(e.target.files[0]); });
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer.files[0]) preview(e.dataTransfer.files[0]);
});
$('confirm').addEventListener('change', () => { $('submit').disabled = !$('confirm').checked; });
$('discard').addEventListener('click', () => { chosen = null; $('preview').hidden = true; $('file').value = ''; });
$('submit').addEventListener('click', submit);

async function preview(file) {
  clearError();
  $('outcome').textContent = '';
  chosen = file;
  const box = $('preview');
  box.hidden = false;
  box.setAttribute('aria-busy', 'true');
  $('preview-title').textContent = `正在读取 Reading ${file.name}…`;
  const data = await graphqlWithFile(SUBMIT_FILE, { year, dry: true, confirm: false }, file);
  box.removeAttribute('aria-busy');
  if (!data) { $('preview-title').textContent = `无法读取 ${file.name} · The file could not be read`; $('grid').replaceChildren(); $('submit').disabled = true; return; }
  show(data.submitFile, file);
}

function show(result, file) {
  const read = result.file;
  const problems = result.rowErrors;
  const warnings = result.warnings;
  $('preview-title').textContent = problems.length
    ? `${file.name}：${problems.length} 处需修改 · ${problems.length} cell(s) to fix — nothing was sent`
    : `${file.name}：读到 ${read ? read.values : 0} 个数值 · ${read ? read.values : 0} values read, ${result.written} new or changed, ${result.unchanged} unchanged`;
  $('preview-file').textContent = read ? [
    `格式 Format: ${read.format}${read.encoding ? ` (${read.encoding})` : ''}`,
    `布局 Layout: ${LAYOUT[read.layout] || read.layout}`,
    `工作表 Sheets: ${read.sheets.join(', ')}`,
    read.skipped ? `跳过的空行或合计行 Rows skipped (blank or 合计): ${read.skipped}` : '',
    read.mapped.length ? `名称对应代码 Names taken for codes: ${read.mapped.slice(0, 8).map(m => `${m.given} → ${m.code}`).join('，')}${read.mapped.length > 8 ? ' …' : ''}` : '',
  ].filter(Boolean).join(' · ') : '';
  $('problems-box').hidden = !problems.length;
  fillTable($('problems'), problems, p => [p.cell || `第 ${p.row + 1} 行 row ${p.row + 1}`, p.value, p.message], '');
  $('warnings-box').hidden = !warnings.length;
  $('warnings').replaceChildren(...warnings.map(w => el('li', {}, `${w.cell ? w.cell + '：' : ''}${w.message}`)));
  $('confirm').checked = false;
  $('submit').disabled = problems.length > 0 || warnings.length > 0 || !read || read.values === 0;
  grid(read ? read.rows : [], problems, warnings);
}

/// The cells of the file as a sheet shows them: values read (green), problems (red), warnings (amber).
function grid(rows, problems, warnings) {
  const sheets = new Map();
  const put = (address, entry) => {
    if (!address) return;
    const bang = address.lastIndexOf('!');
    const sheet = address.slice(0, bang);
    const m = /^([A-Z]+)(\d+)$/.exec(address.slice(bang + 1));
    if (!m) return;
    if (!sheets.has(sheet)) sheets.set(sheet, new Map());
    const key = `${m[1]}${m[2]}`;
    const cells = sheets.get(sheet);
    cells.set(key, { ...(cells.get(key) || {}), col: m[1], row: Number(m[2]), ...entry });
  };
  for (const r of rows) put(r.cell, { text: String(r.value), title: `${r.indicator} · ${r.region} · ${r.year}${[r.sex, r.ageGroup, r.residence].filter(c => c !== '_T').map(c => ' · ' + c).join('')}`, kind: 'value' });
  for (const p of problems) put(p.cell, { text: p.value, title: p.message, kind: 'problem' });
  for (const w of warnings) put(w.cell, { title: w.message, kind: 'warned' });
  const colNumber = (c) => [...c].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0);
  const tables = [];
  for (const [sheet, cells] of sheets) {
    const all = [...cells.values()];
    const cols = [...new Set(all.map(c => c.col))].sort((a, b) => colNumber(a) - colNumber(b)).slice(0, 40);
    const lines = [...new Set(all.map(c => c.row))].sort((a, b) => a - b);
    const shown = lines.slice(0, 200);
    const table = el('table', { class: 'sheet', 'data-sheet': sheet });
    table.append(el('caption', {}, `${sheet}${lines.length > shown.length ? `（显示前 ${shown.length} 行 first ${shown.length} of ${lines.length} rows）` : ''}`));
    const head = el('tr');
    head.append(el('th', { scope: 'col' }, ''), ...cols.map(c => el('th', { scope: 'col' }, c)));
    table.append(head);
    for (const line of shown) {
      const tr = el('tr');
      tr.append(el('th', { scope: 'row' }, String(line)));
      for (const col of cols) {
        const c = cells.get(`${col}${line}`);
        const td = el('td', c ? { class: c.kind, title: c.title || '', 'data-cell': `${sheet}!${col}${line}` } : {}, c ? (c.text ?? '') : '');
        tr.append(td);
      }
      table.append(tr);
    }
    tables.push(table);
  }
  $('grid').replaceChildren(...tables);
}

async function submit() {
  if (!chosen) return;
  $('submit').disabled = true;
  const data = await graphqlWithFile(SUBMIT_FILE, { year, dry: false, confirm: $('confirm').checked }, chosen);
  if (!data) { $('submit').disabled = false; return; }
  const result = data.submitFile;
  if (result.rowErrors.length || result.needsConfirmation) { show(result, chosen); return; }
  $('preview').hidden = true;
  $('file').value = '';
  chosen = null;
  $('outcome').textContent = result.submission
    ? `已提交，编号 ${result.submission.id}，等待审核。Submitted as #${result.submission.id}: ${result.written} value(s) wait for a coordinator's review.`
    : `所有数值与已存数值相同，没有新的报送。Every value equals the stored one: nothing new to review.`;
  await refresh();
}

// --- a rejected submission, corrected and sent again -------------------------------------------------

let resending = [];

async function openResend(id) {
  const data = await graphql(`query($id: ID!) { submission(id: $id) { id reason
    observations { indicator { code nameZh } region { code nameZh } year sex ageGroup residence value cell reviewComment } } }`, { id });
  if (!data || !data.submission) return;
  const s = data.submission;
  resending = s.observations;
  $('resend').hidden = false;
  $('resend-title').textContent = `退回的报送 #${s.id} · Rejected submission #${s.id}: correct the values and send them again`;
  $('resend-reason').textContent = `退回理由 Reason: ${s.reason || ''}`;
  fillTable($('resend-rows'), resending, (o, i) => {
    const input = el('input', { class: 'value', type: 'text', inputmode: 'decimal', value: String(o.value ?? ''), 'aria-label': `${o.indicator.code} ${o.region.code} 数值 value` });
    input.dataset.index = String(resending.indexOf(o));
    return [o.cell || '', `${o.indicator.code} ${o.indicator.nameZh}`, `${o.region.code} ${o.region.nameZh}`,
      [o.sex, o.ageGroup, o.residence].filter(c => c !== '_T').join(' · ') || '合计 total', input,
      o.reviewComment ? el('span', { class: 'comment' }, o.reviewComment) : ''];
  }, '');
  $('resend').scrollIntoView();
}

$('resend-close').addEventListener('click', () => { $('resend').hidden = true; });
$('resend-submit').addEventListener('click', async () => {
  const inputs = [...$('resend-rows').querySelectorAll('input.value')];
  const rows = inputs.map((input) => {
    const o = resending[Number(input.dataset.index)];
    return { indicator: o.indicator.code, region: o.region.code, year: o.year, sex: o.sex, ageGroup: o.ageGroup, residence: o.residence, value: Number(input.value.replace(/[,，]/g, '')) };
  });
  const bad = rows.findIndex(r => !Number.isFinite(r.value));
  if (bad >= 0) { showError(`第 ${bad + 1} 行的数值不是数字。Row ${bad + 1}: the value is not a number.`); return; }
  clearError();
  const data = await graphql(`mutation($rows: [ObservationInput!]!) { submitObservations(input: { rows: $rows }) {
    written unchanged submission { id status } rowErrors { row message } } }`, { rows });
  if (!data) return;
  const result = data.submitObservations;
  if (result.rowErrors.length) { showError(result.rowErrors.map(e => e.message).join('; ')); return; }
  $('resend').hidden = true;
  $('outcome').textContent = result.submission
    ? `已重新提交，编号 ${result.submission.id}，等待审核。Sent again as #${result.submission.id}: waiting for review.`
    : '数值未改变，没有新的报送。Nothing changed: nothing new to review.';
  await refresh();
});

load();
