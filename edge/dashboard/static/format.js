// Pure formatting for the page: numbers, prices, times, reasons. No DOM, so they behave the same in a
// browser and under node's test runner.

const group = (n, digits) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Money in the quote currency, 2 decimals, with a sign; '—' when unknown. */
export function money(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  const v = Math.abs(n) < 0.005 ? 0 : n;
  return `${v < 0 ? '−' : v > 0 ? '+' : ''}${group(Math.abs(v), 2)}`;
}

/** Quantities keep the precision they have (0.0001 BTC, 20,000 EUR) without trailing zeros. */
export function qty(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  const v = Math.abs(n) < 1e-12 ? 0 : n;
  return `${v < 0 ? '−' : ''}${Math.abs(v).toLocaleString('en-US', { maximumFractionDigits: 8 })}`;
}

/** Prices: FX-like levels get five decimals, everything else two. */
export function price(n) {
  if (n === null || n === undefined || Number.isNaN(n) || n === 0) return '—';
  return group(n, Math.abs(n) < 10 ? 5 : 2);
}

/** An amount without a sign (fees, exposure), 2 decimals. */
export function amount(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return group(Math.abs(n) < 0.005 ? 0 : n, 2);
}

export const pnlClass = (n) => (n === null || n === undefined || Math.abs(n) < 0.005 ? '' : n > 0 ? 'pos' : 'neg');

const pad = (n) => String(n).padStart(2, '0');

/** Local wall-clock time of an epoch-ms instant, to the second. */
export function time(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function millis(n) {
  if (n === null || n === undefined) return '—';
  return n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n)} ms`;
}

export function percent(x) {
  if (x === null || x === undefined) return '—';
  return `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;
}

export const count = (n) => (n === null || n === undefined ? '—' : n.toLocaleString('en-US'));

/** A risk decision's compared values (`detail`, JSON) as `key=value` pairs a person can scan. */
export function detail(text) {
  if (!text) return '';
  try {
    const o = JSON.parse(text);
    if (o === null || typeof o !== 'object') return String(o);
    return Object.entries(o)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(6) : typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(' ');
  } catch {
    return text;
  }
}

/** Trading-state and status words → CSS class. */
export function stateClass(s) {
  switch (s) {
    case 'HALTED': case 'DENIED': case 'REJECTED': case 'BUST': case 'UNKNOWN': return 'bad';
    case 'REDUCING': case 'NO_ACTION': case 'CANCELED': case 'PARTIALLY_FILLED': case 'CORRECTION': case 'DIFF': case 'NOT IN PARQUET YET': return 'warn';
    case 'ACTIVE': case 'APPROVED': case 'FILLED': case 'FILL': case 'MATCH': return 'good';
    default: return '';
  }
}

export const short = (id, n = 8) => (id && id.length > n + 1 ? `${id.slice(0, n)}…` : id ?? '—');

/** `desk` → `Desk`, for buttons and dialog titles. */
export const title = (s) => s.charAt(0).toUpperCase() + s.slice(1);
