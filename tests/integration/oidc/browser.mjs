// Logs in through lb's authenticate-oidc with Debian's headless Chromium (playwright-core),
// for tests/integration/test_oidc_provider.py. Prints one JSON object.
//
//   node browser.mjs https://localhost:PORT/app/page?x=1
//
// Chromium follows lb's 302 to the provider, the provider's redirects, the callback at
// /oauth2/idpresponse and lb's 302 back, then shows the target's answer; a second visit
// rides on the session cookie alone. lb's certificate comes from the test's own CA, so the
// context ignores certificate errors (as a developer's browser told to trust it would).
import { chromium } from 'playwright-core';

const url = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout: 60000,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps',
    '--disable-extensions', '--disable-dev-shm-usage', '--no-proxy-server'],
});
const out = { exchanges: [] };
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.on('response', (r) => out.exchanges.push({
    url: r.url(), status: r.status(), location: r.headers().location ?? null,
  }));
  const first = await page.goto(url, { waitUntil: 'load' });
  out.landed = { url: page.url(), status: first.status(), body: await first.text() };
  out.cookies = (await context.cookies())
    .map(({ name, domain, path, httpOnly, secure }) => ({ name, domain, path, httpOnly, secure }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const again = await page.goto(url, { waitUntil: 'load' });
  out.again = { url: page.url(), status: again.status(), body: await again.text(),
    redirected: again.request().redirectedFrom() !== null };
} catch (err) {
  out.error = String(err && err.stack || err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
