// How the block grid lays out a pool: one cell per block, filled row by row.

export const DESKTOP_COLUMNS = 128; // 1024 blocks -> 8 rows x 128 columns
export const PHONE_COLUMNS = 32; // 1024 blocks -> 32 rows x 32 columns
// Past this many blocks one DOM cell per block gets heavy; each cell then stands for several blocks.
export const MAX_CELLS = 4096;

// Rows and columns for `cells` cells with at most `maxColumns` per row.
export function gridLayout(cells, maxColumns = DESKTOP_COLUMNS) {
  const n = Math.max(0, Math.floor(cells));
  if (n === 0) return { rows: 0, columns: 0 };
  const columns = Math.min(n, Math.max(1, Math.floor(maxColumns)));
  return { rows: Math.ceil(n / columns), columns };
}

// Blocks per cell for a pool of `numBlocks`: 1 up to MAX_CELLS blocks, then the smallest whole number
// that keeps the cell count at or under MAX_CELLS.
export function blocksPerCell(numBlocks, maxCells = MAX_CELLS) {
  return numBlocks <= maxCells ? 1 : Math.ceil(numBlocks / maxCells);
}

// Delay before cell `index` (of `count` cells being filled) appears: the fill sweeps left to right, top
// to bottom, in at most `totalSeconds`, and never slower than `maxStepSeconds` per cell.
export function fillDelaySeconds(index, count, totalSeconds = 1.2, maxStepSeconds = 0.04) {
  if (count <= 0 || index <= 0) return 0;
  const step = Math.min(maxStepSeconds, totalSeconds / count);
  return Number((index * step).toFixed(4));
}

// Columns for a grid `widthPx` wide: the widest of 128, 64, 32, 16, 8 whose cells stay at least
// `minCellPx` (gap included), so 1024 blocks read as 8 x 128 on a desktop and 32 x 32 on a phone.
export function columnsForWidth(widthPx, minCellPx = 8) {
  for (const columns of [DESKTOP_COLUMNS, 64, PHONE_COLUMNS, 16])
    if (widthPx / columns >= minCellPx) return columns;
  return 8;
}

// Purple (#a855f7) to pink (#ec4899) across the used cells, as an rgb() string.
export function usedCellColor(rank, count) {
  const t = count > 1 ? rank / (count - 1) : 0;
  const from = [0xa8, 0x55, 0xf7];
  const to = [0xec, 0x48, 0x99];
  const c = from.map((f, i) => Math.round(f + (to[i] - f) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
