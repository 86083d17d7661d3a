// VenueClient for MetaTrader 5 through a MetaApi-style REST bridge (MetaApi's MetaTrader client API):
//   POST /users/current/accounts/{id}/trade  {actionType, symbol, volume, openPrice?, comment, magic, …}
//        → {numericCode, stringCode, message, orderId?, positionId?}  (MT5 trade return codes)
//   GET  …/orders · …/orders/{ticket}                          open orders
//   GET  …/history-orders/ticket/{ticket} · …/history-orders/time/{from}/{to}
//   GET  …/history-deals/ticket/{ticket}  · …/history-deals/time/{from}/{to}
//   GET  …/positions · …/account-information · provisioning …/accounts/{id} (connectionStatus)
//   header `auth-token`; errors {error, message, metadata.recommendedRetryTime}
// The REST bridge pushes nothing, so onEvent is a poll of orders and deals every pollMs, and
// lastStreamActivity is the last poll that answered. MT5 has no idempotency key: our clientOrderId
// travels as a comment token with our magic number, and an order is looked up before it is sent.
import type { Logger } from 'pino';
import type { TimeInForce } from '../../schemas/types.ts';
import { VenueError } from '../http.ts';
import type { VenueClient, VenueHealth, VenueOrderRequest, VenueOrderState } from '../venue.ts';
import type { Mt5Config } from './config.ts';
import { Mt5Error, retcodeError, SUCCESS_RETCODES } from './errors.ts';
import { createMt5Http } from './http.ts';
import { createMt5Orders } from './orders.ts';
import { parseConnection, parsePositions, parseTradeResponse, type Mt5Position } from './parse.ts';
import { toLots, toVenue } from './symbols.ts';

export interface Mt5ClientOptions { config: Mt5Config; log?: Logger; clock?: () => number }

export type Mt5Client = VenueClient & {
  lastStreamActivity(): number | null;
  /** Open positions of our magic number, for reconciliation. */
  positions(): Promise<Mt5Position[]>;
};

const EXPIRATION: Record<TimeInForce, string | null> = { DAY: 'ORDER_TIME_DAY', GTC: 'ORDER_TIME_GTC', IOC: null };

