// State → DOM. Every value is set as text (never as HTML), so a symbol, a reason or an id from the
// feed can only ever be displayed. Raw numbers ride along in data-value for tests and copy-paste.
import { amount, count, detail, millis, money, percent, pnlClass, price, qty, short, stateClass, time } from './format.js';

const h = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'disabled') e.disabled = true;
    else e.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
};

/** A cell: text, an optional class, and the raw value it shows. */
const c = (text, cls, value) => ({ text, cls, value });
const num = (n, fmt = money, colour = true) => c(fmt(n), `num ${colour ? pnlClass(n) : ''}`, n);
const badge = (s) => h('span', { class: `badge ${stateClass(s)}` }, s);

function table(el, heads, rows) {
  const head = h('thead', {}, h('tr', {}, ...heads.map((x) => h('th', { class: x.startsWith('#') ? 'num' : '' }, x.replace(/^#/, '')))));
  const body = h('tbody');
  for (const r of rows) {
    const tr = h('tr', r.attrs ?? {});
    for (const cell of r.cells) {
      const td = h('td', { class: cell.cls, 'data-value': cell.value });
      if (cell.node) td.append(cell.node);
      else td.textContent = cell.text ?? '';
      tr.append(td);
    }
    body.append(tr);
  }
  if (rows.length === 0) body.append(h('tr', {}, h('td', { class: 'empty', colspan: heads.length }, 'nothing yet')));
  el.replaceChildren(head, body);
}

export const stateOf = (states, scope, target) => states.find((s) => s.scope === scope && s.target === target)?.state ?? 'ACTIVE';

/** Halt / Reduce / Resume for one scope and target; disabled for a viewer and for the state it is in. */
function actions(ctx, scope, target, current) {
  const wrap = h('span', { class: 'row-actions' });
  for (const [action, label, to] of [['halt', 'Halt', 'HALTED'], ['reduce', 'Reduce', 'REDUCING'], ['resume', 'Resume', 'ACTIVE']]) {
    wrap.append(h('button', {
      type: 'button', class: `small ${action}`, 'data-action': action, 'data-scope': scope, 'data-target': target,
      disabled: !ctx.canAct || current === to, title: ctx.canAct ? `${label} ${scope} ${target}` : 'needs the operator role',
    }, label));
  }
  return { node: wrap, cls: 'actions' };
}

/** The book now, relative to the day's start: the curve's live end and the Today figure. */
export function todayPoint(s, t) {
  const { totals } = s.book;
  const b = s.curve.base;
  return { t, realized: totals.realized - b.realized, fees: totals.fees - b.fees, unrealized: totals.unrealized - b.unrealized };
}

export function renderKpis(el, s) {
  const t = s.book.totals;
  const today = todayPoint(s, 0);
  const denied = s.decisions.filter((d) => d.verdict === 'DENIED').length;
  const working = s.orders.filter((o) => o.status === 'NEW' || o.status === 'ACKNOWLEDGED' || o.status === 'PARTIALLY_FILLED').length;
  const cards = [
    ['Net P&L', money(t.net), pnlClass(t.net), 'kpi-net', t.net],
    ['Today', money(today.realized - today.fees + today.unrealized), pnlClass(today.realized - today.fees + today.unrealized), 'kpi-today'],
    ['Realized', money(t.realized), pnlClass(t.realized), 'kpi-realized', t.realized],
    ['Unrealized', money(t.unrealized) + (t.unmarked ? ` (${t.unmarked} unmarked)` : ''), pnlClass(t.unrealized), 'kpi-unrealized', t.unrealized],
    ['Fees', money(-t.fees), pnlClass(-t.fees), 'kpi-fees', t.fees],
    ['Open positions', count(t.open), '', 'kpi-open', t.open],
    ['Gross exposure', amount(t.gross), '', 'kpi-gross', t.gross],
    ['Working orders', count(working), '', 'kpi-working', working],
    ['Denied (recent)', count(denied), denied ? 'neg' : '', 'kpi-denied', denied],
  ];
  el.replaceChildren(...cards.map(([label, value, cls, id, raw]) =>
    h('div', { class: 'kpi', id }, h('div', { class: 'kpi-label' }, label), h('div', { class: `kpi-value ${cls}`, 'data-value': raw }, value))));
}

export function renderAccounts(el, s, ctx) {
  table(el, ['Account', 'Strategies', 'State', '#Realized', '#Unrealized', '#Fees', '#Net', ''],
    s.book.accounts.map((a) => {
      const st = stateOf(s.states, 'ACCOUNT', a.account);
      return {
        attrs: { 'data-account': a.account },
        cells: [c(a.account, 'id'), c(a.strategies.join(', ')), { node: badge(st) }, num(a.realized), num(a.unmarked ? null : a.unrealized),
          num(a.fees, amount, false), num(a.net), actions(ctx, 'account', a.account, st)],
      };
    }));
}

export function renderStrategies(el, s, ctx) {
  table(el, ['Strategy', 'Account', 'State', '#Realized', '#Fees', '#Unrealized', '#Fills', ''],
    s.book.strategies.map((x) => {
      const st = stateOf(s.states, 'STRATEGY', x.strategy);
      return {
        attrs: { 'data-strategy': x.strategy },
        cells: [c(x.strategy, 'id'), c(x.account), { node: badge(st) }, num(x.realizedToday), num(x.feesToday, amount, false),
          x.unrealized === null ? c('shared account', 'num muted') : num(x.unrealized), num(x.fillsToday, count, false), actions(ctx, 'strategy', x.strategy, st)],
      };
    }));
}

export function renderPositions(el, s) {
  table(el, ['Account', 'Symbol', 'Venue', '#Quantity', '#Avg price', '#Mark', '#Realized', '#Unrealized', '#Fees', '#Net', '#Fills', 'Updated'],
    s.book.positions.map((p) => ({
      attrs: { 'data-position': `${p.account}|${p.symbol}|${p.venue}` },
      cells: [c(p.account, 'id'), c(p.symbol, 'id'), c(p.venue), num(p.quantity, qty, false), num(p.avgPrice, price, false), num(p.mark, price, false),
        num(p.realizedPnl), num(p.unrealizedPnl), num(p.fees, amount, false), num(p.netPnl), num(p.fillCount, count, false), c(time(Date.parse(p.updatedAt)))],
    })));
}

export function renderOrders(el, s) {
  table(el, ['Time', 'Order', 'Strategy', 'Symbol', 'Side', '#Qty', 'Type', 'Venue', 'Status', '#Filled', '#Avg price', 'Reason'],
    [...s.orders].reverse().map((o) => ({
      attrs: { 'data-order-id': o.orderId, 'data-status': o.status },
      cells: [c(time(o.createdAt)), c(short(o.orderId), 'id mono'), c(o.strategy), c(o.symbol, 'id'), c(o.side, o.side === 'BUY' ? 'buy' : 'sell'),
        num(o.quantity, qty, false), c(o.orderType === 'LIMIT' ? `LIMIT ${price(o.limitPrice)}` : o.orderType), c(o.venue), { node: badge(o.status) },
        num(o.filledQty, qty, false), num(o.avgPrice, price, false), c(o.reason ?? '', 'muted')],
    })));
}

export function renderFills(el, s) {
  table(el, ['Time', 'Type', 'Strategy', 'Symbol', 'Side', '#Qty', '#Price', '#Fee', 'Venue', 'Order'],
    [...s.fills].reverse().map((f) => ({
      attrs: { 'data-execution-id': f.executionId, 'data-order-id': f.orderId },
      cells: [c(time(f.recordedAt)), { node: badge(f.type) }, c(f.strategy), c(f.symbol, 'id'), c(f.side, f.side === 'BUY' ? 'buy' : 'sell'),
        num(f.qty, qty, false), num(f.price, price, false), num(f.fee, amount, false), c(f.venue), c(short(f.orderId), 'id mono')],
    })));
}

export function renderDecisions(el, s) {
  table(el, ['Time', 'Verdict', 'Reason', 'Detail', 'Strategy', 'Account', 'Symbol', 'Side', '#Qty', 'Venue'],
    [...s.decisions].reverse().map((d) => ({
      attrs: { 'data-signal-id': d.signalId, 'data-verdict': d.verdict, 'data-reason': d.reason ?? '', 'data-order-id': d.orderId },
      cells: [c(time(d.decidedAt)), { node: badge(d.verdict) }, c(d.reason ?? '', 'reason'), c(detail(d.detail), 'detail mono'), c(d.strategy), c(d.account),
        c(d.symbol, 'id'), c(d.side ?? '—'), num(d.quantity, qty, false), c(d.venue ?? '—')],
    })));
}

export function renderVenues(el, s, ctx) {
  table(el, ['Venue', 'State', '#Ack p50', '#Ack p99', '#Reject rate', 'Last fill', 'Connector', ''],
    s.venues.map((v) => {
      const k = v.connector;
      const conn = k ? `${k.state}${k.streamSilent ? ', stream silent' : ''}${k.probeUp === false ? `, probe failed: ${k.probeDetail ?? ''}` : k.probeMs !== null ? `, probe ${millis(k.probeMs)}` : ''}` : 'other process';
      return {
        attrs: { 'data-venue': v.venue },
        cells: [c(v.venue, 'id'), { node: h('span', { title: v.stateReason ?? '' }, badge(v.state)) }, c(millis(v.ackP50Ms), 'num'), c(millis(v.ackP99Ms), 'num'),
          c(`${percent(v.errorRate)}${v.samples ? ` of ${v.samples}` : ''}`, `num ${v.errorRate > 0.05 ? 'neg' : ''}`), c(time(v.lastFillAt)), c(conn, k && k.state !== 'running' ? 'neg' : 'muted'),
          actions(ctx, 'venue', v.venue, stateOf(s.states, 'VENUE', v.venue))],
      };
    }));
}

export function renderLag(el, s) {
  table(el, ['Processor', 'Topic', '#Lag', 'Partitions (committed / high)'],
    s.lag.map((l) => ({
      attrs: { 'data-component': l.component },
      cells: [c(l.component, 'id'), c(l.topic, 'mono'), c(count(l.lag), `num ${l.lag > 100 ? 'neg' : ''}`, l.lag),
        c(l.partitions.map((p) => `p${p.partition} ${p.committed ?? '–'}/${p.high}`).join('  '), 'mono muted')],
    })));
}

export function renderRecon(el, note, s) {
  const r = s.recon;
  note.textContent = r === null ? 'no DuckDB analytics in this edge process'
    : `${r.matched} of ${r.total} positions match${r.error ? ` · ${r.error}` : ''} · last change ${time(r.at)}`;
  table(el, ['Account', 'Symbol', 'Venue', '#Realized (Postgres)', '#Realized (DuckDB)', '#Fees (Postgres)', '#Fees (DuckDB)', ''],
    (r?.rows ?? []).map((x) => ({
      attrs: { 'data-recon': `${x.account}|${x.symbol}|${x.venue}`, 'data-match': String(x.match) },
      cells: [c(x.account, 'id'), c(x.symbol, 'id'), c(x.venue), num(x.pg?.realized ?? null), num(x.duck?.realized ?? null),
        num(x.pg?.fees ?? null, amount, false), num(x.duck?.fees ?? null, amount, false), { node: badge(x.match ? 'MATCH' : x.duck === null ? 'NOT IN PARQUET YET' : 'DIFF') }],
    })));
}

/** Orders of unknown outcome: never resent, looked up by their connector until the venue lists them. */
export function renderUnknown(el, s) {
  table(el, ['Since', 'Venue', 'Client order id', 'Symbol', 'Side', '#Quantity', 'Account', 'Strategy', 'Reason'],
    (s.unknownOrders ?? []).map((u) => ({
      attrs: { 'data-unknown': u.clientOrderId, 'data-venue': u.venue },
      cells: [c(time(u.since)), c(u.venue, 'id'), c(u.clientOrderId, 'mono'), c(u.symbol, 'id'), c(u.side), c(qty(u.quantity), 'num', u.quantity),
        c(u.account), c(u.strategy), { node: h('span', { title: u.reason }, badge('UNKNOWN'), ` ${u.reason}`) }],
    })));
}

export function renderStates(el, s) {
  table(el, ['Scope', 'Target', 'State', 'Reason', 'By', 'At'],
    s.states.map((x) => ({
      attrs: { 'data-scope': x.scope, 'data-target': x.target, 'data-state': x.state },
      cells: [c(x.scope), c(x.target, 'id'), { node: badge(x.state) }, c(x.reason ?? '', 'muted'), c(x.actor), c(time(x.at))],
    })));
}
