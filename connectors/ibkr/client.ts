// VenueClient for Interactive Brokers over the Client Portal Web API (the gateway). Wire format:
//   POST   /iserver/account/{acct}/orders  {orders:[{acctId, conid, orderType, side, quantity, tif, price?, cOID}]}
//          → [{order_id, order_status}] | [{id, message[], messageIds[]}] (a question) | {error}
//          a bracket's two exits as one OCA group: two lines with `isSingleGroup: true`, one answer each
//   POST   /iserver/reply/{replyId} {confirmed}          same answers as above, possibly more questions
//   DELETE /iserver/account/{acct}/order/{orderId}       {msg, order_id} | {error}
//   GET    /iserver/account/order/status/{orderId}       one order, numbers as strings
//   GET    /iserver/account/orders                       {orders:[… order_ref = our cOID …]}  (paced 1/5 s;
//                                                        the first answer of a session is not the list)
//   GET    /iserver/account/trades?days=N                [{execution_id, order_ref, size, price, commission}] (paced)
//   POST   /tickle ({session}) · GET /iserver/auth/status · POST /iserver/auth/ssodh/init
//   GET    /iserver/accounts · POST /iserver/account {acctId}   the configured account selected (session.ts)
//   GET    /iserver/marketdata/snapshot · POST /iserver/contract/rules   quotes and instruments (market.ts)
//   WS     /v1/api/ws   {"session": …} first, then `sor+{}` / `str+{}` topics (stream.ts)
// The cOID is the idempotency key: the gateway refuses a cOID it already has (unique for 24 h), a
// retry of ours looks the order up first, and a refusal whose look-up finds nothing stays unknown.
import type { Logger } from 'pino';
import type { VenueClient, VenueHealth, VenueOrderRequest, VenueOrderState } from '../venue.ts';
import type { IbkrConfig } from './config.ts';
import type { NativeOco } from '../venueCapabilities.ts';
import { IbkrError, maskAccount } from './errors.ts';
import { ibkrOcaSupported, ibkrOrderFields } from './orderLine.ts';
import { createIbkrHttp } from './http.ts';
import { createIbkrMarket, type IbkrMarket } from './market.ts';
import { createIbkrOrders } from './orders.ts';
import { decideQuestion, parsePlaceReply, placeErrorKind, type IbkrStatus, type PlaceReply } from './parse.ts';
import { createIbkrSession } from './session.ts';
import { startIbkrStream, type IbkrStream } from './stream.ts';
import { toVenue } from './symbols.ts';

export interface IbkrClientOptions {
  config: IbkrConfig;
  log?: Logger;
  clock?: () => number;
  fetchImpl?: typeof fetch;
}


/**
 * The shared interface plus the stream-liveness probe, quotes, and the venue's instrument rules
 * (`instruments`, in the shape other venues publish: see marketParse.ts).
 */
export type IbkrClient = VenueClient & NativeOco & Pick<IbkrMarket, 'quotes' | 'instruments'> & { lastStreamActivity(): number | null };