export function createMt5Client({ config, log, clock = Date.now }: Mt5ClientOptions): Mt5Client {
  const http = createMt5Http(config, clock);
  const orders = createMt5Orders(config, http, log, clock);
  const attempted = new Set<string>();
  let pollTimer: NodeJS.Timeout | null = null;
  let lastPollAt: number | null = null;
  let subscribers = 0;
  let polling = false;

  const refuse = (cid: string, venueCode: string, why: string) =>
    new Mt5Error('VENUE_REJECTED', `mt5 submit ${cid}: ${why}`, { operation: 'submit', clientOrderId: cid, venueCode });

  function tradeBody(order: VenueOrderRequest): Record<string, unknown> {
    const cid = order.clientOrderId;
    const inst = toVenue(order.symbol, config.symbolSuffix);
    if (!inst) throw refuse(cid, 'UNKNOWN_SYMBOL', `no MT5 symbol for ${order.symbol}`);
    const volume = toLots(order.quantity, inst);
    if (volume === null) throw refuse(cid, 'INVALID_VOLUME', `${order.quantity} ${order.symbol} is not a whole number of ${inst.volumeStep}-lot steps of ${inst.contractSize}`);
    const base = { symbol: inst.symbol, volume, comment: orders.token(cid), magic: config.magic };
    if (order.orderType === 'MARKET') {
      return { ...base, actionType: order.side === 'BUY' ? 'ORDER_TYPE_BUY' : 'ORDER_TYPE_SELL', slippage: config.slippagePoints, ...(order.timeInForce === 'IOC' ? { fillingModes: ['ORDER_FILLING_IOC'] } : {}) };
    }
    const expiration = EXPIRATION[order.timeInForce];
    // A pending MT5 order rests or expires; "fill what you can now, cancel the rest" has no pending form.
    if (expiration === null || order.limitPrice === null) throw refuse(cid, 'UNSUPPORTED_ORDER', `a ${order.timeInForce} limit order has no MT5 pending-order form`);
    return { ...base, actionType: order.side === 'BUY' ? 'ORDER_TYPE_BUY_LIMIT' : 'ORDER_TYPE_SELL_LIMIT', openPrice: order.limitPrice, expiration: { type: expiration } };
  }

  async function trade(operation: string, cid: string, body: Record<string, unknown>): Promise<string | null> {
    const tr = parseTradeResponse(await http.request({ operation, method: 'POST', path: '/trade', body, clientOrderId: cid }));
    if (!tr) throw new Mt5Error('VENUE_BAD_RESPONSE', `mt5 ${operation} ${cid}: unreadable answer`, { operation, clientOrderId: cid });
    if (!SUCCESS_RETCODES.has(tr.numericCode)) throw retcodeError(tr.numericCode, tr.stringCode || null, operation, cid);
    return tr.orderId ?? null;
  }

  async function afterTrade(order: VenueOrderRequest, ticket: string | null): Promise<VenueOrderState> {
    try {
      const found = await orders.lookup(order.clientOrderId);
      if (found) return found;
    } catch (err) {
      // The order is placed; its details will come from the poll or a later look-up.
      log?.warn({ venue: 'mt5', clientOrderId: order.clientOrderId, code: (err as { code?: string }).code }, 'mt5 order placed but not read back');
    }
    return {
      clientOrderId: order.clientOrderId, venueOrderId: ticket ?? '', symbol: order.symbol, side: order.side, quantity: order.quantity,
      status: 'NEW', filledQty: 0, fills: [], rejectReason: null, venueTime: clock(),
    };
  }

  function schedulePoll(): void {
    pollTimer = setTimeout(() => {
      if (polling) return schedulePoll();
      polling = true;
      orders.poll()
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
    },
    async disconnect() {
      stopPolling();
    },
    async submit(order) {
      const cid = order.clientOrderId;
      const body = tradeBody(order);
      if (config.lookupBeforeSubmit || attempted.has(cid)) {
        const found = await orders.lookup(cid);
        if (found) return found;
      }
      attempted.add(cid);
      const ticket = await trade('submit', cid, body);
      if (ticket) orders.remember(cid, ticket);
      return afterTrade(order, ticket);
    },
    async cancel(cid) {
      const open = await orders.openOrder(cid);
      if (open) {
        try {
          await trade('cancel', cid, { actionType: 'ORDER_CANCEL', orderId: open.id });
        } catch (err) {
          // Filled or canceled meanwhile: the final state below is the answer.
          if (!(err instanceof Mt5Error) || err.code !== 'VENUE_REJECTED') throw err;
        }
      }
      const state = await orders.lookup(cid);
      if (!state) throw new Mt5Error('VENUE_NOT_FOUND', `mt5 cancel ${cid}: no such order at the bridge`, { operation: 'cancel', clientOrderId: cid });
      if (open && (state.status === 'NEW' || state.status === 'PARTIALLY_FILLED')) {
        throw new Mt5Error('VENUE_REJECTED', `mt5 cancel ${cid}: the order is still open`, { operation: 'cancel', clientOrderId: cid });
      }
      return state;
    },
    lookup: (cid) => orders.lookup(cid),
    openOrders: () => orders.openOrders(),
    onEvent(listener) {
      const unsubscribe = orders.subscribe(listener);
      subscribers += 1;
      if (!pollTimer) schedulePoll();
      return () => {
        unsubscribe();
        subscribers -= 1;
        if (subscribers === 0) stopPolling();
      };
    },
    lastStreamActivity: () => (pollTimer ? lastPollAt : null),
    async positions() {
      const list = parsePositions(await http.request({ operation: 'positions', method: 'GET', path: '/positions' }), config.magic, config.symbolSuffix);
      if (!list) throw new Mt5Error('VENUE_BAD_RESPONSE', 'mt5 positions: unreadable answer', { operation: 'positions' });
      return list;
    },
    async health(): Promise<VenueHealth> {
      const started = performance.now();
      try {
        const [account] = await Promise.all([
          http.request({ operation: 'health', method: 'GET', path: '', api: 'provisioning' }).then(parseConnection),
          http.request({ operation: 'health', method: 'GET', path: '/account-information' }),
        ]);
        const latencyMs = Math.round((performance.now() - started) * 10) / 10;
        if (!account) return { up: false, latencyMs, detail: 'unreadable account record' };
        return account.connected ? { up: true, latencyMs, detail: null } : { up: false, latencyMs, detail: `terminal not connected to the broker (${account.status})` };
      } catch (err) {
        return { up: false, latencyMs: null, detail: err instanceof VenueError ? `${err.code}: ${err.message}` : 'health probe failed' };
      }
    },
  };
}
