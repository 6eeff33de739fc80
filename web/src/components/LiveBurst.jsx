import { BURST_LIMITS, MAX_PARALLEL_REQUESTS } from '../lib/live_burst.js';
import NumberField from './NumberField.jsx';

// "Send demo burst": how many sequences, how many tokens each may generate, the button, and a status line
// (sequences running / finished / failed, and the most blocks held at once since the burst began).
export default function LiveBurst({ value, onChange, onSend, progress, peakBlocks, numBlocks, disabled }) {
  const running = progress !== null && progress.running > 0;
  let status = 'No burst sent yet.';
  if (progress) {
    status = `${running ? 'Running' : 'Done'}: ${progress.running} running · ${progress.finished} finished`;
    if (progress.failed > 0) status += ` · ${progress.failed} failed (${progress.lastError})`;
  }
  return (
    <form className="live-burst panel" aria-label="Demo burst" onSubmit={(e) => e.preventDefault()}>
      <NumberField
        id="burst-sequences"
        label="Sequences in the burst"
        value={value.sequences}
        min={BURST_LIMITS.sequences.min}
        max={BURST_LIMITS.sequences.max}
        onCommit={(sequences) => onChange({ ...value, sequences })}
        hint={`sent at once as up to ${MAX_PARALLEL_REQUESTS} completions requests × n choices`}
        commitDelayMs={150}
      />
      <NumberField
        id="burst-max-tokens"
        label="Max tokens per sequence"
        value={value.maxTokens}
        min={BURST_LIMITS.maxTokens.min}
        max={BURST_LIMITS.maxTokens.max}
        onCommit={(maxTokens) => onChange({ ...value, maxTokens })}
        commitDelayMs={150}
      />
      <div className="live-burst-actions">
        <button type="button" className="primary" onClick={onSend} disabled={disabled} aria-describedby="burst-status">
          {running && <span className="spinner" aria-hidden="true" />}
          Send demo burst
        </button>
        <p id="burst-status" className="status" role="status" aria-live="polite" data-testid="burst-status">
          {status}
        </p>
        <p className="status" data-testid="live-peak">
          Peak <strong data-testid="live-peak-blocks">{peakBlocks}</strong>
          {numBlocks !== null ? ` of ${numBlocks}` : ''} blocks held at once
        </p>
      </div>
    </form>
  );
}