export function createIbkrClient({ config, log, clock = Date.now, fetchImpl }: IbkrClientOptions): IbkrClient {
  const http = createIbkrHttp(config, fetchImpl);
  const session = createIbkrSession(config, http, log);
  const orders = createIbkrOrders(config, http, log, clock, () => session.epoch());
  const market = createIbkrMarket(config, http, clock, () => session.queryAccounts());
  const acct = encodeURIComponent(config.accountId);
  // When this process last sent each cOID: a live-orders snapshot older than that cannot say "absent".
  const attempts = new Map<string, number>();
  let stream: IbkrStream | null = null;
  let subscribers = 0;

  http.onSessionLost(() => session.markLost('HTTP 401'));

  const rejected = (operation: string, cid: string, text: string): IbkrError =>
    new IbkrError('VENUE_REJECTED', `ibkr ${operation} ${cid}: ${maskAccount(text, config.accountId).slice(0, 200)}`, { operation, clientOrderId: cid });

  function placedState(order: VenueOrderRequest, orderId: string, status: IbkrStatus): VenueOrderState {
    const terminal = status === 'Inactive' ? 'REJECTED' : status === 'Cancelled' || status === 'ApiCancelled' ? 'CANCELED' : 'NEW';
    return {
      clientOrderId: order.clientOrderId, venueOrderId: orderId, symbol: order.symbol, side: order.side, quantity: order.quantity,
      status: terminal, filledQty: 0, fills: [], rejectReason: terminal === 'REJECTED' ? 'Inactive' : null, venueTime: clock(),
    };
  }

  async function lookup(cid: string): Promise<VenueOrderState | null> {
    return orders.lookup(cid, attempts.get(cid) ?? 0);
  }

  // Place Order (Web API v1.0 reference): the next order is not to be sent before the previous one is
  // acknowledged (placed, refused, or its last question answered), so placements take turns.
  let placing: Promise<unknown> = Promise.resolve();
  function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const turn = placing.then(fn, fn);
    placing = turn.catch(() => undefined);
    return turn;
  }

  /**
   * One placement: the order POST (one order, or the orders of one OCA group) and its questions, up to
   * the gateway's last word on it. `cid` names the placement in errors and logs (a group's first order).
   */
  async function send(cid: string, lines: Record<string, unknown>[]): Promise<Extract<PlaceReply, { kind: 'placed' | 'error' }>> {
    for (const l of lines) attempts.set(String(l.cOID), Date.now());
    let res = await http.request({ operation: 'submit', method: 'POST', path: `/iserver/account/${acct}/orders`, body: { orders: lines }, clientOrderId: cid });
    for (let round = 0; ; round += 1) {
      const reply = parsePlaceReply(res.json);
      if (!reply) throw new IbkrError('VENUE_BAD_RESPONSE', `ibkr submit ${cid}: unreadable answer`, { operation: 'submit', clientOrderId: cid, status: res.status });
      switch (reply.kind) {
        case 'placed':
        case 'error':
          return reply;
        case 'question': {
          const decision = round >= config.confirm.maxRounds ? { confirm: false as const, refused: 'too many questions' } : decideQuestion(reply, config.confirm);
          if (!decision.confirm) {
            // Saying no explicitly lets the gateway drop the parked order instead of holding it.
            await http.request({ operation: 'reply', method: 'POST', path: `/iserver/reply/${encodeURIComponent(reply.replyId)}`, body: { confirmed: false }, clientOrderId: cid }).catch(() => undefined);
            throw new IbkrError('VENUE_CONFIRMATION_REFUSED', `ibkr submit ${cid}: confirmation ${decision.refused} is not on the allow-list`, {
              operation: 'submit', clientOrderId: cid, messageId: reply.messageIds.find((m) => m === decision.refused) ?? null,
            });
          }
          log?.info({ venue: 'ibkr', clientOrderId: cid, messageIds: reply.messageIds }, 'ibkr confirmation answered');
          res = await http.request({ operation: 'reply', method: 'POST', path: `/iserver/reply/${encodeURIComponent(reply.replyId)}`, body: { confirmed: true }, clientOrderId: cid });
          continue;
        }
        default: {
          const never: never = reply;
          throw new Error(`unhandled place reply ${JSON.stringify(never)}`);
        }
      }
    }
  }

  /** One order's line of the order POST. */
  function lineOf(order: VenueOrderRequest): Record<string, unknown> {
    const typed = ibkrOrderFields(order);
    const contract = toVenue(order.symbol);
    if (!contract) throw new IbkrError('VENUE_UNKNOWN_SYMBOL', `ibkr submit ${order.clientOrderId}: no IBKR contract for ${order.symbol}`, { operation: 'submit', clientOrderId: order.clientOrderId });
    return {
      acctId: config.accountId, conid: contract.conid, secType: `${contract.conid}:${contract.secType}`, cOID: order.clientOrderId,
      side: order.side, quantity: order.quantity, ...typed,
    };
  }

  /**
   * Places one order, or the orders of one OCA group together (`isSingleGroup` on every line), and
   * answers their states in the same order. The gateway places all of a request or none of it.
   */
  async function place(batch: readonly VenueOrderRequest[], retriedAccounts = false): Promise<VenueOrderState[]> {
    const cid = batch[0].clientOrderId;
    const group = batch.length > 1;
    const lines = batch.map((o) => (group ? { ...lineOf(o), isSingleGroup: true } : lineOf(o)));
    const reply = await oneAtATime(() => send(cid, lines));
    if (reply.kind === 'placed') {
      if (reply.orders.length !== batch.length) {
        throw new IbkrError('VENUE_OUTCOME_UNKNOWN', `ibkr submit ${cid}: ${reply.orders.length} order ids for ${batch.length} orders`, { operation: 'submit', clientOrderId: cid });
      }
      if (group) orders.markGroup(batch.map((o) => o.clientOrderId));
      return batch.map((o, i) => {
        orders.remember(o.clientOrderId, reply.orders[i].orderId);
        return { ...placedState(o, reply.orders[i].orderId, reply.orders[i].status), ...(group ? { nativeOco: true } : {}) };
      });
    }
    const kind = placeErrorKind(reply.message);
    switch (kind) {
      case 'duplicate': {
        // A cOID is taken, so an order with it exists (a cOID is unique for 24 h): it may be live even
        // when live orders do not list it yet. All found, they are ours; else the outcome stays unknown
        // (for a group, the runtime then looks each order up before anything is sent again).
        const found = await Promise.all(batch.map((o) => orders.lookup(o.clientOrderId, Date.now())));
        if (found.every((f) => f !== null)) return found as VenueOrderState[];
        throw new IbkrError('VENUE_OUTCOME_UNKNOWN', `ibkr submit ${cid}: the gateway holds this cOID already but does not list the order yet`, { operation: 'submit', clientOrderId: cid });
      }
      case 'accountsFirst':
        if (retriedAccounts) throw rejected('submit', cid, reply.message);
        await session.queryAccounts();
        return place(batch, true);
      case 'refused':
        throw rejected('submit', cid, reply.message);
      default: {
        const never: never = kind;
        throw new Error(`unhandled place error ${String(never)}`);
      }
    }
  }

  /** Never send an order into a session we know is dead: the answer would be a 401 at best. */
  async function ensureSession(cid: string): Promise<void> {
    if (!session.isUp() && !(await session.probe()).authenticated) {
      throw new IbkrError('VENUE_SESSION_EXPIRED', `ibkr submit ${cid}: brokerage session not authenticated`, { operation: 'submit', clientOrderId: cid });
    }
  }

  const client: IbkrClient = {
    venue: 'ibkr',
    async connect() {
      await session.start();
    },
    async disconnect() {
      session.stop();
      stream?.stop();
      stream = null;
    },
    async submit(order) {
      await ensureSession(order.clientOrderId);
      if (attempts.has(order.clientOrderId)) {
        const found = await lookup(order.clientOrderId);
        if (found) return found;
      }
      return (await place([order]))[0];
    },
    ocoSupported: (legs) => ibkrOcaSupported(legs),
    async submitOco(legs) {
      // The runtime looks both legs up before it sends a pair again (orderSubmitter.ts), so this is a
      // first placement: both orders in one request, one OCA group.
      await ensureSession(legs.takeProfit.clientOrderId);
      const [takeProfit, stopLoss] = await place([legs.takeProfit, legs.stopLoss]);
      return { takeProfit, stopLoss };
    },
    async cancel(cid) {
      const orderId = await orders.resolve(cid, attempts.get(cid) ?? 0);
      if (!orderId) throw new IbkrError('VENUE_NOT_FOUND', `ibkr cancel ${cid}: no such order at the gateway`, { operation: 'cancel', clientOrderId: cid });
      const res = await http.request({ operation: 'cancel', method: 'DELETE', path: `/iserver/account/${acct}/order/${encodeURIComponent(orderId)}`, clientOrderId: cid });
      const error = res.json && typeof res.json === 'object' && 'error' in res.json ? String((res.json as { error: unknown }).error) : null;
      const state = await orders.lookup(cid, 0);
      if (!state) throw new IbkrError('VENUE_NOT_FOUND', `ibkr cancel ${cid}: order vanished`, { operation: 'cancel', clientOrderId: cid });
      // A final order comes back unchanged (the gateway says it cannot cancel a filled order).
      if (error && (state.status === 'NEW' || state.status === 'PARTIALLY_FILLED')) throw rejected('cancel', cid, error);
      return state;
    },
    lookup,
    openOrders: () => orders.openOrders(),
    onEvent(listener) {
      const unsubscribe = orders.subscribe(listener);
      subscribers += 1;
      stream ??= startIbkrStream(config, orders, session, log);
      return () => {
        unsubscribe();
        subscribers -= 1;
        if (subscribers === 0) {
          stream?.stop();
          stream = null;
        }
      };
    },
    lastStreamActivity: () => stream?.lastActivity() ?? null,
    quotes: (symbols) => market.quotes(symbols),
    instruments: (symbols) => market.instruments(symbols),
    async health(): Promise<VenueHealth> {
      const started = performance.now();
      try {
        const status = await session.probe();
        const latencyMs = Math.round((performance.now() - started) * 10) / 10;
        if (status.authenticated && status.connected) return { up: true, latencyMs, detail: status.competing ? 'competing session' : null };
        return { up: false, latencyMs, detail: status.connected ? 'brokerage session not authenticated' : 'gateway not connected to IBKR' };
      } catch (err) {
        return { up: false, latencyMs: null, detail: err instanceof IbkrError ? `${err.code}: ${err.message}` : 'health probe failed' };
      }
    },
  };
  return client;
}
