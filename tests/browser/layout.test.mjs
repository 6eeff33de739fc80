// Layout and access: no horizontal scrolling at 390 px, every control labelled, keyboard-only use,
// and screenshots (desktop 1440 wide, phone 390 wide) in build/screenshots/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  countCells,
  launchBrowser,
  openPage,
  screenshotPath,
  settleAnimations,
  startHelix,
  textOf,
} from './helpers.mjs';

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

async function show(page) {
  await page.goto(`${server.url}/comparison`);
  await page.locator('#model-hint .badge').waitFor();
  await page.getByRole('button', { name: 'Show Memory Comparison' }).click();
  await page.getByTestId('results').waitFor();
  await settleAnimations(page);
}

test('desktop 1440: screenshot, no console errors', async () => {
  const { page, errors } = await openPage(browser.context, { width: 1440, height: 900 });
  await show(page);
  assert.equal(await countCells(page, 'used'), 8);
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(width <= 1440, `scrollWidth ${width}`);
  await page.screenshot({ path: screenshotPath('comparison-desktop-1440.png'), fullPage: true });
  await page.close();
  assert.deepEqual(errors, []);
});

test('phone 390: no horizontal overflow, grid of 32 columns, screenshot', async () => {
  const { page, errors } = await openPage(browser.context, { width: 390, height: 844 });
  await show(page);
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(width <= 390, `scrollWidth ${width} > 390`);
  assert.equal(await page.getByTestId('block-grid').getAttribute('data-columns'), '32');
  assert.equal(await page.getByTestId('block-grid').getAttribute('data-rows'), '32');
  assert.equal(await textOf(page, 'traditional-value'), '44.00 MiB');
  await page.screenshot({ path: screenshotPath('comparison-phone-390.png'), fullPage: true });
  await page.close();
  assert.deepEqual(errors, []);
});

test('every control has a label', async () => {
  const { page } = await openPage(browser.context);
  await page.goto(`${server.url}/comparison`);
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, button, textarea')]
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unlabelled, []);
  await page.close();
});

test('keyboard only: Tab to the button, Enter shows the figures', async () => {
  const { page, errors } = await openPage(browser.context);
  await page.goto(`${server.url}/comparison`);
  await page.locator('#model-hint .badge').waitFor();
  let focused = '';
  for (let i = 0; i < 30 && focused !== 'Show Memory Comparison'; ++i) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
  }
  assert.equal(focused, 'Show Memory Comparison');
  await page.keyboard.press('Enter');
  await page.getByTestId('results').waitFor();
  assert.equal(await textOf(page, 'paged-value'), '2.75 MiB');
  await page.close();
  assert.deepEqual(errors, []);
});
