// Review: the submissions waiting for a coordinator, oldest first, with what each covers and how many
// warnings its submitter confirmed; one opened beside what it would replace (the approved value now and
// last year's, the change in units and in %), its warnings at their rows, the department's completeness;
// approved, or rejected with a reason and remarks on rows that the submitter then sees. An approval that
// overlaps another pending submission says so and asks which stands. Several without warnings can be
// approved at once, each decided (and audited) on its own.
import { graphql, graphqlAnswer, fillTable, done, el, showError, clearError } from './api.js';

const $ = (id) => document.getElementById(id);
const PENDING = `{ summary { year } submissions(filter: { status: PENDING }, first: 200) {
  id department { code nameZh } rowsTotal submittedBy createdAt origin confirmedWarningCount
  indicators { code } years regions { code } } }`;
const OPEN = `query($id: ID!) { submission(id: $id) {
  id department { code nameZh nameEn } rowsTotal submittedBy createdAt origin confirmedWarnings years
  observations(first: 1000) { id indicator { code nameZh unit } region { code nameZh } year sex ageGroup residence
    value cell qualityFlag previousApproved { value } lastYearApproved { value } } } }`;
const APPROVE = `mutation($id: ID!, $over: [ID!]!) { approveSubmission(id: $id, supersedes: $over) { id status } }`;
const REJECT = `mutation($id: ID!, $reason: String!, $comments: [RowCommentInput!]!) {
  rejectSubmission(id: $id, reason: $reason, comments: $comments) { id status } }`;

let pending = [];
let open = null;


function waited(createdAt) {
  const days = Math.floor((Date.now() - new Date(createdAt).getTime()) / 86400000);
  return days < 1 ? '今天 today' : `${days} 天 days`;
}

async function load() {
  const data = await graphql(PENDING);
  if (!data) return;
  // The reports of the year the dashboard assesses; the mid-term one is the plan's (2025).
  $('report-year').href = `/reports/${data.summary.year}/annual.html`;
  $('report-midterm').href = '/reports/2025/midterm.html';
  pending = [...data.submissions].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const select = $('filter-department');
  const chosen = select.value;
  const departments = [...new Map(pending.map(s => [s.department.code, s.department])).values()];
  select.replaceChildren(el('option', { value: '' }, '全部 All'),
    ...departments.map(d => el('option', { value: d.code }, `${d.nameZh} ${d.code}`)));
  select.value = departments.some(d => d.code === chosen) ? chosen : '';
  show();
}

function show() {
  const department = $('filter-department').value;
  const warnedOnly = $('filter-warnings').checked;
  const shown = pending.filter(s => (!department || s.department.code === department)
    && (!warnedOnly || s.confirmedWarningCount > 0));
  fillTable($('pending'), shown, s => {
    const pick = el('input', { type: 'checkbox', 'data-bulk': s.id, 'aria-label': `选择 select #${s.id}` });
    if (s.confirmedWarningCount > 0) pick.disabled = true;
    pick.onchange = bulkState;
    const button = el('button', { type: 'button', 'data-open': s.id }, '审核 Review');
    button.onclick = () => openSubmission(s.id);
    const regions = s.regions.length > 3 ? `${s.regions.length} 个 regions` : s.regions.map(r => r.code).join(', ');
    return [pick, s.id, `${s.department.nameZh} ${s.department.code}`, s.indicators.map(i => i.code).join(', '),
      s.years.join(', '), regions, s.rowsTotal,
      s.confirmedWarningCount ? el('span', { class: 'warn' }, `${s.confirmedWarningCount} ⚠`) : '—',
      s.origin || '', waited(s.createdAt), button];
  }, '没有待审核的报送。Nothing is waiting for a decision.');
  bulkState();
}

function bulkState() {
  $('bulk-approve').disabled = !document.querySelector('#pending input[data-bulk]:checked');
}

$('filter-department').addEventListener('change', show);
$('filter-warnings').addEventListener('change', show);

$('bulk-approve').addEventListener('click', async () => {
  clearError();
  const ids = [...document.querySelectorAll('#pending input[data-bulk]:checked')].map(b => b.dataset.bulk);
  const lines = [];
  for (const id of ids) {
    const answer = await graphqlAnswer(APPROVE, { id, over: [] });
    const error = answer?.errors?.[0];
    lines.push(error ? `#${id}: ${error.message}` : `#${id} 已通过 approved`);
  }
  $('bulk-outcome').textContent = lines.join(' · ');
  await load();
});

// --- one submission -----------------------------------------------------------------------------

