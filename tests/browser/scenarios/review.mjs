// A statistics-bureau coordinator reviews in the browser, with real clicks: the inbox, a submission with a
// warning looked at row by row (only the rows with warnings), a remark on the row and a reason, rejected;
// a correction that overlaps an earlier pending file, approved over it once the page asks which stands;
// a clean one approved in bulk; the mid-term report opened with the session. Then the health clerk sees
// the remark on the row when correcting the rejected submission.
import { devSignIn } from './workspace.mjs';

export default async function ({ page, args }) {
  const shot = async (name, fullPage = true) => { if (args.shots) await page.screenshot({ path: `${args.shots}/${name}.png`, fullPage }); };
  await devSignIn(page, args.hub, 'statistics', ['approver'], '/review');
  await page.waitForSelector('#content:not([aria-busy])');
  await page.waitForSelector('#pending tbody button[data-open]');
  const inbox = await page.innerText('#pending');
  await shot('review-inbox');

  await page.locator(`button[data-open="${args.warned}"]`).click();
  await page.waitForFunction(id => document.getElementById('review-title').textContent.includes(`#${id}`), args.warned);
  await page.waitForFunction(() => document.getElementById('review-completeness').textContent.length > 0);
  const completeness = await page.innerText('#review-completeness');
  await page.getByLabel(/只看有警告的行/).check();
  const warnedRows = await page.innerText('#review-rows');
  await page.locator('#review-rows input[data-comment]').first().fill(args.comment);
  await page.getByLabel(/退回理由/).fill(args.reason);
  await shot('review-submission');
  await page.getByRole('button', { name: /退回 Reject/ }).click();
  await page.waitForFunction(() => /已退回/.test(document.getElementById('decision').textContent));
  const rejected = await page.innerText('#decision');

  await page.locator(`button[data-open="${args.correction}"]`).click();
  await page.waitForFunction(id => document.getElementById('review-title').textContent.includes(`#${id}`), args.correction);
  await page.getByRole('button', { name: /^通过 Approve$/ }).click();
  await page.waitForSelector('#conflict:not([hidden])');
  const conflict = await page.innerText('#conflict-message');
  await page.getByRole('button', { name: /以本报送为准/ }).click();
  await page.waitForFunction(() => /已通过/.test(document.getElementById('decision').textContent));
  const approved = await page.innerText('#decision');

  await page.locator(`input[data-bulk="${args.clean}"]`).check();
  await page.getByRole('button', { name: /批量通过/ }).click();
  await page.waitForFunction(() => /已通过/.test(document.getElementById('bulk-outcome').textContent));
  const bulk = await page.innerText('#bulk-outcome');
  await page.waitForFunction(() => !document.querySelector('#pending tbody button[data-open]'));
  const inboxAfter = await page.innerText('#pending');

  await page.getByRole('link', { name: /中期评估报告/ }).click();
  await page.waitForLoadState('load');
  const reportUrl = page.url();
  const report = await page.innerText('body');
  await shot('report-midterm', false);

  await devSignIn(page, args.hub, 'health', ['submitter'], '/reporting?year=2026');
  await page.waitForSelector(`button[data-resend="${args.warned}"]`);
  await page.locator(`button[data-resend="${args.warned}"]`).click();
  await page.waitForSelector('#resend:not([hidden]) #resend-rows tbody tr');
  const resend = await page.innerText('#resend');
  await shot('reporting-remark');
  if (args.shots) {
    await page.goto(`${args.hub}/`);
    await page.waitForSelector('#content:not([aria-busy])');
    await shot('dashboard', false);
    await page.locator('#township-target').scrollIntoViewIfNeeded();
    await page.waitForSelector('#breakdown .bar');
    await shot('dashboard-townships', false);
  }
  return { inbox, completeness, warnedRows, rejected, conflict, approved, bulk, inboxAfter, reportUrl, report, resend };
}
