// The comparison page against the real `helix serve`: reference figures, the block grid, controls that
// recalculate to the API's values, and a clean console.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  apiCompare,
  countCells,
  fmtMiB,
  fmtPercent,
  launchBrowser,
  openPage,
  startHelix,
  textOf,
  waitForText,
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

// Reads every figure the page shows for the current result.
async function readFigures(page) {
  return {
    traditional: await textOf(page, 'traditional-value'),
    paged: await textOf(page, 'paged-value'),
    saved: await textOf(page, 'saved-value'),
    savedPercent: await textOf(page, 'saved-sub'),
    utilization: await textOf(page, 'utilization-value'),
    blocks: await textOf(page, 'utilization-sub'),
    fitTraditional: await textOf(page, 'fit-traditional'),
    fitPaged: await textOf(page, 'fit-paged'),
    used: await countCells(page, 'used'),
    free: await countCells(page, 'free'),
  };
}

// What the page must show for an API answer.
function expectedFigures(api) {
  return {
    traditional: fmtMiB(api.traditional_memory_mb),
    paged: fmtMiB(api.paged_memory_mb),
    saved: fmtMiB(api.memory_saved_mb),
    savedPercent: fmtPercent(api.memory_saved_percent),
    utilization: fmtPercent(api.utilization_percent),
    blocks: `${api.blocks_used}/${api.num_blocks} blocks`,
    fitTraditional: String(api.sequences_fit_traditional),
    fitPaged: String(api.sequences_fit_paged),
    used: api.blocks_used,
    free: api.blocks_free,
  };
}

async function showComparison(page, path = '/comparison') {
  await page.goto(`${server.url}${path}`);
  await page.getByRole('button', { name: 'Show Memory Comparison' }).click();
  await page.getByTestId('results').waitFor();
}

