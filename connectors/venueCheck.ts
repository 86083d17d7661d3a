// `order-router venue-check <venue>`, the part that talks to the venue: a safe round trip through a
// VenueClient, each step PASSED, FAILED (with the reason) or SKIPPED (a capability the client lacks).
// Instrument rules, a quote, a buy limit far under the market, its look-up by client order id, its
// cancel, and the push stream's events for both. What a desk runs before a venue goes to shadow, then
// live. An order left resting by a failed step is canceled at the end, or named so a person can.
import { randomBytes } from 'node:crypto';
import { isRetriable } from '../schemas/errors.ts';
import { hasInstruments, type VenueInstrument } from './venueCapabilities.ts';
import type { VenueClient, VenueEvent, VenueOrderState, VenueQuote } from './venue.ts';

export type StepStatus = 'PASSED' | 'FAILED' | 'SKIPPED';
export interface StepResult { step: string; status: StepStatus; detail: string }

export interface VenueCheckOptions {
  symbol: string;
  /** How far under the bid the limit goes, in percent (default 10). */
  awayPct?: number;
  /** Quantity; default the smallest the instrument rules allow at that price (1 without rules). */
  quantity?: number;
  /** How long to wait for each push event and for a cancel to settle (default 10 s). */
  waitMs?: number;
  /** Called as each step ends, so a terminal shows progress. */
  onStep?(r: StepResult): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const reason = (e: unknown): string => {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : null;
  const msg = e instanceof Error ? e.message : String(e);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
};
const OPEN = new Set(['NEW', 'PARTIALLY_FILLED']);

/** The limit price and quantity of the check's order (pure): under the bid, on the tick, above the minimums. */
export function checkOrderTerms(bid: number, rules: VenueInstrument | null, awayPct: number, quantity?: number): { price: number; quantity: number } {
  const tick = rules && rules.tickSize > 0 ? rules.tickSize : 0.01;
  const decimals = Math.max(0, Math.ceil(-Math.log10(tick) - 1e-9));
  const price = Number((Math.max(tick, Math.floor((bid * (1 - awayPct / 100)) / tick) * tick)).toFixed(decimals));
  if (quantity !== undefined) return { price, quantity };
  const lot = rules && rules.lotSize > 0 ? rules.lotSize : 1;
  const lotDecimals = Math.max(0, Math.ceil(-Math.log10(lot) - 1e-9));
  const least = Math.max(lot, rules?.minQty ?? 0, rules && rules.minNotional > 0 ? (rules.minNotional * 1.05) / price : 0);
  return { price, quantity: Number((Math.ceil(least / lot - 1e-9) * lot).toFixed(lotDecimals)) };
}

/** A client order id every venue takes (letters and digits, 20 characters), marked as a check's. */
export const checkClientOrderId = (): string => `vchk${Date.now().toString(36)}${randomBytes(4).toString('hex')}`.slice(0, 20);

export async function runVenueCheck(client: VenueClient, o: VenueCheckOptions): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const waitMs = o.waitMs ?? 10_000;
  const record = (step: string, status: StepStatus, detail: string) => { const r = { step, status, detail }; results.push(r); o.onStep?.(r); return status === 'PASSED'; };
  const notRun = (steps: string[], why: string) => { for (const s of steps) record(s, 'FAILED', `not run: ${why}`); };
  const events: { at: number; order: VenueOrderState }[] = [];
  const cid = checkClientOrderId();
  let unsubscribe: (() => void) | null = null;
  let resting = false;

