// Drives Debian's headless Chromium (/usr/bin/chromium, never a downloaded browser) with
// playwright-core through lb, for tests/clients/test_chromium.py. Prints one JSON object.
//
//   node browser.mjs http://127.0.0.1:PORT
//
// Scenario: open /start (an lb redirect rule) → the Express page (two Set-Cookie headers, a
// PNG, a form) → fill and submit the form (POST, urlencoded) → 303 → the result page.
import { chromium } from 'playwright-core';

const base = process.argv[2];
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
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on('response', (r) => out.exchanges.push({
    method: r.request().method(), url: r.url(), status: r.status(),
    location: r.headers().location ?? null, type: r.headers()['content-type'] ?? null,
  }));

  const first = await page.goto(`${base}/start`, { waitUntil: 'load' });
  out.landed = { url: page.url(), status: first.status(), title: await page.title() };
  const chain = [];
  for (let r = first.request(); r; r = r.redirectedFrom()) chain.unshift(r.url());
  out.redirectChain = chain;
  out.from = await page.textContent('#from');
  out.image = await page.$eval('#img', (img) => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    return { complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
      pixel53: Array.from(g.getImageData(5, 3, 1, 1).data) };
  });
  out.cookies = (await context.cookies())
    .map(({ name, value, path, httpOnly }) => ({ name, value, path, httpOnly }))
    .sort((a, b) => a.name.localeCompare(b.name));

  await page.fill('input[name=name]', 'Jörg & Co');
  await page.fill('input[name=note]', 'a+b=c 100% ✓');
  await Promise.all([page.waitForURL('**/app/result?**', { waitUntil: 'load' }), page.click('#send')]);
  out.result = { url: page.url(), seen: JSON.parse(await page.textContent('#out')) };
} catch (err) {
  out.error = String(err && err.stack || err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
