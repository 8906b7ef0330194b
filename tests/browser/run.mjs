// Runs one browser scenario (scenarios/<name>.mjs) in Debian's Chromium through Playwright, with real
// clicks and typing, and prints one JSON line: {"ok": true, "result": …} or {"ok": false, "error": …,
// "url": …, "text": …}. The Rust tests (tests/support/browser.rs) start the hub and read that line.
//
// node run.mjs <scenario> '<json arguments>'
import { chromium } from 'playwright-core';

const [name, json] = process.argv.slice(2);
const args = JSON.parse(json || '{}');
const scenario = (await import(`./scenarios/${name}.mjs`)).default;
const browser = await chromium.launch({
  executablePath: process.env.CHILDHUB_CHROMIUM || '/usr/bin/chromium',
  // What this machine's Chromium needs headless as root, without its background calls home.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', ...(args.chromiumArgs || [])],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', acceptDownloads: true });
context.setDefaultTimeout(args.timeout || 30000);
const page = await context.newPage();
// Every URL the browser went to: the tests check no token ever appears in one.
const visited = [];
page.on('request', (request) => visited.push(request.url()));
// Script errors of the page, reported with a failure.
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
try {
  const result = await scenario({ page, context, browser, args, visited });
  console.log(JSON.stringify({ ok: true, result, visited }));
} catch (e) {
  const text = await page.innerText('body').catch(() => '');
  console.log(JSON.stringify({ ok: false, error: String(e.stack || e) + (pageErrors.length ? `\npage errors: ${pageErrors.join('; ')}` : ''), url: page.url(), text: text.slice(0, 3000), visited }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