function change(now, before) {
  if (before === null || before === undefined || now === null || now === undefined) return '';
  const units = now - before;
  const percent = before !== 0 ? ` (${units >= 0 ? '+' : ''}${(100 * units / before).toFixed(1)}%)` : '';
  return `${units >= 0 ? '+' : ''}${Number(units.toFixed(4))}${percent}`;
}

async function openSubmission(id) {
  clearError();
  const data = await graphql(OPEN, { id });
  if (!data || !data.submission) return;
  open = data.submission;
  const s = open;
  $('review').hidden = false;
  $('conflict').hidden = true;
  $('decision').textContent = '';
  $('reason').value = '';
  $('only-warnings').checked = false;
  $('review-title').textContent = `报送 #${s.id} · ${s.department.nameZh} ${s.department.nameEn} · ${s.rowsTotal} 行 rows`;
  $('review-origin').textContent = `来源 From: ${s.origin || ''} · 报送人 By ${s.submittedBy} · ${new Date(s.createdAt).toLocaleString('zh-CN')}`;
  const firstYear = s.years[0];
  $('review-completeness').textContent = '';
  if (firstYear) {
    const due = await graphql(`query($d: String!, $y: Int!) { reportingDue(department: $d, year: $y) { expected missing pending rejected approved } }`,
      { d: s.department.code, y: firstYear });
    if (due) {
      const c = due.reportingDue;
      $('review-completeness').textContent = `${firstYear} 年报送完整性 Completeness: 应报 expected ${c.expected} · 缺报 missing ${c.missing} · 待审 pending ${c.pending} · 已通过 approved ${c.approved}`;
    }
  }
  rows();
  $('review').scrollIntoView();
}

/// The warnings at each cell: those the submitter confirmed, and a quality flag found on acceptance.
function warningsOf(o) {
  const confirmed = (open.confirmedWarnings?.warnings || []).filter(w => o.cell && w.cell === o.cell).map(w => w.message);
  if (o.qualityFlag) confirmed.push(o.qualityFlag === 'implausible_jump' ? '与上年相比跳变 an implausible jump against last year' : o.qualityFlag);
  return confirmed;
}

function rows() {
  const onlyWarned = $('only-warnings').checked;
  const shown = open.observations.filter(o => !onlyWarned || warningsOf(o).length);
  fillTable($('review-rows'), shown, o => {
    const warnings = warningsOf(o);
    const comment = el('input', { type: 'text', 'data-comment': o.id, 'aria-label': `行意见 comment on ${o.indicator.code} ${o.region.code} ${o.year}` });
    return [o.cell || '', `${o.indicator.code} ${o.indicator.nameZh}`, `${o.region.code} ${o.region.nameZh}`, o.year,
      [o.sex, o.ageGroup, o.residence].filter(c => c !== '_T').join(' · ') || '合计 total',
      o.value ?? '', o.previousApproved?.value ?? '—', change(o.value, o.previousApproved?.value),
      o.lastYearApproved?.value ?? '—', change(o.value, o.lastYearApproved?.value),
      warnings.length ? el('span', { class: 'warn' }, warnings.join('；')) : '', comment];
  }, '没有有警告的行。No row has a warning.');
}

$('only-warnings').addEventListener('change', () => { if (open) rows(); });
$('review-close').addEventListener('click', () => { $('review').hidden = true; open = null; });

async function approve(over) {
  clearError();
  const answer = await graphqlAnswer(APPROVE, { id: open.id, over });
  if (!answer) return;
  const error = answer.errors?.[0];
  if (error && error.extensions?.code === 'CONFLICT' && error.extensions.submissions) {
    $('conflict').hidden = false;
    $('conflict-message').textContent = `与其他待审报送重叠 It overlaps other pending submissions: ${error.message}`;
    $('supersede').onclick = () => approve(error.extensions.submissions);
    return;
  }
  if (error) { showError(error.message); return; }
  $('conflict').hidden = true;
  $('decision').textContent = `报送 #${open.id} 已通过 approved${over.length ? `；#${over.join(', #')} 已作废退回 rejected as superseded` : ''}`;
  await load();
}

$('approve').addEventListener('click', () => approve([]));
$('reject').addEventListener('click', async () => {
  clearError();
  const reason = $('reason').value.trim();
  if (!reason) { showError('请填写退回理由。Give a reason the department can act on.'); $('reason').focus(); return; }
  const comments = [...document.querySelectorAll('#review-rows input[data-comment]')]
    .filter(i => i.value.trim()).map(i => ({ observation: i.dataset.comment, text: i.value.trim() }));
  const data = await graphql(REJECT, { id: open.id, reason, comments });
  if (!data) return;
  $('decision').textContent = `报送 #${open.id} 已退回 rejected${comments.length ? `（${comments.length} 条行意见 remarks on rows）` : ''}`;
  await load();
});

await load();
done();
