// VenueClient for Binance spot: a coordinator over signed REST for orders keyed by newClientOrderId
// (rest.ts), myTrades as the fill statement, the user data stream over the WebSocket API (userData.ts),
// the unknown-outcome window (unknownOutcome.ts), fee conversion (feeRates.ts), book tickers
// (marketData.ts), exchangeInfo rules (rules.ts) and exit pairs as native OCO order lists (orderParams.ts).
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { VenueError } from '../http.ts';
import type { InstrumentSource, NativeOco, OcoLegs, UnknownOutcomeWindow } from '../venueCapabilities.ts';
import type { VenueClient, VenueEvent, VenueHealth, VenueOrderRequest, VenueOrderState, VenueQuote } from '../venue.ts';
import type { BinanceConfig } from './config.ts';
import { submitOutcome } from './errors.ts';
import { createFeeRates } from './feeRates.ts';
import { createBookTickers } from './marketData.ts';
import {
  eventFromExecutionReport, executionReportSchema, klinesSchema, orderSchema, orderState, ratesNeeded, stateFromPlacement, stateWithTrades, tradeSchema,
  type FeeContext,
} from './parse.ts';
import { binanceOcoParams, binanceOrderParams } from './orderParams.ts';
import { createBinanceRest, type Params } from './rest.ts';
import { exchangeInfoSchema, rulesFromExchangeInfo, type InstrumentRules } from './rules.ts';
import { assetsOf, toVenue } from './symbols.ts';
import { createUnknownWindows } from './unknownOutcome.ts';
import { openUserDataStream, type UserDataStream } from './userData.ts';

export interface BinanceClientDeps { log?: Logger; clock?: () => number }
/** InstrumentRules is a VenueInstrument with more: the client is an InstrumentSource too. */
export type BinanceClient = VenueClient & UnknownOutcomeWindow & NativeOco & {
  instruments(symbols?: string[]): Promise<InstrumentRules[]>;
  quotes(symbols: string[]): Promise<VenueQuote[]>;
};

// rest-api.md "New Order list - OCO", response: the list and, with FULL, each leg's order report.
const orderListSchema = z.object({ orderListId: z.number(), listClientOrderId: z.string(), transactionTime: z.number().optional(), orderReports: z.array(orderSchema) });
// rest-api.md "Current open orders": 6 a symbol, 80 for all symbols at once.
const OPEN_ORDERS_ONE = 6, OPEN_ORDERS_ALL = 80;


