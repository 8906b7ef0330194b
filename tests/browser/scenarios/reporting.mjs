// A health-bureau clerk reports a year from the Reporting page, with real clicks: downloads the template
// of what is missing, fills it (openpyxl, as Excel would save it) with one value typed as words, chooses
// the file, sees the problem at its cell, fixes the spreadsheet, chooses it again, confirms any warning,
// submits, and sees the submission pending in the list.
//
// args: { hub, dir (a scratch folder), script (tests/fixtures/spreadsheets.py), shots (a folder for
// screenshots of the page with a problem and after submitting, when given) }
import { execFileSync } from 'node:child_process';
import { devSignIn } from './workspace.mjs';

async function choose(page, path) {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByText('选择文件 Choose a file').click(),
  ]);
  await chooser.setFiles(path);
}

export default async function ({ page, args }) {
  await devSignIn(page, args.hub, 'health', ['submitter'], '/reporting?year=2026');
  await page.waitForSelector('#counts .tile');
  await page.waitForSelector('#content:not([aria-busy])');
  const counts = await page.innerText('#counts');
  const deadline = await page.innerText('#deadline');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /缺报项模板/ }).click(),
  ]);
  const template = `${args.dir}/template.xlsx`;
  await download.saveAs(template);
  const fill = (out, ...cells) => execFileSync('python3', [args.script, 'fill', template, `${args.dir}/${out}`, ...cells]);

  fill('bad.xlsx', 'HEA-06|_T|_T|_T@DEMO-T01=九十七', 'HEA-06|_T|_T|_T@DEMO-T02=98.5');
  await choose(page, `${args.dir}/bad.xlsx`);
  await page.waitForSelector('#problems tbody tr');
  const problems = await page.innerText('#problems');
  const marked = await page.locator('#grid td.problem').first().getAttribute('data-cell');
  const blocked = await page.locator('#submit').isDisabled();
  if (args.shots) await page.screenshot({ path: `${args.shots}/reporting-problem.png`, fullPage: true });

  fill('good.xlsx', 'HEA-06|_T|_T|_T@DEMO-T01=97.9', 'HEA-06|_T|_T|_T@DEMO-T02=98.5');
  await choose(page, `${args.dir}/good.xlsx`);
  await page.waitForFunction(() => document.getElementById('problems-box').hidden
    && !document.getElementById('preview').hasAttribute('aria-busy')
    && /values read/.test(document.getElementById('preview-title').textContent));
  const preview = await page.innerText('#preview');
  if (await page.locator('#warnings-box').isVisible()) await page.getByLabel(/I have checked these/).click();
  await page.getByRole('button', { name: /提交审核 Submit for review/ }).click();
  await page.waitForFunction(() => /已提交/.test(document.getElementById('outcome').textContent));
  const outcome = await page.innerText('#outcome');
  await page.waitForSelector('#submissions .status-PENDING');
  if (args.shots) await page.screenshot({ path: `${args.shots}/reporting-submitted.png`, fullPage: true });
  // The values just sent, as a workbook for Excel, with the session.
  const [exported] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Excel (.xlsx)' }).click(),
  ]);
  const exportedPath = `${args.dir}/exported.xlsx`;
  await exported.saveAs(exportedPath);
  return {
    exported: exportedPath, exportedName: exported.suggestedFilename(),
    counts, deadline, suggested: download.suggestedFilename(), problems, marked, blocked, preview, outcome,
    submissions: await page.innerText('#submissions'),
    countsAfter: await page.innerText('#counts'),
  };
}
