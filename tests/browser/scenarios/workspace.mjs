// A person signs in on the development "sign in as …" page (real clicks: a department, roles, the
// button), opens a workspace path, optionally clicks some things, and reports what the page shows.
//
// args: { hub, department, roles: [...], path, waitFor (selector), clicks: [{ selector | role+name }], html }
export async function devSignIn(page, hub, department, roles, returnTo = '/') {
  await page.goto(`${hub}/signin?return_to=${encodeURIComponent(returnTo)}`);
  await page.locator(`input[name="department"][value="${department}"]`).click();
  for (const box of await page.locator('input[name="roles"]').all()) {
    const value = await box.getAttribute('value');
    if (roles.includes(value) !== await box.isChecked()) await box.click();
  }
  await page.getByRole('button', { name: /登录 Sign in/ }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
}

export default async function ({ page, args }) {
  await devSignIn(page, args.hub, args.department, args.roles, args.path);
  if (page.url() !== `${args.hub}${args.path}`) await page.goto(`${args.hub}${args.path}`);
  if (args.waitFor) await page.waitForSelector(args.waitFor);
  for (const click of args.clicks || []) {
    const target = click.selector ? page.locator(click.selector).first() : page.getByRole(click.role, { name: new RegExp(click.name) }).first();
    await target.click();
    if (click.waitFor) await page.waitForSelector(click.waitFor);
    if (click.pause) await page.waitForTimeout(click.pause);
  }
  return {
    url: page.url(),
    html: await page.content(),
    text: await page.innerText('body'),
    nav: await page.locator('header nav a').allInnerTexts(),
  };
}