export function createBinanceClient(config: BinanceConfig, { log, clock = Date.now }: BinanceClientDeps = {}): BinanceClient {
  const venue = config.venue;
  const rest = createBinanceRest(config, { log, clock });
  const listeners = new Set<(e: VenueEvent) => void>();
  const symbolOf = new Map<string, string>(); // clientOrderId → venue symbol, for look-ups without one
  const windows = createUnknownWindows({ windowMs: config.unknownWindowMs, recvWindowMs: config.recvWindowMs, startedAt: clock() });
  const sentHere = new Set<string>(); // ids this process has sent: a submit of one of them settles the last send first
  const waiters = new Map<string, Set<() => void>>(); // look-ups inside the window, woken by a push for their id
  const learnt = new Map<string, { base: string; quote: string }>(); // assets of symbols read from exchangeInfo
  let userData: UserDataStream | null = null;
  let reports: Promise<void> = Promise.resolve(); // pushes handled one at a time, in arrival order

  const feeRates = createFeeRates(async (pair, at) => {
    const minute = Math.floor(at / 60_000) * 60_000;
    const rows = await rest.call('klines', 'GET', '/api/v3/klines', klinesSchema, {
      params: { symbol: pair, interval: '1m', endTime: minute + 59_999, limit: 1 }, weight: 2, nullOn: (e) => e.venueCode === '-1121',
    });
    return rows === null ? null : rows.length > 0 ? rows[0][1] : 0;
  }, (e, pair) => log?.warn({ venue, pair, err: e instanceof Error ? e.message : String(e) }, 'fee rate not read; the fill waits for a later look-up'));
  const fx: FeeContext = { assets: (s) => assetsOf(s) ?? learnt.get(s) ?? null, rate: feeRates.rate };
  const book = createBookTickers({
    config, log, clock,
    fetchTickers: (symbols) => rest.must('bookTicker', 'GET', '/api/v3/ticker/bookTicker', z.unknown(), { params: { symbols: JSON.stringify(symbols) }, weight: 4 }),
  });

  const venueSymbol = (clientOrderId: string, symbol: string | undefined, operation: string): string => {
    const s = symbol ? toVenue(symbol) : symbolOf.get(clientOrderId);
    if (!s) throw new VenueError('VENUE_REJECTED', `${venue} ${operation} ${clientOrderId}: Binance needs the symbol to find an order`, { venue, operation, clientOrderId });
    return s;
  };

  async function lookupOnce(clientOrderId: string, s: string): Promise<VenueOrderState | null> {
    const o = await rest.call('lookup', 'GET', '/api/v3/order', orderSchema, {
      params: { symbol: s, origClientOrderId: clientOrderId }, signed: true, weight: 4, clientOrderId, nullOn: (e) => e.code === 'VENUE_NOT_FOUND',
    });
    if (!o) return null;
    if (!(o.executedQty > 0)) return orderState(o, [], true);
    // rest-api.md "Account trade list": weight 5 with orderId.
    const trades = await rest.must('myTrades', 'GET', '/api/v3/myTrades', z.array(tradeSchema), { params: { symbol: s, orderId: o.orderId }, signed: true, weight: 5, clientOrderId });
    await feeRates.prepare(ratesNeeded(s, trades, fx.assets));
    return stateWithTrades(o, trades, fx);
  }

  const wake = (cid: string) => { for (const w of waiters.get(cid) ?? []) w(); waiters.delete(cid); };
  const nap = (cid: string, ms: number) => new Promise<void>((resolve) => {
    const set = waiters.get(cid) ?? new Set();
    const done = () => { clearTimeout(t); set.delete(done); resolve(); };
    const t = setTimeout(done, ms);
    set.add(done);
    waiters.set(cid, set);
  });

  /** null only once nothing sent under this id can still take effect (unknownOutcome.ts). */
  async function lookup(clientOrderId: string, symbol?: string): Promise<VenueOrderState | null> {
    const s = venueSymbol(clientOrderId, symbol, 'lookup');
    let logged = false;
    for (;;) {
      const found = await lookupOnce(clientOrderId, s);
      if (found) { windows.found(clientOrderId); return found; }
      const left = windows.conclusiveAt(clientOrderId) - clock();
      if (left <= 0) return null;
      if (!logged) log?.info({ venue, clientOrderId, waitMs: left }, 'order not found yet, but an earlier send may still land: looking again until the unknown window has passed');
      logged = true;
      await nap(clientOrderId, Math.min(config.unknownPollMs, left));
    }
  }

  async function handleReport(event: Record<string, unknown>): Promise<void> {
    const parsed = executionReportSchema.safeParse(event);
    if (!parsed.success) { log?.warn({ venue, issue: parsed.error.issues[0]?.message }, 'unreadable executionReport skipped'); return; }
    const r = parsed.data;
    if (r.x === 'TRADE') await feeRates.prepare(ratesNeeded(r.s, [{ commission: r.n ?? 0, commissionAsset: r.N, time: r.T }], fx.assets));
    const ev = eventFromExecutionReport(r, fx);
    if (ev.kind === 'order') wake(ev.order.clientOrderId);
    for (const l of listeners) l(ev);
  }

  async function submit(order: VenueOrderRequest): Promise<VenueOrderState> {
    const cid = order.clientOrderId;
    const typed = binanceOrderParams(venue, order);
    const s = toVenue(order.symbol);
    symbolOf.set(cid, s);
    // An earlier send of this id may still land, and the id is free again once that order has filled:
    // settle it before sending again, whoever asks.
    if (sentHere.has(cid) && windows.conclusiveAt(cid) > clock()) {
      const existing = await lookup(cid, order.symbol);
      if (existing) return existing;
    }
    const params: Params = { symbol: s, ...typed, newClientOrderId: cid, newOrderRespType: 'FULL' };
    sentHere.add(cid);
    windows.sent(cid, clock());
    try {
      const placed = await rest.must('submit', 'POST', '/api/v3/order', orderSchema, { params, signed: true, weight: 1, clientOrderId: cid });
      windows.found(cid);
      const at = placed.transactTime ?? placed.time ?? clock();
      await feeRates.prepare(ratesNeeded(s, (placed.fills ?? []).map((f) => ({ ...f, time: at })), fx.assets));
      return stateFromPlacement(placed, fx);
    } catch (e) {
      if (submitOutcome(e) === 'refused') { windows.refused(cid); throw e; }
      windows.unknown(cid, clock());
      // The id is taken by an order still open: an earlier attempt got through. That is the answer,
      // once the look-up sees it; a duplicate is never a reason to record a REJECT.
      if (e instanceof VenueError && e.code === 'VENUE_DUPLICATE') {
        const existing = await lookup(cid, order.symbol);
        if (existing) return existing;
        throw new VenueError('VENUE_UNAVAILABLE', `${venue} submit ${cid}: the venue calls the id taken but shows no such order; outcome unknown`, { venue, operation: 'submit', clientOrderId: cid, cause: e });
      }
      throw e;
    }
  }

  /**
   * rest-api.md "New Order list - OCO": one request, two orders, each under our own client order id, so
   * look-ups stay per order; the list id derives from both, so a resend while the list is open is a
   * duplicate, never a second list. Outcomes as for submit: a refusal leaves neither leg; an unknown
   * outcome marks both legs' windows, and "duplicate" is answered by looking both up.
   */
  async function submitOco(legs: OcoLegs): Promise<{ takeProfit: VenueOrderState; stopLoss: VenueOrderState }> {
    const typed = binanceOcoParams(legs.takeProfit, legs.stopLoss);
    if (typed === null) throw new VenueError('VENUE_REJECTED', `${venue} OCO ${legs.takeProfit.clientOrderId}: no OCO form for this pair`, { venue, operation: 'submitOco', clientOrderId: legs.takeProfit.clientOrderId, venueCode: 'ORDER_TYPE_UNSUPPORTED' });
    const cids = [legs.takeProfit.clientOrderId, legs.stopLoss.clientOrderId];
    const s = toVenue(legs.takeProfit.symbol);
    const listClientOrderId = `oco${createHash('sha256').update(cids.join('|')).digest('hex').slice(0, 32)}`;
    for (const cid of cids) { symbolOf.set(cid, s); sentHere.add(cid); windows.sent(cid, clock()); }
    const both = async () => {
      const [takeProfit, stopLoss] = await Promise.all(cids.map((cid) => lookup(cid, legs.takeProfit.symbol)));
      return takeProfit && stopLoss ? { takeProfit, stopLoss } : null;
    };
    try {
      const list = await rest.must('submitOco', 'POST', '/api/v3/orderList/oco', orderListSchema, {
        params: { symbol: s, listClientOrderId, ...typed, newOrderRespType: 'FULL' }, signed: true, weight: 1, clientOrderId: cids[0],
      });
      const [tp, sl] = cids.map((cid) => list.orderReports.find((r) => r.clientOrderId === cid));
      if (!tp || !sl) throw new VenueError('VENUE_BAD_RESPONSE', `${venue} OCO ${listClientOrderId}: the answer does not list both legs`, { venue, operation: 'submitOco', clientOrderId: cids[0] });
      for (const cid of cids) windows.found(cid);
      const at = list.transactionTime ?? clock();
      await feeRates.prepare(ratesNeeded(s, [...tp.fills ?? [], ...sl.fills ?? []].map((f) => ({ ...f, time: at })), fx.assets));
      return { takeProfit: stateFromPlacement(tp, fx), stopLoss: stateFromPlacement(sl, fx) };
    } catch (e) {
      if (submitOutcome(e) === 'refused') { for (const cid of cids) windows.refused(cid); throw e; }
      for (const cid of cids) windows.unknown(cid, clock());
      if (e instanceof VenueError && e.code === 'VENUE_DUPLICATE') {
        const existing = await both();
        if (existing) return existing;
        throw new VenueError('VENUE_UNAVAILABLE', `${venue} OCO ${listClientOrderId}: the venue calls an id taken but does not show both legs; outcome unknown`, { venue, operation: 'submitOco', clientOrderId: cids[0], cause: e });
      }
      throw e;
    }
  }

  async function openOrders(): Promise<VenueOrderState[]> {
    const symbols = [...new Set([...config.symbols, ...symbolOf.values()])];
    const schema = z.array(orderSchema);
    const lists = symbols.length * OPEN_ORDERS_ONE < OPEN_ORDERS_ALL
      ? await Promise.all(symbols.map((symbol) => rest.must('openOrders', 'GET', '/api/v3/openOrders', schema, { params: { symbol }, signed: true, weight: OPEN_ORDERS_ONE })))
      : [await rest.must('openOrders', 'GET', '/api/v3/openOrders', schema, { signed: true, weight: OPEN_ORDERS_ALL })];
    return lists.flat().map((o) => orderState(o, [], false));
  }

  async function instruments(symbols?: string[]): Promise<InstrumentRules[]> {
    const venueSymbols = (symbols ?? []).map(toVenue);
    const info = await rest.must('exchangeInfo', 'GET', '/api/v3/exchangeInfo', exchangeInfoSchema, {
      params: venueSymbols.length > 0 ? { symbols: JSON.stringify(venueSymbols) } : {}, weight: 20,
    });
    const rules = rulesFromExchangeInfo(info);
    for (const r of rules) learnt.set(r.venueSymbol, { base: r.baseAsset, quote: r.quoteAsset });
    return rules;
  }

  const client: BinanceClient & InstrumentSource = {
    venue,
    unknownOutcomeWindowMs: config.unknownWindowMs,
    mayHaveBeenSent: (cid, at) => windows.mayHaveBeenSent(cid, at),
    async connect() {
      await rest.syncTime();
      if (userData) return;
      userData = openUserDataStream({
        config, log, serverNow: rest.serverNow, resyncClock: rest.syncTime,
        onEvent(event) {
          if (event.e !== 'executionReport') return; // balance and account updates are not ours to record
          reports = reports.then(() => handleReport(event)).catch((e) => log?.warn({ venue, err: e instanceof Error ? e.message : String(e) }, 'executionReport not handled'));
        },
      });
    },
    async disconnect() {
      userData?.stop();
      userData = null;
      book.stop();
    },
    submit,
    ocoSupported: (legs) => binanceOcoParams(legs.takeProfit, legs.stopLoss) !== null,
    submitOco,
    async cancel(clientOrderId, symbol) {
      const s = venueSymbol(clientOrderId, symbol, 'cancel');
      await rest.call('cancel', 'DELETE', '/api/v3/order', z.unknown(), { params: { symbol: s, origClientOrderId: clientOrderId }, signed: true, weight: 1, clientOrderId });
      const state = await lookupOnce(clientOrderId, s);
      if (!state) throw new VenueError('VENUE_NOT_FOUND', `${venue} cancel ${clientOrderId}: no such order`, { venue, operation: 'cancel', clientOrderId });
      return state;
    },
    lookup,
    openOrders,
    onEvent(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    lastStreamActivity: () => userData?.lastActivity() ?? null,
    quotes: (symbols) => book.quotes(symbols),
    instruments,
    async health(): Promise<VenueHealth> {
      const started = performance.now();
      try {
        await rest.must('health', 'GET', '/api/v3/ping', z.object({}).passthrough());
        return { up: true, latencyMs: Math.round((performance.now() - started) * 10) / 10, detail: null };
      } catch (e) {
        return { up: false, latencyMs: null, detail: e instanceof VenueError ? `${e.code}: ${e.message}` : String(e) };
      }
    },
  };
  return client;
}
