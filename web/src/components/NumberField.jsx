import { useEffect, useId, useRef, useState } from 'react';

export const COMMIT_DELAY_MS = 400;

const parseWhole = (text) => (/^\s*\d+\s*$/.test(text) ? Number(text) : NaN);

// An integer input that lets the user type freely. A value within [min, max] is committed once typing
// pauses, on Enter or on blur (not on every keystroke: typing "512" must not pass through 5 and 51,
// which would clamp the inputs that depend on this one); anything else is flagged and reverts on blur.
export default function NumberField({ label, value, min, max, onCommit, hint, id, commitDelayMs = COMMIT_DELAY_MS }) {
  const autoId = useId();
  const inputId = id ?? autoId;
  const hintId = `${inputId}-hint`;
  const [draft, setDraft] = useState(String(value));
  const timer = useRef(null);
  useEffect(() => setDraft(String(value)), [value]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const parsed = parseWhole(draft);
  const valid = Number.isSafeInteger(parsed) && parsed >= min && parsed <= max;

  const commit = (text) => {
    clearTimeout(timer.current);
    const n = parseWhole(text);
    if (Number.isSafeInteger(n) && n >= min && n <= max && n !== value) onCommit(n);
  };

  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <input
        id={inputId}
        type="number"
        inputMode="numeric"
        min={min}
        max={max}
        step={1}
        value={draft}
        aria-invalid={!valid}
        aria-describedby={hintId}
        onChange={(e) => {
          const text = e.target.value;
          setDraft(text);
          clearTimeout(timer.current);
          timer.current = setTimeout(() => commit(text), commitDelayMs);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit(e.currentTarget.value);
        }}
        onBlur={(e) => {
          const n = parseWhole(e.currentTarget.value);
          if (Number.isSafeInteger(n) && n >= min && n <= max) commit(e.currentTarget.value);
          else setDraft(String(value));
        }}
      />
      <span id={hintId} className={`hint${valid ? '' : ' invalid'}`}>
        {valid ? (hint ?? `${min}–${max}`) : `Enter a whole number from ${min} to ${max}`}
      </span>
    </div>
  );
}
