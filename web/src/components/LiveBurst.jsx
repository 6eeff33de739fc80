import { BURST_LIMITS } from '../lib/live_burst.js';
import NumberField from './NumberField.jsx';

// "Send demo burst": how many /v1/completions requests, how many tokens each may generate, the button, and
// a status line (running / finished / failed, and the most blocks held at once since the burst began).
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
        id="burst-requests"
        label="Requests in the burst"
        value={value.requests}
        min={BURST_LIMITS.requests.min}
        max={BURST_LIMITS.requests.max}
        onCommit={(requests) => onChange({ ...value, requests })}
        hint="sent at once; every other one shares a prompt opening"
        commitDelayMs={150}
      />
      <NumberField
        id="burst-max-tokens"
        label="Max tokens per request"
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