  const steps = ['instrument rules', 'quote', 'limit order', 'look-up by client order id', 'stream: the new order', 'cancel', 'stream: its cancel'] as const;
  try {
    try {
      await client.connect();
      unsubscribe = client.onEvent((ev: VenueEvent) => { if (ev.kind === 'order' && ev.order.clientOrderId === cid) events.push({ at: Date.now(), order: ev.order }); });
      const h = await client.health();
      if (!record('connect', h.up ? 'PASSED' : 'FAILED', h.up ? `up${h.latencyMs !== null ? `, ${h.latencyMs} ms` : ''}` : `health says down: ${h.detail ?? 'no detail'}`)) { notRun([...steps], 'the venue is not up'); return results; }
    } catch (e) {
      record('connect', 'FAILED', reason(e));
      notRun([...steps], 'no connection');
      return results;
    }

    let rules: VenueInstrument | null = null;
    if (!hasInstruments(client)) record('instrument rules', 'SKIPPED', `the ${client.venue} client reads no instrument rules`);
    else {
      try {
        rules = (await client.instruments([o.symbol])).find((r) => r.symbol === o.symbol) ?? null;
        if (rules === null) record('instrument rules', 'FAILED', `${o.symbol} is not listed`);
        else record('instrument rules', rules.trading ? 'PASSED' : 'FAILED',
          `${rules.venueSymbol}: ${rules.trading ? 'trading' : 'NOT trading'}, lot ${rules.lotSize}, tick ${rules.tickSize}, min qty ${rules.minQty}, max qty ${rules.maxQty || '-'}, min notional ${rules.minNotional}`);
      } catch (e) { record('instrument rules', 'FAILED', reason(e)); }
    }

    let quote: VenueQuote | null = null;
    if (!client.quotes) { notRun(steps.slice(1), `the ${client.venue} client gives no quotes: no safe price for the order`); return results; }
    try {
      // Some venues answer the first request for a symbol with nothing and start its stream (IBKR's snapshot).
      const deadline = Date.now() + waitMs;
      while ((quote = (await client.quotes([o.symbol])).find((q) => q.symbol === o.symbol) ?? null) === null && Date.now() < deadline) await sleep(500);
      if (quote === null || !(quote.bid > 0) || !(quote.ask >= quote.bid)) record('quote', 'FAILED', quote === null ? `no quote for ${o.symbol}` : `unusable quote bid ${quote.bid} ask ${quote.ask}`);
      else record('quote', 'PASSED', `bid ${quote.bid} x ask ${quote.ask} (sizes ${quote.bidSize} / ${quote.askSize}), venue time ${new Date(quote.venueTime).toISOString()}`);
    } catch (e) { record('quote', 'FAILED', reason(e)); }
    if (quote === null || !(quote.bid > 0)) { notRun(steps.slice(2), 'no quote to price a safe order'); return results; }

    const terms = checkOrderTerms(quote.bid, rules, o.awayPct ?? 10, o.quantity);
    const sentAt = Date.now();
    let placed: VenueOrderState;
    try {
      placed = await client.submit({ clientOrderId: cid, symbol: o.symbol, side: 'BUY', quantity: terms.quantity, orderType: 'LIMIT', limitPrice: terms.price, timeInForce: 'DAY' });
      resting = OPEN.has(placed.status);
      const what = `BUY ${terms.quantity} ${o.symbol} @ ${terms.price} DAY (${o.awayPct ?? 10}% under the bid), client order id ${cid}: ${placed.status}`;
      record('limit order', resting && placed.filledQty === 0 ? 'PASSED' : 'FAILED', `${what}${placed.venueOrderId ? `, venue order id ${placed.venueOrderId}` : ''}${placed.rejectReason ? `, ${placed.rejectReason}` : ''}`);
    } catch (e) {
      record('limit order', 'FAILED', reason(e));
      if (!isRetriable(e)) { notRun(steps.slice(3), 'the venue refused the order'); return results; }
      resting = true; // a timeout or an outage: the outcome is unknown, so it is looked up and canceled below
      placed = { clientOrderId: cid, venueOrderId: '', symbol: o.symbol, side: 'BUY', quantity: terms.quantity, status: 'NEW', filledQty: 0, fills: [], rejectReason: null, venueTime: 0 };
    }

    try {
      const found = await client.lookup(cid, o.symbol);
      if (found === null) record('look-up by client order id', 'FAILED', `${client.venue} does not find ${cid}`);
      else {
        resting = OPEN.has(found.status);
        const same = !placed.venueOrderId || found.venueOrderId === placed.venueOrderId;
        record('look-up by client order id', same && found.clientOrderId === cid ? 'PASSED' : 'FAILED',
          `${found.status}, venue order id ${found.venueOrderId}${same ? '' : ` (the submit said ${placed.venueOrderId})`}`);
      }
    } catch (e) { record('look-up by client order id', 'FAILED', reason(e)); }

    const until = async (pred: (s: VenueOrderState) => boolean) => {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const e = events.find((x) => pred(x.order));
        if (e || Date.now() > deadline) return e ?? null;
        await sleep(100);
      }
    };
    const newEvent = await until((s) => OPEN.has(s.status));
    record('stream: the new order', newEvent ? 'PASSED' : 'FAILED', newEvent
      ? `${newEvent.order.status} on the event stream ${newEvent.at - sentAt} ms after the submit`
      : `no event with the order open for ${cid} within ${waitMs} ms: the runtime would fall back to polling`);
    const canceled = resting ? await cancelAndSettle(client, cid, o.symbol, waitMs) : null;
    if (canceled === null) record('cancel', 'FAILED', 'not run: no resting order to cancel');
    else if (canceled.ok) { resting = false; record('cancel', 'PASSED', canceled.detail); }
    else record('cancel', 'FAILED', canceled.detail);

    const cancelEvent = canceled?.ok ? await until((s) => s.status === 'CANCELED') : null;
    record('stream: its cancel', cancelEvent ? 'PASSED' : 'FAILED', cancelEvent ? `CANCELED on the event stream ${cancelEvent.at - sentAt} ms after the submit` : canceled?.ok ? `no CANCELED event within ${waitMs} ms` : 'not run: the order was not canceled');
    return results;
  } finally {
    if (resting) {
      const last = await cancelAndSettle(client, cid, o.symbol, waitMs).catch((e) => ({ ok: false, detail: reason(e) }));
      record('clean-up', last.ok ? 'PASSED' : 'FAILED', last.ok ? `check order ${cid} canceled` : `order ${cid} (${o.symbol}) may still rest at ${client.venue}: cancel it by hand (${last.detail})`);
    }
    unsubscribe?.();
    await client.disconnect().catch(() => {});
  }
}

/** Cancels and waits until the venue says CANCELED (some answer "pending cancel" first). */
async function cancelAndSettle(client: VenueClient, cid: string, symbol: string, waitMs: number): Promise<{ ok: boolean; detail: string }> {
  let state: VenueOrderState | null;
  try {
    state = await client.cancel(cid, symbol);
  } catch (e) {
    return { ok: false, detail: reason(e) };
  }
  const deadline = Date.now() + waitMs;
  while (state !== null && state.status !== 'CANCELED' && OPEN.has(state.status) && Date.now() < deadline) {
    await sleep(500);
    state = await client.lookup(cid, symbol);
  }
  if (state === null) return { ok: false, detail: `${client.venue} no longer finds ${cid}` };
  return state.status === 'CANCELED' ? { ok: true, detail: `CANCELED${state.filledQty > 0 ? ` after ${state.filledQty} filled` : ''}` } : { ok: false, detail: `the order is ${state.status}` };
}
