// The day's P&L as a hand-drawn SVG line chart: net (realized − fees + unrealized) and realized − fees.
// `chartModel` is pure (points in, coordinates out); `renderChart` only turns it into SVG elements.
import { money } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
/** The window shown is at least this wide, so a quiet morning is not one squashed dot at the edge. */
const MIN_SPAN_MS = 5 * 60 * 1000;

const net = (p) => p.realized - p.fees + p.unrealized;
const booked = (p) => p.realized - p.fees;

function niceStep(span, ticks) {
  const raw = span / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

export function chartModel(points, now, size) {
  const { width, height } = size;
  const pad = { left: 72, right: 96, top: 12, bottom: 24 };
  const last = points[points.length - 1];
  const series = last && last.t < now ? [...points, { ...last, t: now }] : [...points];
  const dayStart = series.length ? series[0].t : now;
  // From the first event (less a margin) or the last MIN_SPAN_MS, whichever is earlier, but not before the day.
  const firstEvent = series.length > 1 ? series[1].t : now;
  const t0 = Math.max(dayStart, Math.min(firstEvent - (now - firstEvent) * 0.1 - 60_000, now - MIN_SPAN_MS));
  const t1 = Math.max(now, t0 + 1);
  const visible = series.filter((p) => p.t >= t0);
  // The value when the window opens, so the lines start at the left edge.
  const before = series.filter((p) => p.t < t0).pop();
  const shown = before ? [{ ...before, t: t0 }, ...visible] : visible;
  const values = shown.flatMap((p) => [net(p), booked(p)]).concat(0);
  let lo = Math.min(...values), hi = Math.max(...values);
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const step = niceStep(hi - lo, 4);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const x = (t) => pad.left + ((t - t0) / (t1 - t0)) * (width - pad.left - pad.right);
  const y = (v) => pad.top + (1 - (v - lo) / (hi - lo)) * (height - pad.top - pad.bottom);
  // Steps, not slopes: P&L changes at fills and mark updates and holds in between.
  const path = (f) => shown.map((p, i) => (i === 0 ? `M${x(p.t).toFixed(1)},${y(f(p)).toFixed(1)}` : `H${x(p.t).toFixed(1)}V${y(f(p)).toFixed(1)}`)).join('');
  const yTicks = [];
  for (let v = lo; v <= hi + step / 2; v += step) yTicks.push({ y: y(v), label: money(v) });
  const xTicks = [];
  const tStep = Math.max(1, niceStep((t1 - t0) / 60_000, 6)) * 60_000;
  for (let t = Math.ceil(t0 / tStep) * tStep; t <= t1; t += tStep) xTicks.push({ x: x(t), t });
  const end = shown[shown.length - 1];
  return {
    width, height, pad, zeroY: y(0), yTicks, xTicks,
    net: shown.length ? path(net) : '', booked: shown.length ? path(booked) : '',
    lastNet: end ? { y: y(net(end)), value: net(end) } : null,
    lastBooked: end ? { y: y(booked(end)), value: booked(end) } : null,
  };
}

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const hhmm = (t) => { const d = new Date(t); return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`; };

export function renderChart(host, points, now) {
  const width = Math.max(480, host.clientWidth || 960);
  const m = chartModel(points, now, { width, height: 220 });
  const svg = el('svg', { viewBox: `0 0 ${m.width} ${m.height}`, width: '100%', height: m.height, role: 'img', 'aria-label': 'P&L today' });
  for (const t of m.yTicks) {
    svg.append(el('line', { x1: m.pad.left, x2: m.width - m.pad.right, y1: t.y, y2: t.y, class: 'grid' }));
    svg.append(el('text', { x: m.pad.left - 8, y: t.y + 4, 'text-anchor': 'end', class: 'tick' }, t.label));
  }
  for (const t of m.xTicks) svg.append(el('text', { x: t.x, y: m.height - 6, 'text-anchor': 'middle', class: 'tick' }, hhmm(t.t)));
  svg.append(el('line', { x1: m.pad.left, x2: m.width - m.pad.right, y1: m.zeroY, y2: m.zeroY, class: 'zero' }));
  svg.append(el('path', { d: m.booked, class: 'line booked' }));
  svg.append(el('path', { d: m.net, class: 'line net' }));
  const labelX = m.width - m.pad.right + 8;
  if (m.lastNet && m.lastBooked) {
    // Two labels closer than a line of text are pushed apart, net staying where it is.
    const gap = Math.abs(m.lastNet.y - m.lastBooked.y) < 14 ? (m.lastBooked.y >= m.lastNet.y ? 14 : -14) : 0;
    svg.append(el('text', { x: labelX, y: m.lastNet.y + 4, class: 'label net' }, `net ${money(m.lastNet.value)}`));
    svg.append(el('text', { x: labelX, y: gap ? m.lastNet.y + 4 + gap : m.lastBooked.y + 4, class: 'label booked' }, `real. ${money(m.lastBooked.value)}`));
  }
  host.replaceChildren(svg);
}
