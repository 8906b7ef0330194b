// Reporting: what the department owes for a year and its submissions (the upload comes with issue 21).
import { graphql, fillTable, done, el } from './api.js';

async function load() {
  const params = new URLSearchParams(window.location.search);
  const me = await graphql('{ me { department } summary { year years { year } } }');
  if (!me) return done();
  const select = document.getElementById('year');
  const years = me.summary.years.map(y => y.year);
  const next = Math.max(...years, me.summary.year) + 1;
  const year = Number(params.get('year')) || me.summary.year;
  select.replaceChildren(...[next, ...[...years].reverse()].map(y => {
    const o = el('option', { value: y }, String(y));
    if (y === year) o.setAttribute('selected', '');
    return o;
  }));
  select.onchange = () => { const p = new URLSearchParams(window.location.search); p.set('year', select.value); window.location.search = p; };
  const data = await graphql(`query($year: Int!, $dept: String!) {
    reportingCompleteness(year: $year) { department { code } indicator { code nameZh nameEn } reported }
    submissions(filter: { department: $dept }, first: 100) { id status rowsTotal submittedBy createdAt decidedBy reason }
  }`, { year, dept: me.me.department });
  done();
  if (!data) return;
  const mine = data.reportingCompleteness.filter(c => c.department.code === me.me.department);
  fillTable(document.getElementById('completeness'), mine,
    c => [`${c.indicator.code} ${c.indicator.nameZh} ${c.indicator.nameEn}`, c.reported ? '已报 reported' : '未报 missing'],
    '本年度没有应报指标。Nothing is due for this year.');
  fillTable(document.getElementById('submissions'), data.submissions,
    s => [s.id, s.status, s.rowsTotal, s.submittedBy, new Date(s.createdAt).toLocaleString('zh-CN'), s.reason || (s.decidedBy ? `✓ ${s.decidedBy}` : '')],
    '尚无报送。No submissions yet.');
}
load();
