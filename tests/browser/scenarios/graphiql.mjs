// An analyst in GraphiQL, with every host but the hub unresolvable (a city intranet): signs in, clicks
// Run on the default query, opens the docs explorer and the Query type.
import { devSignIn } from './workspace.mjs';

export default async function ({ page, args }) {
  await devSignIn(page, args.hub, args.department, args.roles, '/graphiql');
  await page.waitForSelector('.graphiql-execute-button');
  await page.waitForSelector('.graphiql-editor');
  await page.locator('.graphiql-execute-button').click();
  await page.waitForFunction(() => /"(data|errors)"/.test(document.querySelector('.result-window')?.innerText || ''));
  const result = await page.locator('.result-window').innerText();
  await page.getByRole('button', { name: /Documentation/ }).first().click();
  await page.waitForSelector('.graphiql-doc-explorer');
  await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().click();
  await page.waitForFunction(() => (document.querySelector('.graphiql-doc-explorer')?.innerText || '').includes('indicators'));
  const fields = await page.locator('.graphiql-doc-explorer').innerText();
  return { result, fields };
}
