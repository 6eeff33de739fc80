import { describe, expect, test } from 'vitest';
import { blocksPerCell, columnsForWidth, fillDelaySeconds, gridLayout, usedCellColor } from './grid_layout.js';

describe('gridLayout', () => {
  test('1024 blocks: 8 rows x 128 columns on a desktop, 32 x 32 on a phone', () => {
    expect(gridLayout(1024)).toEqual({ rows: 8, columns: 128 });
    expect(gridLayout(1024, 32)).toEqual({ rows: 32, columns: 32 });
  });
  test('the grid follows num_blocks', () => {
    expect(gridLayout(2048)).toEqual({ rows: 16, columns: 128 });
    expect(gridLayout(1000)).toEqual({ rows: 8, columns: 128 }); // last row holds 1000 - 7*128 = 104
    expect(gridLayout(100)).toEqual({ rows: 1, columns: 100 });
    expect(gridLayout(1)).toEqual({ rows: 1, columns: 1 });
    expect(gridLayout(0)).toEqual({ rows: 0, columns: 0 });
  });
  test('columns for the available width keep cells at least 8 px', () => {
    expect(columnsForWidth(1230)).toBe(128); // 9.6 px per cell
    expect(columnsForWidth(1000)).toBe(64);
    expect(columnsForWidth(326)).toBe(32); // a 390 px phone less padding
    expect(columnsForWidth(200)).toBe(16);
    expect(columnsForWidth(50)).toBe(8);
  });
  test('very large pools group blocks so at most 4096 cells are drawn', () => {
    expect(blocksPerCell(4096)).toBe(1);
    expect(blocksPerCell(4097)).toBe(2);
    expect(blocksPerCell(1 << 20)).toBe(256);
  });
});

describe('fill animation and colours', () => {
  test('cells fill in order, the whole sweep within 1.2 s', () => {
    expect(fillDelaySeconds(0, 8)).toBe(0);
    expect(fillDelaySeconds(7, 8)).toBe(0.28); // 0.04 s per cell when few
    expect(fillDelaySeconds(999, 1000)).toBeCloseTo(1.1988, 6); // 1.2 s / 1000 per cell
    expect(fillDelaySeconds(5, 0)).toBe(0);
  });
  test('purple to pink across the used cells', () => {
    expect(usedCellColor(0, 8)).toBe('rgb(168, 85, 247)'); // #a855f7
    expect(usedCellColor(7, 8)).toBe('rgb(236, 72, 153)'); // #ec4899
    expect(usedCellColor(0, 1)).toBe('rgb(168, 85, 247)');
  });
});
