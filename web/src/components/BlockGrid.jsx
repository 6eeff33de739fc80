import { useEffect, useMemo, useRef, useState } from 'react';
import { aggregateCells, blockTitle, cellTitle, countStates } from '../lib/block_map.js';
import { blocksPerCell, columnsForWidth, fillDelaySeconds, gridLayout, usedCellColor } from '../lib/grid_layout.js';
import { useElementWidth } from '../lib/hooks.js';

// The pool, one cell per block (or per group of blocks in very large pools). Takes any block map, so the
// engine's live map can replace the computed one. Keyboard: focus the grid, arrows move, Home/End jump.
export default function BlockGrid({ blockMap }) {
  const wrapRef = useRef(null);
  const width = useElementWidth(wrapRef, 1200);
  const perCell = blocksPerCell(blockMap.numBlocks);
  const cells = useMemo(
    () =>
      perCell === 1
        ? blockMap.blocks.map((b) => ({ ...b, title: b.title ?? blockTitle(b, blockMap) }))
        : aggregateCells(blockMap, perCell).map((c) => ({ ...c, title: cellTitle(c) })),
    [blockMap, perCell],
  );
  const { rows, columns } = gridLayout(cells.length, columnsForWidth(width));
  const counts = useMemo(() => countStates(blockMap), [blockMap]);

  // Only cells that became used since the last map animate; they sweep in from the first of them.
  const previouslyUsed = useRef(new Set());
  const usedIds = cells.filter((c) => c.state !== 'free').map((c) => c.id);
  const fresh = usedIds.filter((id) => !previouslyUsed.current.has(id));
  const freshRank = new Map(fresh.map((id, i) => [id, i]));
  const usedRank = new Map(usedIds.map((id, i) => [id, i]));
  useEffect(() => {
    previouslyUsed.current = new Set(usedIds);
  });

  const [active, setActive] = useState(null);
  useEffect(() => setActive((a) => (a !== null && a >= cells.length ? null : a)), [cells.length]);
  const activeCell = active !== null ? cells[active] : null;

  const onKeyDown = (e) => {
    const last = cells.length - 1;
    const cur = active ?? 0;
    const moves = {
      ArrowRight: cur + 1,
      ArrowLeft: cur - 1,
      ArrowDown: cur + columns,
      ArrowUp: cur - columns,
      Home: 0,
      End: last,
    };
    if (!(e.key in moves)) return;
    e.preventDefault();
    setActive(Math.min(last, Math.max(0, moves[e.key])));
  };
  const pick = (e) => {
    const index = e.target?.dataset?.index;
    if (index !== undefined) setActive(Number(index));
  };

  const unit = perCell === 1 ? 'block' : `group of ${perCell} blocks`;
  // The engine's map changes many times a second: cells appear at once instead of sweeping in.
  const live = blockMap.source === 'engine';
  return (
    <div className="panel grid-panel" aria-labelledby="grid-title">
      <div className="grid-head">
        <h2 id="grid-title">PagedAttention block pool</h2>
        <p className="muted" data-testid="grid-summary">
          {counts.used} of {blockMap.numBlocks} blocks used · {counts.free} free · {rows} × {columns}
          {perCell > 1 ? ` cells, one per ${perCell} blocks` : ''}
        </p>
      </div>
      <div ref={wrapRef} className="grid-wrap">
        <div
          className="block-grid"
          role="group"
          tabIndex={0}
          aria-label={`Block pool: ${counts.used} of ${blockMap.numBlocks} blocks used. Arrow keys inspect one ${unit} at a time.`}
          aria-describedby="grid-readout"
          style={{ gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` }}
          onKeyDown={onKeyDown}
          onFocus={() => setActive((a) => a ?? 0)}
          onMouseOver={pick}
          onClick={pick}
          data-testid="block-grid"
          data-rows={rows}
          data-columns={columns}
        >
          {cells.map((c, index) => {
            const used = c.state !== 'free';
            const style = used
              ? {
                  // Partly used groups (very large pools) keep the muted colour from the stylesheet.
                  ...(c.state === 'used' && { '--cell-color': c.color ?? usedCellColor(usedRank.get(c.id), usedIds.length) }),
                  animationDelay:
                    !live && freshRank.has(c.id) ? `${fillDelaySeconds(freshRank.get(c.id), fresh.length)}s` : '0s',
                }
              : undefined;
            const ids = perCell === 1 ? { 'data-block-id': c.id } : { 'data-cell-id': c.id, 'data-first-block': c.firstBlock };
            return (
              <span
                key={c.id}
                className={`cell cell-${c.state}${c.shared ? ' cell-shared' : ''}${c.state === 'free' && c.cached ? ' cell-cached' : ''}${index === active ? ' cell-active' : ''}`}
                title={c.title}
                data-state={c.state}
                data-index={index}
                data-seq={c.sequence ?? undefined}
                data-shared={c.shared || undefined}
                style={style}
                {...ids}
              />
            );
          })}
        </div>
      </div>
      <p id="grid-readout" className="grid-readout" aria-live="polite" data-testid="grid-readout">
        {activeCell ? activeCell.title : 'Hover, tap or focus the grid and use the arrow keys to inspect a block.'}
      </p>
      <div className="grid-legend">
        <span>
          <i className="swatch swatch-paged" aria-hidden="true" />
          Used
        </span>
        <span>
          <i className="swatch swatch-free" aria-hidden="true" />
          Free
        </span>
        {live && (
          <>
            <span>
              <i className="swatch swatch-shared" aria-hidden="true" />
              Shared prefix
            </span>
            <span>
              <i className="swatch swatch-cached" aria-hidden="true" />
              Cached prefix, free
            </span>
          </>
        )}
        <span className="muted">
          {live
            ? 'Live block map from the serving engine: one colour per sequence.'
            : 'Computed from these figures: sequences take blocks in allocation order from an empty pool.'}
        </span>
      </div>
    </div>
  );
}
