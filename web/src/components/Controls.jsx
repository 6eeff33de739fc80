import { formatBinarySize } from '../lib/format.js';
import { BLOCK_SIZES, KV_DTYPE_NAMES, LIMITS } from '../lib/params.js';
import NumberField from './NumberField.jsx';

const DTYPE_LABELS = { f32: 'f32 (4 B)', f16: 'f16 (2 B)', bf16: 'bf16 (2 B)', q8_0: 'q8_0 (34 B / 32 values)' };

function attentionKind(p) {
  if (!p) return null;
  const gqa = p.uses_gqa ?? p.n_kv_heads < p.n_heads;
  return gqa ? `GQA: ${p.n_heads} query heads share ${p.n_kv_heads} KV heads` : `MHA: ${p.n_kv_heads} KV heads, one per query head`;
}

// Every input of the comparison, each with a visible label.
export default function Controls({ params, onChange, presets, presetsStatus, presetsError, preset, onReset }) {
  const context = preset?.context_length ?? LIMITS.max_seq_len.max;
  const models = presets.length ? presets : [{ name: params.model, description: params.model }];
  const gqa = preset ? (preset.uses_gqa ?? preset.n_kv_heads < preset.n_heads) : null;

  return (
    <form className="controls panel" aria-label="Comparison settings" onSubmit={(e) => e.preventDefault()}>
      <div className="field field-wide">
        <label htmlFor="model">Model preset</label>
        <select
          id="model"
          value={params.model}
          onChange={(e) => onChange({ model: e.target.value })}
          aria-describedby="model-hint"
        >
          {models.map((p) => (
            <option key={p.name} value={p.name}>
              {p.description || p.name}
            </option>
          ))}
        </select>
        <span id="model-hint" className="hint">
          {preset ? (
            <>
              <span className={`badge ${gqa ? 'badge-gqa' : 'badge-mha'}`}>{gqa ? 'GQA' : 'MHA'}</span>{' '}
              {attentionKind(preset)}; {preset.n_layers} layers × head_dim {preset.head_dim}
              {preset.kv_bytes_per_token ? `; ${formatBinarySize(preset.kv_bytes_per_token)} per token in f16` : ''}
            </>
          ) : presetsStatus === 'loading' ? (
            'Loading presets…'
          ) : presetsError ? (
            <span className="invalid" role="alert">
              {presetsError.title}: {presetsError.detail}
            </span>
          ) : (
            'No preset list from the server'
          )}
        </span>
      </div>

      <div className="field field-wide slider-field">
        <label htmlFor="sequence-length-slider">Sequence length (tokens per sequence)</label>
        <div className="slider-row">
          <input
            id="sequence-length-slider"
            type="range"
            min={1}
            max={params.max_seq_len}
            step={1}
            value={params.sequence_length}
            onChange={(e) => onChange({ sequence_length: Number(e.target.value) })}
            aria-valuetext={`${params.sequence_length} tokens`}
          />
          <NumberField
            id="sequence-length"
            label="Tokens"
            value={params.sequence_length}
            min={1}
            max={params.max_seq_len}
            onCommit={(n) => onChange({ sequence_length: n })}
            hint={`1–${params.max_seq_len}`}
          />
        </div>
      </div>

      <NumberField
        id="max-seq-len"
        label="Max sequence length (reserved)"
        value={params.max_seq_len}
        min={1}
        max={context}
        onCommit={(n) => onChange({ max_seq_len: n })}
        hint={preset ? `Model context: ${preset.context_length}` : undefined}
      />

      <div className="field">
        <label htmlFor="block-size">Block size (tokens)</label>
        <select id="block-size" value={params.block_size} onChange={(e) => onChange({ block_size: Number(e.target.value) })}>
          {BLOCK_SIZES.map((b) => (
            <option key={b} value={b}>
              {b}
            </option>
          ))}
        </select>
        <span className="hint">Tokens per KV block</span>
      </div>

      <NumberField
        id="num-blocks"
        label="Pool size (blocks)"
        value={params.num_blocks}
        min={LIMITS.num_blocks.min}
        max={LIMITS.num_blocks.max}
        onCommit={(n) => onChange({ num_blocks: n })}
      />

      <NumberField
        id="batch-size"
        label="Batch size (sequences)"
        value={params.batch_size}
        min={LIMITS.batch_size.min}
        max={LIMITS.batch_size.max}
        onCommit={(n) => onChange({ batch_size: n })}
      />

      <div className="field">
        <label htmlFor="kv-dtype">KV cache dtype</label>
        <select id="kv-dtype" value={params.kv_dtype} onChange={(e) => onChange({ kv_dtype: e.target.value })}>
          {KV_DTYPE_NAMES.map((d) => (
            <option key={d} value={d}>
              {DTYPE_LABELS[d]}
            </option>
          ))}
        </select>
        <span className="hint">Element type of K and V</span>
      </div>

      <div className="field field-reset">
        <button type="button" className="secondary" onClick={onReset}>
          Reset to defaults
        </button>
      </div>
    </form>
  );
}
