// Webhooks: the endpoints that hear of changes.
import { graphql, fillTable, done } from './api.js';

const data = await graphql('{ webhooks { url description kinds status } }');
done();
if (data) {
  fillTable(document.getElementById('webhooks'), data.webhooks,
    w => [w.url, w.description, (w.kinds || []).join(', ') || '全部 all', w.status],
    '没有推送地址。No webhooks: add one with createWebhook (docs/events.md).');
}
