// The Speculative Decoding section against the real `helix serve -m stories260K.gguf`: the button runs
// GET /compare/speculative and the page shows that very answer (tokens/s, speedup, one highlighted span per
// accepted draft); errors are shown, not spun on; desktop and phone screenshots in build/screenshots/.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  freePort,
  launchBrowser,
  openPage,
  ROOT,
  screenshotPath,
  settleAnimations,
  startHelix,
  textOf,
} from './helpers.mjs';

const SHARED = process.env.HELIX_SHARED_DIR || path.join(ROOT, '..', 'shared');
const MODEL = path.join(SHARED, 'models', 'stories260K', 'stories260K.gguf');
const RUN = 'Run Speculative Comparison';

let server; // with a model
let bare; // without one: /compare/speculative answers 503
let browser;

before(async () => {
  server = await startHelix({ args: ['-m', MODEL] });
  bare = await startHelix();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await bare?.stop();
});

// The page's number formats: 1490.14 -> "1,490.1 tok/s", 1.8 -> "1.80x".
const fmtTps = (v) => `${v.toFixed(1).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} tok/s`;
const fmtSpeedup = (v) => `${v.toFixed(2)}x`;

// Clicks the button and returns the JSON the page received.
async function runComparison(page) {
  const answered = page.waitForResponse((r) => r.url().includes('/compare/speculative?'), { timeout: 60000 });
  await page.getByRole('button', { name: RUN }).click();
  const response = await answered;
  assert.equal(response.status(), 200, await response.text());
  const body = await response.json();
  await page.getByTestId('spec-results').waitFor({ timeout: 10000 });
  return body;
}

async function draftSpans(page) {
  return page.locator('[data-testid="spec-text"] [data-source="draft"]').count();
}

describe('speculative decoding section', () => {
  test('desktop: first on the page, shows the server figures, one highlighted span per accepted draft', async () => {
    const { page, errors } = await openPage(browser.context, { width: 1440, height: 900 });
    await page.goto(`${server.url}/comparison`);
    const specTop = (await page.locator('#spec-title').boundingBox()).y;
    const memoryTop = (await page.locator('#comparison-title').boundingBox()).y;
    assert.ok(specTop < memoryTop, `speculative at y=${specTop}, memory at y=${memoryTop}`);

    const api = await runComparison(page);
    assert.equal(api.model, 'stories260K');
    assert.equal(api.method, 'ngram');
    assert.ok(api.baseline.tokens_per_second > 0 && api.speculative.tokens_per_second > 0);
    assert.equal(api.identical, true);
    assert.ok(api.speculative.accepted > 0, 'the repetitive default prompt should let prompt lookup land drafts');

    assert.equal(await textOf(page, 'spec-baseline-value'), fmtTps(api.baseline.tokens_per_second));
    assert.equal(await textOf(page, 'spec-speculative-value'), fmtTps(api.speculative.tokens_per_second));
    assert.equal(await textOf(page, 'spec-speedup-value'), fmtSpeedup(api.speedup));
    assert.equal(
      await textOf(page, 'spec-acceptance-sub'),
      `${api.speculative.accepted}/${api.speculative.proposed} drafts accepted`,
    );
    assert.ok(Number.parseFloat((await textOf(page, 'spec-baseline-value')).replace(/,/g, '')) > 0);
    assert.equal(await textOf(page, 'spec-identical'), 'Greedy output identical: yes');
    assert.equal(await textOf(page, 'spec-forwards-saved'), String(api.forwards_saved));

    assert.equal(await draftSpans(page), api.speculative.accepted);
    const spans = page.locator('[data-testid="spec-text"] [data-source]');
    assert.equal(await spans.count(), api.tokens.length);
    assert.equal(api.tokens.length, api.speculative.generated_tokens);
    const first = api.tokens[0];
    assert.match(await spans.first().getAttribute('title'), new RegExp(`^#1 · id ${first.id} · `));
    const drafted = await page.locator('[data-source="draft"]').first().evaluate((el) => getComputedStyle(el).backgroundColor);
    const target = await page.locator('[data-source="target"]').first().evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.notEqual(drafted, target);

    const bars = await page.locator('[data-testid^="spec-histogram-"]').evaluateAll((els) => els.map((e) => Number(e.dataset.count)));
    assert.deepEqual(bars, api.accepted_histogram);
    assert.equal(bars.length, api.spec_tokens + 1);
    assert.match(await textOf(page, 'spec-check'), /^✓/);
    assert.match(await page.getByTestId('spec-line-speculative').getAttribute('d'), /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+$/);

    await settleAnimations(page);
    await page.screenshot({ path: screenshotPath('speculative-desktop-1440.png'), fullPage: true });
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('phone 390: no horizontal overflow, screenshot', async () => {
    const { page, errors } = await openPage(browser.context, { width: 390, height: 844 });
    await page.goto(`${server.url}/comparison`);
    const api = await runComparison(page);
    assert.equal(await draftSpans(page), api.speculative.accepted);
    await settleAnimations(page);
    const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
    assert.ok(width <= 390, `scrollWidth ${width} > 390`);
    await page.screenshot({ path: screenshotPath('speculative-phone-390.png'), fullPage: true });
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('keyboard: K typed in its field, Enter runs with it', async () => {
    const { page, errors } = await openPage(browser.context);
    await page.goto(`${server.url}/comparison`);
    await page.getByLabel('Max new tokens').fill('24');
    const field = page.getByLabel('Draft tokens per step (K)');
    await field.fill('2');
    const answered = page.waitForResponse((r) => r.url().includes('/compare/speculative?'), { timeout: 60000 });
    await field.press('Enter');
    const response = await answered;
    assert.match(response.url(), /&max_tokens=24&method=ngram&spec_tokens=2$/);
    const api = await response.json();
    assert.equal(api.spec_tokens, 2);
    assert.ok(api.speculative.generated_tokens >= 1 && api.speculative.generated_tokens <= 24);
    await page.getByTestId('spec-results').waitFor();
    assert.match(await textOf(page, 'spec-card-speculative'), /K=2/);
    assert.equal(await page.locator('[data-testid^="spec-histogram-"]').count(), 3); // 0, 1, 2 drafts kept
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('errors: draft without a draft model (422, method), no model (503), dead API', async () => {
    const { page } = await openPage(browser.context);
    await page.goto(`${server.url}/comparison`);
    await page.getByLabel('Proposer').selectOption('draft');
    await page.getByRole('button', { name: RUN }).click();
    const box = page.getByTestId('spec-error');
    await box.waitFor({ timeout: 15000 });
    assert.match(await box.textContent(), /HTTP 4\d\d/);
    assert.match(await box.textContent(), /\(parameter: method\)/);
    assert.equal(await page.locator('.spinner').count(), 0);
    assert.equal(await page.getByRole('button', { name: RUN }).isEnabled(), true);

    await page.goto(`${bare.url}/comparison`);
    await page.getByRole('button', { name: RUN }).click();
    await box.waitFor({ timeout: 15000 });
    assert.match(await box.textContent(), /GET \/compare\/speculative failed: HTTP 503/);
    assert.equal(await page.getByTestId('spec-results').count(), 0);

    const dead = await freePort();
    await page.goto(`${server.url}/comparison?api=http://127.0.0.1:${dead}`);
    await page.getByRole('button', { name: RUN }).click();
    await box.waitFor({ timeout: 15000 });
    assert.match(await box.textContent(), /GET \/compare\/speculative failed: API unreachable/);
    assert.equal(await page.locator('.spinner').count(), 0);
    await page.close();
  });
});
