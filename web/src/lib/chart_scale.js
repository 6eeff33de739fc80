// Axis scales for the SVG chart: "nice" round tick steps (1, 2, 2.5, 5 x 10^k).

export function niceStep(span, targetTicks = 5) {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, targetTicks);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

// Ticks from 0 up to the first multiple of the step at or above `max`.
export function niceTicks(max, targetTicks = 5) {
  const step = niceStep(max, targetTicks);
  const top = Math.max(step, Math.ceil(max / step - 1e-9) * step);
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { step, top: ticks[ticks.length - 1], ticks };
}

// Maps [d0, d1] onto [r0, r1].
export function linearScale(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}
