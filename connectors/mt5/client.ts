// VenueClient for MetaTrader 5 through a MetaApi-style REST bridge (MetaApi's MetaTrader client API):
//   POST /users/current/accounts/{id}/trade  {actionType, symbol, volume, openPrice?, positionId?, comment, magic, …}
//        → {numericCode, stringCode, message, orderId?, positionId?}  (MT5 trade return codes)
//        POSITION_MODIFY {positionId, stopLoss, takeProfit}: a bracket's exits on a hedging account (sltp.ts)
//   GET  …/orders · …/orders/{ticket}                          open orders
//   GET  …/history-orders/ticket/{ticket} · …/history-orders/time/{from}/{to}?offset&limit
//   GET  …/history-deals/ticket/{ticket}  · …/history-deals/time/{from}/{to}?offset&limit
//   GET  …/positions · …/account-information (marginMode) · provisioning …/accounts/{id} (connectionStatus)
//   GET  …/symbols/{symbol}/specification · …/symbols/{symbol}/current-price   (market.ts)
//   header `auth-token`; errors {error, message, metadata.recommendedRetryTime}
// The REST bridge pushes nothing, so onEvent is a poll of orders and deals every pollMs, and
// lastStreamActivity is the last poll that answered. MT5 has no idempotency key: our clientOrderId
// travels as a comment token with our magic number, an order is looked up before it is sent, and a
// trade whose outcome is unknown is never sent again (VENUE_OUTCOME_UNKNOWN, unknownOrders()).
import type { Logger } from 'pino';
import type { TimeInForce } from '../../schemas/types.ts';
import { VenueError } from '../http.ts';
import { unsupported } from '../orderTypes.ts';
import { marketFilling, MT5_ORDERS, pendingFields } from './pending.ts';
import type { InconclusiveAbsence, InstrumentSource, NativeOco } from '../venueCapabilities.ts';
import type { VenueClient, VenueHealth, VenueOrderRequest, VenueOrderState, VenueQuote } from '../venue.ts';
import type { Mt5Config } from './config.ts';
import { Mt5Error, Mt5OutcomeUnknown, outcomeUnknown, retcodeError, SUCCESS_RETCODES } from './errors.ts';
import { MAX_LEGS, planLegs, type TradeLeg } from './hedging.ts';
import { createMt5Http } from './http.ts';
import { createMt5Market } from './market.ts';
import { createMt5Orders } from './orders.ts';
import { parseConnection, parseMarginMode, parsePositions, parseTradeResponse, type MarginMode, type Mt5Position } from './parse.ts';
import { createMt5Sltp } from './sltp.ts';
import { toLots, toVenue } from './symbols.ts';

export interface Mt5ClientOptions { config: Mt5Config; log?: Logger; clock?: () => number }

/** An order whose outcome the bridge cannot settle: never resent; the runtime surfaces it. */
export interface Mt5UnknownOrder { clientOrderId: string; since: number; reason: string }

export type Mt5Client = VenueClient & InstrumentSource & NativeOco & {
  lastStreamActivity(): number | null;
  quotes(symbols: string[]): Promise<VenueQuote[]>;
  /** Open positions of our magic number, one per ticket (several per symbol on a hedging account). */
  positions(): Promise<Mt5Position[]>;
  /** The account's margin mode as last read (account information), null before the first read. */
  marginMode(): MarginMode | null;
  /** Orders whose outcome is unknown, oldest first (VENUE_OUTCOME_UNKNOWN): for the dashboard and ops. */
  unknownOrders(): Mt5UnknownOrder[];
} & InconclusiveAbsence;

const EXPIRATION: Record<TimeInForce, string | null> = { DAY: 'ORDER_TIME_DAY', GTC: 'ORDER_TIME_GTC', IOC: null, FOK: null };

