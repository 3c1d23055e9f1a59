// Drives Debian's headless Chromium with playwright-core through lb's web console, for
// tests/clients/test_console_browser.py. Prints one JSON object.
//
//   node console_browser.mjs CONSOLE_URL LB_URL SCREENSHOT_DIR
//
// Scenario: open the console and wait for its live stream; send requests through lb (from
// Node, with a marker header) and see them appear live; open one with the keyboard and
// find the marker in the event the function received; explain a URL with the form; look
// at the functions and charts; screenshots in light and dark.
import { chromium } from 'playwright-core';

const [console_, lb, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout: 60000,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps',
    '--disable-extensions', '--disable-dev-shm-usage', '--no-proxy-server'],
});
const out = {};
const outside = [];
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  // Everything the page loads must come from the console itself: no CDN, works offline.
  page.on('request', (r) => { if (!r.url().startsWith(console_)) outside.push(r.url()); });
  await page.goto(`${console_}/`, { waitUntil: 'load' });
  out.title = await page.title();
  await page.waitForSelector('#live.on');

  const send = (path, marker) => fetch(`${lb}${path}`, { headers: { 'X-Marker': marker, 'Authorization': 'Bearer hidden-token' } });
  const first = await send('/fn/page?n=1', 'browser-marker-1');
  out.firstStatus = first.status;
  await send('/nowhere', 'browser-marker-2');
  // Both appear live, newest first, without reloading the page.
  await page.waitForSelector('#requests tbody tr:has-text("/nowhere")');
  out.rows = await page.$$eval('#requests tbody tr', (trs) => trs.map((tr) => tr.children[3].textContent));

  // Keyboard: the second row (j from the first) is /fn/page?n=1; Enter opens it.
  await page.locator('#requests tbody tr').first().focus();
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#detail h3:has-text("Event sent")');
  out.detailTitle = await page.textContent('#detail h2');
  const blocks = await page.$$eval('#detail h3', (hs) => hs.map((h) => [h.textContent, h.nextElementSibling.textContent]));
  out.event = (blocks.find(([t]) => t.startsWith('Event sent')) || [])[1] || '';
  out.log = (blocks.find(([t]) => t.startsWith('Function log')) || [])[1] || '';
  out.detailText = await page.textContent('#detail');
  await page.screenshot({ path: `${shots}/console-light.png` });

  // Replay from the detail view: a new row arrives live.
  const before = await page.locator('#requests tbody tr').count();
  await page.click('#replay');
  await page.waitForSelector('#replayed:has-text("replayed")');
  await page.waitForFunction((n) => document.querySelectorAll('#requests tbody tr').length > n, before);
  out.replayed = await page.textContent('#replayed');
  await page.keyboard.press('Escape');
  out.detailHidden = await page.$eval('#detail', (d) => d.hidden);

  // The explain form (view 6).
  await page.keyboard.press('6');
  await page.fill('#explain input[name=url]', `${lb}/fn/x?y=1`);
  await page.fill('#explain textarea', 'X-Env: beta');
  await page.click('#explain button');
  await page.waitForSelector('#explain-out:has-text("matched")');
  out.explain = await page.textContent('#explain-out');

  // Rules with hits, functions, charts.
  await page.keyboard.press('2');
  await page.waitForSelector('#view-rules table');
  out.rules = await page.textContent('#view-rules');
  await page.keyboard.press('4');
  await page.waitForSelector('#view-functions .card');
  out.functions = await page.textContent('#view-functions');
  await page.keyboard.press('5');
  await page.waitForSelector('#view-charts svg.chart polyline');
  out.charts = await page.$$eval('#view-charts h3', (hs) => hs.map((h) => h.textContent));
  await page.screenshot({ path: `${shots}/console-charts.png` });

  await page.emulateMedia({ colorScheme: 'dark' });
  await page.keyboard.press('1');
  await page.waitForSelector('#requests tbody tr');
  out.darkBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.screenshot({ path: `${shots}/console-dark.png` });
} catch (err) {
  out.error = String(err && err.stack || err);
} finally {
  out.outside = outside;
  await browser.close();
}
console.log(JSON.stringify(out));
