// The ways sign-in must refuse, each as a person meets it in the browser.
//
// args: { hub, mode, user, plant }
//   mode "replay":   sign in, then open the provider's answer (the callback URL) a second time
//   mode "refused":  sign in as `user` and report the page the hub shows (wrong audience, no department)
//   mode "fixation": plant a session cookie before signing in; report the cookie afterwards
//   mode "forged":   start a sign-in, then arrive at the callback with another state
async function signIn(page, args, user) {
  await page.goto(`${args.hub}/signin?return_to=${encodeURIComponent(args.returnTo || '/')}`);
  await page.waitForSelector('input[name="login"]');
  await page.locator('input[name="login"]').click();
  await page.keyboard.type(user);
  await page.locator('input[name="password"]').click();
  await page.keyboard.type('secret');
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.toString().startsWith(args.hub) && !url.pathname.startsWith('/signin/callback'), { waitUntil: 'load' }).catch(() => {});
  await page.waitForLoadState('load');
}

export default async function ({ page, context, args }) {
  const callbacks = [];
  page.on('request', (r) => { if (r.url().includes('/signin/callback')) callbacks.push(r.url()); });
  if (args.mode === 'replay') {
    await signIn(page, args, args.user);
    const landed = page.url();
    await page.goto(callbacks[0]);
    return { landed, callback: callbacks[0].split('?')[0], text: await page.innerText('main'), title: await page.title() };
  }
  if (args.mode === 'refused') {
    await signIn(page, args, args.user);
    return { url: page.url(), text: await page.innerText('main') };
  }
  if (args.mode === 'fixation') {
    const host = new URL(args.hub).hostname;
    await context.addCookies([{ name: 'childhub', value: args.plant, domain: host, path: '/', httpOnly: true }]);
    await signIn(page, args, args.user);
    const cookie = (await context.cookies(args.hub)).find((c) => c.name === 'childhub');
    return { url: page.url(), cookie: cookie && cookie.value, who: await page.innerText('#who-name').catch(() => null) };
  }
  if (args.mode === 'forged') {
    await page.goto(`${args.hub}/signin`);
    await page.waitForSelector('input[name="login"]');
    await page.goto(`${args.hub}/signin/callback?code=made-up&state=forged-by-an-attacker`);
    return { url: page.url(), text: await page.innerText('main') };
  }
  if (args.mode === 'room') {
    // Open a room with the cookies the context already has (set by the test) and report the page.
    await context.addCookies([{ name: 'childhub', value: args.cookie, domain: new URL(args.hub).hostname, path: '/', httpOnly: true }]);
    await page.goto(`${args.hub}${args.room}`);
    return { url: page.url(), text: await page.innerText('main') };
  }
  throw new Error(`unknown mode ${args.mode}`);
}
