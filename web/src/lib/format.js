// Display formatting. The API's "mb" fields are MiB (2^20 bytes), so the page says MiB.

export const BYTES_PER_MIB = 1024 * 1024;

function finite(value) {
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

// 44 -> "44.00 MiB"; takes a MiB figure (as the API reports it).
export function formatMiB(mib) {
  const n = finite(mib);
  return n === null ? '–' : `${n.toFixed(2)} MiB`;
}

// Exact bytes -> "44.00 MiB".
export function formatBytesAsMiB(bytes) {
  const n = finite(bytes);
  return n === null ? '–' : formatMiB(n / BYTES_PER_MIB);
}

// 93.75 -> "93.75 %" (percentages are 0..100, never fractions).
export function formatPercent(percent) {
  const n = finite(percent);
  return n === null ? '–' : `${n.toFixed(2)} %`;
}

// Byte counts get thousands separators: 46137344 -> "46,137,344".
export function formatGrouped(value) {
  const n = finite(value);
  if (n === null) return '–';
  const sign = n < 0 ? '-' : '';
  return sign + String(Math.trunc(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// 22528 -> "22.00 KiB", 524288 -> "512.00 KiB", 1048576 -> "1.00 MiB".
export function formatBinarySize(bytes) {
  const n = finite(bytes);
  if (n === null) return '–';
  if (Math.abs(n) >= BYTES_PER_MIB) return `${(n / BYTES_PER_MIB).toFixed(2)} MiB`;
  if (Math.abs(n) >= 1024) return `${(n / 1024).toFixed(2)} KiB`;
  return `${n} B`;
}

// Axis labels: short, no trailing zeros ("0", "12.5", "352").
export function formatAxisMiB(mib) {
  const n = finite(mib);
  if (n === null) return '';
  if (n >= 100 || Number.isInteger(n)) return String(Math.round(n));
  return String(Number(n.toFixed(n >= 10 ? 1 : 2)));
}

// "1 sequence" / "3 sequences".
export function plural(count, singular, pluralForm = `${singular}s`) {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
