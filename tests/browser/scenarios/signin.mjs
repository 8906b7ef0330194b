// A person signs in with the city's identity provider, uses the workspace, is renewed silently, signs out.
//
// args: { hub, user, room, waitForRenewal (ms) }
export default async function ({ page, args }) {
  const out = {};
  // A bookmark to a room, before signing in: the hub sends the browser to the provider.
  await page.goto(`${args.hub}${args.room}`);
  await page.waitForSelector('input[name="login"]');
  out.loginPage = page.url();
  await page.locator('input[name="login"]').click();
  await page.keyboard.type(args.user);
  await page.locator('input[name="password"]').click();
  await page.keyboard.type('any password: the test provider checks none');
  await page.locator('button[type="submit"]').click();
  // Back on the hub, in the room that was asked for.
  await page.waitForURL(`${args.hub}${args.room}`);
  await page.waitForSelector('#who-name');
  out.landed = page.url();
  out.name = await page.innerText('#who-name');
  out.department = await page.innerText('#who-department');
  out.roles = await page.innerText('#who-roles');
  out.nav = await page.locator('header nav a').allInnerTexts();
  out.cookies = (await page.context().cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite, domain: c.domain }));
  // A script on the page cannot read the session.
  out.scriptSeesCookie = await page.evaluate(() => document.cookie);

  if (args.waitForRenewal) {
    // The access token lives shorter than this wait: the next clicks work only if the hub renews it.
    await page.waitForTimeout(args.waitForRenewal);
  }
  await page.getByRole('link', { name: /监测概览/ }).click();
  await page.waitForURL(`${args.hub}/`);
  await page.waitForSelector('#tiles .tile');
  out.tiles = await page.locator('#tiles .tile').count();
  // The back button returns to the room.
  await page.goBack();
  await page.waitForURL(`${args.hub}${args.room}`);
  out.back = page.url();

  // Sign out: the hub's session ends, then the provider's (its confirmation page), then /signed-out.
  await page.getByRole('button', { name: /退出/ }).click();
  const confirm = page.getByRole('button', { name: /yes/i });
  await confirm.waitFor();
  out.providerLogoutPage = page.url().split('?')[0];
  await confirm.click();
  await page.waitForURL(`${args.hub}/signed-out`);
  out.signedOut = await page.innerText('main');
  // Signed out everywhere: the room asks for a sign-in at the provider again (no silent sign-in).
  await page.goto(`${args.hub}${args.room}`);
  await page.waitForSelector('input[name="login"]');
  out.afterSignOut = page.url().split('?')[0];
  return out;
}
