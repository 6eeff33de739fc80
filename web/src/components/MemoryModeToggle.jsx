// Computed vs live: which block map the memory section shows. Offered only when the server runs a model.
export default function MemoryModeToggle({ mode, onChange }) {
  const options = [
    { value: 'computed', label: 'Computed', hint: 'from the figures you enter' },
    { value: 'live', label: 'Live', hint: 'the engine’s real block pool' },
  ];
  return (
    <fieldset className="mode-toggle" data-testid="memory-mode">
      <legend>Block map</legend>
      {options.map((o) => (
        <label key={o.value} className={`mode-option${mode === o.value ? ' mode-option-on' : ''}`}>
          <input
            type="radio"
            name="memory-mode"
            value={o.value}
            checked={mode === o.value}
            onChange={() => onChange(o.value)}
          />
          <span className="mode-label">{o.label}</span>
          <span className="mode-hint">{o.hint}</span>
        </label>
      ))}
    </fieldset>
  );
}
