import { useMemo, useRef, useState } from 'react';
import { describeError } from '../lib/api.js';
import { clampBurst, DEFAULT_BURST, sendBurst } from '../lib/live_burst.js';
import { useLiveKv, useLiveMemory } from '../lib/live_hooks.js';
import { liveBlockMap, liveCounts } from '../lib/live_kv.js';
import BlockGrid from './BlockGrid.jsx';
import LiveBurst from './LiveBurst.jsx';
import LiveMetricCards from './LiveMetricCards.jsx';
import './live.css';

const STATUS_TEXT = {
  connecting: 'Connecting to the engine…',
  live: 'Live: following the engine’s KV events',
  reconnecting: 'Connection lost, reconnecting…',
  error: 'No live block map',
};

// The memory section's live mode: the serving engine's real block pool (GET /kv/blocks, then GET /kv/events),
// a demo burst of completions to watch it fill and empty, and the engine's paged figures beside what a
// contiguous cache would reserve for the same running sequences (GET /compare/memory?source=live).
export default function LiveMemory({ apiBase = '', timeoutMs, EventSourceImpl }) {
  const live = useLiveKv(apiBase, true, { EventSourceImpl, timeoutMs });
  const [burst, setBurst] = useState(DEFAULT_BURST);
  const [progress, setProgress] = useState(null);
  const sending = useRef(false);
  const running = progress !== null && progress.running > 0;
  const used = live.state?.usedBlocks ?? 0;
  const memory = useLiveMemory(apiBase, true, running || used > 0, { timeoutMs });

  const blockMap = useMemo(() => (live.state ? liveBlockMap(live.state) : null), [live.state]);
  const counts = useMemo(() => (live.state ? liveCounts(live.state) : null), [live.state]);

  const onSend = async () => {
    if (sending.current) return;
    sending.current = true;
    const { sequences, maxTokens } = clampBurst(burst);
    live.resetPeak();
    try {
      await sendBurst({ apiBase, sequences, maxTokens, onProgress: setProgress });
    } finally {
      sending.current = false;
    }
  };

  const feedError = live.status === 'error' ? describeError(live.error, 'Live block map') : null;
  const memoryError = memory.error ? describeError(memory.error, 'GET /compare/memory?source=live') : null;

  return (
    <div className="live results" data-testid="live-memory">
      <p className={`live-status live-status-${live.status}`} role="status" data-testid="live-status">
        <span className="live-dot" aria-hidden="true" />
        {STATUS_TEXT[live.status]}
        {counts && live.status === 'live' && (
          <span className="muted" data-testid="live-counts">
            {counts.sequences} {counts.sequences === 1 ? 'sequence' : 'sequences'} holding blocks · {counts.shared} shared ·{' '}
            {counts.cachedFree} cached free · {counts.preempted} preempted
          </span>
        )}
      </p>
      {feedError && (
        <div className="error-box" role="alert" data-testid="live-error">
          <strong>{feedError.title}</strong>
          <span>{feedError.detail}</span>
        </div>
      )}

      <LiveBurst
        value={burst}
        onChange={setBurst}
        onSend={onSend}
        progress={progress}
        peakBlocks={counts?.peak ?? 0}
        numBlocks={live.state?.numBlocks ?? null}
        disabled={running || live.status === 'error'}
      />

      {memoryError && (
        <div className="error-box" role="alert" data-testid="live-memory-error">
          <strong>{memoryError.title}</strong>
          <span>{memoryError.detail}</span>
        </div>
      )}
      {memory.data && <LiveMetricCards data={memory.data} />}
      {blockMap && <BlockGrid blockMap={blockMap} />}
    </div>
  );
}
