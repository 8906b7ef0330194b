// Sources: the department systems the hub pulls from.
import { graphql, fillTable, done } from './api.js';

const data = await graphql('{ sources { name kind department { code } status schedule } }');
done();
if (data) {
  fillTable(document.getElementById('sources'), data.sources,
    s => [s.name, s.kind, s.department.code, s.status, s.schedule],
    '没有数据源。No sources: add one with createSource (docs/sources.md).');
}
