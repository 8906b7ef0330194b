// Review: the submissions waiting for a coordinator's decision, oldest first (issue 22 adds the review).
import { graphql, fillTable, done } from './api.js';

const data = await graphql('{ submissions(filter: { status: PENDING }, first: 200) { id department { code nameZh } rowsTotal submittedBy createdAt } }');
done();
if (data) {
  const pending = [...data.submissions].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  fillTable(document.getElementById('pending'), pending,
    s => [s.id, `${s.department.nameZh} ${s.department.code}`, s.rowsTotal, s.submittedBy, new Date(s.createdAt).toLocaleString('zh-CN')],
    '没有待审核的报送。Nothing is waiting for a decision.');
}