export function createMt5Client({ config, log, clock = Date.now }: Mt5ClientOptions): Mt5Client {
  const http = createMt5Http(config, clock);
  const orders = createMt5Orders(config, http, log, clock);
  const market = createMt5Market(config, http, clock);
  const attempted = new Set<string>();
  const unknown = new Map<string, Mt5UnknownOrder>();
  let margin: MarginMode | null = null;
  let pollTimer: NodeJS.Timeout | null = null;
  let lastPollAt: number | null = null;
  let subscribers = 0;
  let polling = false;

  // A bracket's exits as the levels of their entry's position on a hedging account (sltp.ts).
  const sltp = createMt5Sltp({ config, http, clock, log, margin: () => margin, token: (cid) => orders.token(cid), trade: (op, cid, body) => trade(op, cid, body), entryState: (cid) => orders.lookup(cid) });

  const refuse = (cid: string, venueCode: string, why: string) =>
    new Mt5Error('VENUE_REJECTED', `mt5 submit ${cid}: ${why}`, { operation: 'submit', clientOrderId: cid, venueCode });

  async function readMarginMode(): Promise<MarginMode> {
    const m = parseMarginMode(await http.request({ operation: 'accountInformation', method: 'GET', path: '/account-information' }));
    if (!m) throw new Mt5Error('VENUE_BAD_RESPONSE', 'mt5 account information: unreadable answer', { operation: 'accountInformation' });
    if (m !== margin) log?.info({ venue: 'mt5', marginMode: m }, 'mt5 account margin mode');
    margin = m;
    return m;
  }

  async function positions(): Promise<Mt5Position[]> {
    const list = parsePositions(await http.request({ operation: 'positions', method: 'GET', path: '/positions' }), config.magic, config.symbolSuffix);
    if (!list) throw new Mt5Error('VENUE_BAD_RESPONSE', 'mt5 positions: unreadable answer', { operation: 'positions' });
    return list;
  }

  /** The trade requests an order becomes (one, except against our open positions on a hedging account). */
  async function tradeBodies(order: VenueOrderRequest): Promise<Record<string, unknown>[]> {
    const cid = order.clientOrderId;
    const refusal = unsupported('mt5', MT5_ORDERS, order);
    if (refusal) throw refusal;
    const inst = toVenue(order.symbol, config.symbolSuffix);
    if (!inst) throw refuse(cid, 'UNKNOWN_SYMBOL', `no MT5 symbol for ${order.symbol}`);
    const volume = toLots(order.quantity, inst);
    if (volume === null) throw refuse(cid, 'INVALID_VOLUME', `${order.quantity} ${order.symbol} is not a whole number of ${inst.volumeStep}-lot steps of ${inst.contractSize}`);
    // The venue's own rules when read (instruments()), beside the static grid toLots checked.
    const spec = market.specOf(order.symbol);
    if (spec && (volume < spec.minVolume - 1e-9 || volume > spec.maxVolume + 1e-9 || Math.abs(volume / spec.volumeStep - Math.round(volume / spec.volumeStep)) > 1e-6)) {
      throw refuse(cid, 'INVALID_VOLUME', `${volume} lots is outside ${order.symbol}'s ${spec.minVolume}-${spec.maxVolume} lots in ${spec.volumeStep} steps`);
    }
    const base = { comment: orders.token(cid), magic: config.magic };
    const mode = margin ?? await readMarginMode();
    // An account whose mode we cannot read is treated as hedging: closing by position id works on both.
    const hedging = mode === 'HEDGING' || mode === 'UNKNOWN';
    const mine = hedging ? (await positions()).filter((p) => p.symbol === order.symbol) : [];
    const opposite = mine.filter((p) => p.side !== order.side);
    if (order.orderType !== 'MARKET') {
      const expiration = EXPIRATION[order.timeInForce];
      // A pending MT5 order rests or expires; "fill what you can now, cancel the rest" has no pending form.
      const pending = pendingFields(order);
      if (expiration === null || pending === null) throw refuse(cid, 'UNSUPPORTED_ORDER', `a ${order.timeInForce} ${order.orderType} order has no MT5 pending-order form`);
      // On a hedging account a triggered pending order opens its own position; it cannot close ours.
      if (opposite.length > 0) throw refuse(cid, 'HEDGING_OPPOSITE_LIMIT', `a pending ${order.side} would open a position beside our open ${opposite[0].side} on a hedging account`);
      // A bracket's exit there is its position's SL/TP (sltp.ts) or nothing: alone it could only open a position.
      if (hedging && order.reduceOnly) throw refuse(cid, 'HEDGING_EXIT_NO_POSITION', `a pending exit on a hedging account would open a position of its own`);
      return [{ ...base, symbol: inst.symbol, volume, ...pending, expiration: { type: expiration } }];
    }
    const marketFields = { slippage: config.slippagePoints, ...marketFilling(order) };
    const legs: TradeLeg[] = hedging
      ? planLegs(order.side, volume, mine.map((p) => ({ positionId: p.positionId, side: p.side, lots: p.lots, venueTime: p.venueTime })), inst.volumeStep)
      : [{ kind: 'open', lots: volume }];
    if (legs.length > MAX_LEGS) throw refuse(cid, 'TOO_MANY_POSITIONS', `closing ${legs.length - 1} positions in one order is more than ${MAX_LEGS - 1}`);
    return legs.map((leg) => leg.kind === 'open'
      ? { ...base, ...marketFields, symbol: inst.symbol, volume: leg.lots, actionType: order.side === 'BUY' ? 'ORDER_TYPE_BUY' : 'ORDER_TYPE_SELL' }
      : leg.whole
        ? { ...base, ...marketFields, actionType: 'POSITION_CLOSE_ID', positionId: leg.positionId }
        : { ...base, ...marketFields, actionType: 'POSITION_PARTIAL', positionId: leg.positionId, volume: leg.lots });
  }

  async function trade(operation: string, cid: string, body: Record<string, unknown>): Promise<string | null> {
    const tr = parseTradeResponse(await http.request({ operation, method: 'POST', path: '/trade', body, clientOrderId: cid }));
    if (!tr) throw new Mt5Error('VENUE_BAD_RESPONSE', `mt5 ${operation} ${cid}: unreadable answer`, { operation, clientOrderId: cid });
    if (!SUCCESS_RETCODES.has(tr.numericCode)) throw retcodeError(tr.numericCode, tr.stringCode || null, operation, cid);
    return tr.orderId ?? null;
  }

  const placedState = (order: VenueOrderRequest, ticket: string | null): VenueOrderState => ({
    clientOrderId: order.clientOrderId, venueOrderId: ticket ?? '', symbol: order.symbol, side: order.side, quantity: order.quantity,
    status: 'NEW', filledQty: 0, fills: [], rejectReason: null, venueTime: clock(),
  });

  async function afterTrade(order: VenueOrderRequest, ticket: string | null): Promise<VenueOrderState> {
    try {
      const found = await orders.lookup(order.clientOrderId);
      if (found) return found;
    } catch (err) {
      // The order is placed; its details will come from the poll or a later look-up.
      log?.warn({ venue: 'mt5', clientOrderId: order.clientOrderId, code: (err as { code?: string }).code }, 'mt5 order placed but not read back');
    }
    return placedState(order, ticket);
  }

  /** A look-up that also searches history by comment: the only one that can find a trade whose answer was lost. */
  const search = (cid: string) => orders.lookup(cid, { searchHistory: true });

  async function becameUnknown(cid: string, err: unknown): Promise<VenueOrderState> {
    // The bridge may list it already; if not, absence proves nothing (its terminal sync lags).
    const found = await search(cid).catch(() => null);
    if (found) return found;
    const status = (err as { status?: number | null }).status;
    const reason = err instanceof Mt5Error && err.retcode !== null ? err.venueCode ?? `RETCODE_${err.retcode}`
      : `${(err as { code?: string }).code ?? 'unknown failure'}${status ? ` HTTP ${status}` : ''}`;
    const u = unknown.get(cid) ?? { clientOrderId: cid, since: clock(), reason };
    unknown.set(cid, u);
    log?.error({ venue: 'mt5', clientOrderId: cid, reason }, 'mt5 order outcome unknown: not resent; looked up until the bridge lists it');
    throw new Mt5OutcomeUnknown(cid, u.since, u.reason);
  }

  async function lookup(cid: string, symbol?: string, venueOrderId?: string): Promise<VenueOrderState | null> {
    const leg = sltp.legOf(cid, symbol, venueOrderId);
    if (leg) return sltp.legState(leg);
    const found = unknown.has(cid) ? await search(cid) : await orders.lookup(cid);
    if (found && unknown.delete(cid)) log?.info({ venue: 'mt5', clientOrderId: cid }, 'mt5 order of unknown outcome found at the bridge');
    return found;
  }

  function schedulePoll(): void {
    pollTimer = setTimeout(() => {
      if (polling) return schedulePoll();
      polling = true;
      orders.poll()
        .then(() => sltp.poll())
        .then(() => { lastPollAt = Date.now(); })
        .catch((err: unknown) => log?.warn({ venue: 'mt5', code: (err as { code?: string }).code }, 'mt5 poll failed'))
        .finally(() => { polling = false; if (pollTimer) schedulePoll(); });
    }, config.pollMs);
    pollTimer.unref();
  }

  function stopPolling(): void {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
    lastPollAt = null;
  }

  return {
    venue: 'mt5',
    async connect() {
      // The token and the account are checked here; the broker link is health's business.
      const account = parseConnection(await http.request({ operation: 'connect', method: 'GET', path: '', api: 'provisioning' }));
      if (!account) throw new Mt5Error('VENUE_BAD_RESPONSE', 'mt5 connect: unreadable account record', { operation: 'connect' });
      await readMarginMode().catch((err: unknown) => log?.warn({ venue: 'mt5', code: (err as { code?: string }).code }, 'mt5 margin mode not read yet; read again before the first order'));
    },
    async disconnect() {
      stopPolling();
    },
    async submit(order) {
      const cid = order.clientOrderId;
      if (unknown.has(cid)) {
        // Sent before with an unknown outcome: only the bridge listing it settles the matter.
        const found = await lookup(cid);
        if (found) return found;
        const u = unknown.get(cid)!;
        throw new Mt5OutcomeUnknown(cid, u.since, u.reason);
      }
      if (config.lookupBeforeSubmit || attempted.has(cid)) {
        const found = await orders.lookup(cid);
        if (found) return found;
      }
      const bodies = await tradeBodies(order);
      attempted.add(cid);
      let first: string | null = null;
      for (const [i, body] of bodies.entries()) {
        try {
          const ticket = await trade('submit', cid, body);
          if (ticket) orders.remember(cid, ticket);
          first ??= ticket;
        } catch (err) {
          if (outcomeUnknown(err)) return becameUnknown(cid, err);
          if (i === 0) throw err;
          // Earlier legs traded: the order ends with what they did (a market order's rest is canceled).
          log?.warn({ venue: 'mt5', clientOrderId: cid, leg: i, code: (err as { code?: string }).code }, 'mt5 later leg refused; the order ends partly done');
          orders.markShortfall(cid);
          break;
        }
      }
      return afterTrade(order, first);
    },
    async cancel(cid, symbol, venueOrderId) {
      const leg = sltp.legOf(cid, symbol, venueOrderId);
      if (leg) {
        const state = await sltp.cancel(leg);
        if (!state) throw new Mt5Error('VENUE_NOT_FOUND', `mt5 cancel ${cid}: the position's closing deal is not listed yet`, { operation: 'cancel', clientOrderId: cid });
        return state;
      }
      const open = await orders.openOrder(cid);
      if (open) {
        try {
          await trade('cancel', cid, { actionType: 'ORDER_CANCEL', orderId: open.id });
        } catch (err) {
          // Filled or canceled meanwhile: the final state below is the answer.
          if (!(err instanceof Mt5Error) || err.code !== 'VENUE_REJECTED') throw err;
        }
      }
      const state = await lookup(cid);
      if (!state) throw new Mt5Error('VENUE_NOT_FOUND', `mt5 cancel ${cid}: no such order at the bridge`, { operation: 'cancel', clientOrderId: cid });
      if (open && (state.status === 'NEW' || state.status === 'PARTIALLY_FILLED')) {
        throw new Mt5Error('VENUE_REJECTED', `mt5 cancel ${cid}: the order is still open`, { operation: 'cancel', clientOrderId: cid });
      }
      return state;
    },
    lookup,
    ocoSupported: (legs) => sltp.supported(legs),
    submitOco: (legs) => sltp.place(legs),
    lookupOco: (legs) => sltp.lookupPair(legs),
    openOrders: () => orders.openOrders(),
    onEvent(listener) {
      const unsubscribeOrders = orders.subscribe(listener);
      const unsubscribeLegs = sltp.subscribe(listener);
      const unsubscribe = () => { unsubscribeOrders(); unsubscribeLegs(); };
      subscribers += 1;
      if (!pollTimer) schedulePoll();
      return () => {
        unsubscribe();
        subscribers -= 1;
        if (subscribers === 0) stopPolling();
      };
    },
    lastStreamActivity: () => (pollTimer ? lastPollAt : null),
    positions,
    marginMode: () => margin,
    unknownOrders: () => [...unknown.values()].sort((a, b) => a.since - b.since),
    // The bridge's look-up cannot say "absent" for sure (its terminal sync lags) and it has no idempotency:
    // the runtime marks each order SENDING before the trade (connectors/venueCapabilities.ts).
    absenceConclusive: false as const,
    quotes: (symbols) => market.quotes(symbols),
    instruments: (symbols) => market.instruments(symbols),
    async health(): Promise<VenueHealth> {
      const started = performance.now();
      try {
        const [account, info] = await Promise.all([
          http.request({ operation: 'health', method: 'GET', path: '', api: 'provisioning' }).then(parseConnection),
          http.request({ operation: 'health', method: 'GET', path: '/account-information' }),
        ]);
        margin = parseMarginMode(info) ?? margin;
        const latencyMs = Math.round((performance.now() - started) * 10) / 10;
        if (!account) return { up: false, latencyMs, detail: 'unreadable account record' };
        return account.connected ? { up: true, latencyMs, detail: null } : { up: false, latencyMs, detail: `terminal not connected to the broker (${account.status})` };
      } catch (err) {
        return { up: false, latencyMs: null, detail: err instanceof VenueError ? `${err.code}: ${err.message}` : 'health probe failed' };
      }
    },
  };
}