describe('memory comparison page', () => {
  test('the button shows the reference figures: 44.00 / 2.75 / 41.25 MiB, 93.75 %, 8 of 1024 blocks', async () => {
    const { page, errors } = await openPage(browser.context);
    await showComparison(page);
    assert.equal(await textOf(page, 'traditional-value'), '44.00 MiB');
    assert.equal(await textOf(page, 'paged-value'), '2.75 MiB');
    assert.equal(await textOf(page, 'saved-value'), '41.25 MiB');
    assert.equal(await textOf(page, 'saved-sub'), '93.75 %');
    assert.equal(await textOf(page, 'utilization-value'), '0.78 %');
    assert.equal(await textOf(page, 'utilization-sub'), '8/1024 blocks');
    assert.match(await textOf(page, 'traditional-note'), /Pre-allocated/);
    assert.match(await textOf(page, 'paged-note'), /On-demand/);

    const bar = await page.getByTestId('traditional-bar').textContent();
    assert.match(bar, /Used: 128 tokens/);
    assert.match(bar, /Wasted: 1920 tokens/);

    const api = await apiCompare(server.url, {});
    assert.deepEqual(await readFigures(page), expectedFigures(api));
    assert.equal(await textOf(page, 'fit-traditional'), '8'); // 352 MiB pool / 44 MiB per sequence
    assert.equal(await textOf(page, 'fit-paged'), '128'); // 1024 blocks / 8 per sequence
    assert.match(await textOf(page, 'formula-check'), /^✓/);
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('the grid has one cell per block: exactly 8 used, 1016 free, 8 rows x 128 columns', async () => {
    const { page, errors } = await openPage(browser.context);
    await showComparison(page);
    const grid = page.getByTestId('block-grid');
    assert.equal(await countCells(page, 'used'), 8);
    assert.equal(await countCells(page, 'free'), 1016);
    assert.equal(await grid.getAttribute('data-rows'), '8');
    assert.equal(await grid.getAttribute('data-columns'), '128');
    const title = (id) => page.locator(`[data-block-id="${id}"]`).getAttribute('title');
    assert.equal(await title(0), 'Block 0: tokens 0–15');
    assert.equal(await title(7), 'Block 7: tokens 112–127');
    assert.equal(await title(8), 'Block 8: free');
    // Used cells come first, left to right: ids 0..7.
    const usedIds = await page
      .locator('[data-block-id][data-state="used"]')
      .evaluateAll((els) => els.map((e) => Number(e.dataset.blockId)));
    assert.deepEqual(usedIds, [0, 1, 2, 3, 4, 5, 6, 7]);

    // Keyboard: focus the grid, move right twice, read the block it points at.
    await grid.focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await waitForText(page, 'grid-readout', 'Block 2: tokens 32–47');
    await page.keyboard.press('End');
    await waitForText(page, 'grid-readout', 'Block 1023: free');
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('moving the slider recalculates to the API figures', async () => {
    const { page, errors } = await openPage(browser.context);
    await showComparison(page);
    const slider = page.getByLabel('Sequence length (tokens per sequence)');

    await slider.fill('1000');
    let api = await apiCompare(server.url, { sequence_length: 1000 });
    await waitForText(page, 'paged-value', fmtMiB(api.paged_memory_mb));
    await waitForText(page, 'utilization-sub', `${api.blocks_used}/1024 blocks`);
    assert.deepEqual(await readFigures(page), expectedFigures(api));
    assert.equal(api.blocks_used, 63); // ceil(1000 / 16)

    // Keyboard: three steps right.
    await slider.focus();
    for (let i = 0; i < 3; ++i) await page.keyboard.press('ArrowRight');
    api = await apiCompare(server.url, { sequence_length: 1003 });
    await waitForText(page, 'utilization-sub', `${api.blocks_used}/1024 blocks`);
    await waitForText(page, 'saved-value', fmtMiB(api.memory_saved_mb));
    assert.deepEqual(await readFigures(page), expectedFigures(api));
    assert.equal(await page.getByLabel('Tokens', { exact: true }).inputValue(), '1003');
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('other controls recalculate too: MHA model, block size, batch, dtype, pool', async () => {
    const { page, errors } = await openPage(browser.context);
    await showComparison(page, '/');
    await page.getByLabel('Model preset').selectOption('llama-2-7b');
    await page.getByLabel('Block size (tokens)').selectOption('32');
    await page.getByLabel('KV cache dtype').selectOption('q8_0');
    await page.getByLabel('Batch size (sequences)').fill('4');
    await page.getByLabel('Pool size (blocks)').fill('2048');
    await page.getByLabel('Pool size (blocks)').press('Enter');
    const api = await apiCompare(server.url, {
      model: 'llama-2-7b',
      sequence_length: 128,
      max_seq_len: 2048,
      block_size: 32,
      num_blocks: 2048,
      batch_size: 4,
      kv_dtype: 'q8_0',
    });
    await waitForText(page, 'utilization-sub', `${api.blocks_used}/2048 blocks`);
    await waitForText(page, 'traditional-value', fmtMiB(api.traditional_memory_mb));
    assert.deepEqual(await readFigures(page), expectedFigures(api));
    assert.equal(api.blocks_used, 16); // 4 sequences * ceil(128 / 32)
    assert.match(await page.locator('#model-hint').textContent(), /MHA/);
    assert.match(await textOf(page, 'formula-check'), /^✓/);
    const title = await page.locator('[data-block-id="4"]').getAttribute('title');
    assert.equal(title, 'Block 4: tokens 0–31 of sequence 1');
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('an error answer from the server is shown with its status and parameter', async () => {
    const { page } = await openPage(browser.context);
    await showComparison(page);
    // 4 sequences of 128 tokens need 32 blocks; a pool of 16 cannot hold them.
    await page.getByLabel('Batch size (sequences)').fill('4');
    await page.getByLabel('Batch size (sequences)').press('Enter');
    await page.getByLabel('Pool size (blocks)').fill('16');
    await page.getByLabel('Pool size (blocks)').press('Enter');
    const box = page.getByTestId('comparison-error');
    await box.waitFor({ timeout: 10000 });
    const text = await box.textContent();
    assert.match(text, /HTTP 4\d\d/); // 422: readable but impossible
    assert.match(text, /need 32 blocks of 16 tokens, the pool has 16 \(parameter: num_blocks\)/);
    assert.match(await page.getByRole('button', { name: 'Show Memory Comparison' }).textContent(), /^Show/);
    assert.equal(await page.locator('.spinner').count(), 0);
    await page.close();
  });
});
