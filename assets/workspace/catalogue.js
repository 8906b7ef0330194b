// Catalogue: the indicators the admin's department may manage or read.
import { graphql, fillTable, done } from './api.js';

const data = await graphql('{ indicators { code nameZh nameEn unit sensitivity ownerDepartment { code nameZh } } }');
done();
if (data) {
  fillTable(document.getElementById('indicators'), data.indicators,
    i => [i.code, `${i.nameZh} ${i.nameEn}`, i.unit, `${i.ownerDepartment.nameZh} ${i.ownerDepartment.code}`, i.sensitivity],
    '没有指标。No indicators.');
}
