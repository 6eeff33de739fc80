// When the API cannot be reached the page says so (and what it tried), and never spins forever.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, launchBrowser, openPage, startHelix } from './helpers.mjs';

let server;
let browser;

before(async () => {
  server = await startHelix();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function expectUnreachable(page) {
  const box = page.getByTestId('comparison-error');
  await box.waitFor({ timeout: 15000 });
  const text = await box.textContent();
  assert.match(text, /GET \/compare\/memory failed: API unreachable/);
  assert.match(text, /could not reach the server/);
  assert.equal(await page.locator('.spinner').count(), 0);
  assert.equal(await page.getByTestId('results').count(), 0);
}

test('an API on a dead port (?api=) gives a visible error, not a spinner', async () => {
  const deadPort = await freePort(); // free now, nobody listening
  const { page } = await openPage(browser.context);
  await page.goto(`${server.url}/comparison?api=http://127.0.0.1:${deadPort}`);
  await page.getByRole('button', { name: 'Show Memory Comparison' }).click();
  await expectUnreachable(page);
  assert.match(await page.getByTestId('comparison-error').textContent(), new RegExp(`127\\.0\\.0\\.1:${deadPort}`));
  // The preset list failed the same way and says so beside the model select.
  assert.match(await page.locator('#model-hint').textContent(), /GET \/models\/presets failed/);
  await page.close();
});

test('a server stopped after the page loaded gives a visible error', async () => {
  const own = await startHelix();
  const { page } = await openPage(browser.context);
  await page.goto(`${own.url}/comparison`);
  await page.locator('#model-hint .badge').waitFor(); // presets loaded
  await own.stop();
  await page.getByRole('button', { name: 'Show Memory Comparison' }).click();
  await expectUnreachable(page);
  await page.close();
});
