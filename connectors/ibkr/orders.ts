// The read side of the IBKR connector: which gateway order is ours (cOID = order_ref), what the
// gateway says about it, and which executions belong to it. Live orders and trades are paced by the
// gateway (once per 5 s each), so both are shared snapshots; a snapshot older than the question asked
// of it (say, older than our own submit) is never trusted, and neither is the first live-orders answer
// of a session, which only starts the gateway's subscription.
import type { Logger } from 'pino';
import type { VenueEvent, VenueOrderState } from '../venue.ts';
import type { IbkrConfig } from './config.ts';
import { IbkrError } from './errors.ts';
import type { IbkrHttp } from './http.ts';
import { amendment, orderState, parseLiveOrders, parseOrderStatus, parseTrades, type IbkrOrder, type IbkrOrderState, type IbkrTrade } from './parse.ts';

interface Snapshot<T> { at: number; value: T; generation: number }

/** `generation` (the session epoch): a value loaded in an earlier one is never served. */
function createSnapshot<T>(load: (startedAt: number) => Promise<T>, generation: () => number = () => 0) {
  let last: Snapshot<T> | null = null;
  let inflight: { startedAt: number; generation: number; promise: Promise<Snapshot<T>> } | null = null;
  return {
    /** A value loaded no earlier than `fresherThan` (epoch ms), with the time its load started. */
    async get(fresherThan: number): Promise<Snapshot<T>> {
      const gen = generation();
      if (last && last.at >= fresherThan && last.generation === gen) return last;
      if (inflight && inflight.startedAt >= fresherThan && inflight.generation === gen) return inflight.promise;
      const startedAt = Date.now();
      const promise = load(startedAt).then((value) => { last = { at: startedAt, value, generation: gen }; return last; });
      inflight = { startedAt, generation: gen, promise };
      try {
        return await promise;
      } finally {
        if (inflight?.promise === promise) inflight = null;
      }
    },
    lastAt: (): number | null => last?.at ?? null,
  };
}

/** A trade pushed on `str` may reach /trades this much later; only after that is its absence a bust. */
const TRADES_LAG_MS = 2_000;
const DAY_MS = 86_400_000;

export interface IbkrOrders {
  /** The gateway's order id for a cOID, discovering it in live orders when this process never saw it. */
  resolve(clientOrderId: string, notBefore: number): Promise<string | null>;
  remember(clientOrderId: string, orderId: string): void;
  /** These orders were placed as one OCA group: their states say `nativeOco` from now on. */
  markGroup(clientOrderIds: readonly string[]): void;
  /** Our order's state now; null when the gateway has no order with that cOID. */
  lookup(clientOrderId: string, notBefore: number): Promise<IbkrOrderState | null>;
  openOrders(): Promise<IbkrOrderState[]>;
  /** Trades from any path (REST or `str`) go through here, so a changed trade is a correction once. */
  ingestTrades(trades: IbkrTrade[]): Set<string>;
  /** Re-reads one order and emits it when its state changed. */
  refresh(clientOrderId: string): Promise<void>;
  /** One reconciliation pass over live orders and trades (the poll behind the websocket). */
  reconcile(): Promise<void>;
  cidForOrder(orderId: string): string | null;
  subscribe(listener: (event: VenueEvent) => void): () => void;
}

/** `epoch` changes with every brokerage session or account switch (session.ts). */
export function createIbkrOrders(config: IbkrConfig, http: IbkrHttp, log: Logger | undefined, clock: () => number, epoch: () => number = () => 0): IbkrOrders {
  const acct = encodeURIComponent(config.accountId);
  const orderIds = new Map<string, string>(); // cOID → gateway order id
  const cids = new Map<string, string>(); // gateway order id → cOID
  const trades = new Map<string, { trade: IbkrTrade; firstSeenAt: number }>(); // execution id → last statement
  const fingerprints = new Map<string, string>(); // cOID → last state emitted
  // cOIDs this process placed in an OCA group; after a restart, Order Status's oca_group_id says it (parse.ts).
  const grouped = new Set<string>();
  const listeners = new Set<(event: VenueEvent) => void>();

  function emit(event: VenueEvent): void {
    for (const l of listeners) {
      try {
        l(event);
      } catch (err) {
        // A listener's failure is its own; it must not stop the others or the stream.
        log?.error({ err, venue: 'ibkr' }, 'venue event listener threw');
      }
    }
  }

  function remember(cid: string, orderId: string): void {
    orderIds.set(cid, orderId);
    cids.set(orderId, cid);
  }

  let startedIn: number | null = null; // the epoch whose live-orders subscription we started

  async function readLiveOrders(): Promise<IbkrOrder[]> {
    const res = await http.request({ operation: 'liveOrders', method: 'GET', path: '/iserver/account/orders', pacing: { key: 'orders', ms: config.ordersPacingMs } });
    const orders = parseLiveOrders(res.json);
    if (!orders) throw new IbkrError('VENUE_BAD_RESPONSE', 'ibkr liveOrders: unreadable answer', { operation: 'liveOrders', status: res.status });
    return orders;
  }

  const liveOrders = createSnapshot(async (_startedAt: number): Promise<IbkrOrder[]> => {
    const current = epoch();
    if (startedIn !== current) {
      // Live Orders (Web API v1.0 reference): the first request of a session starts the subscription
      // and may answer empty; only a later request is the list. Whatever the first says, ask again.
      const first = await readLiveOrders();
      for (const o of first) if (o.orderRef) remember(o.orderRef, o.orderId);
      startedIn = current;
    }
    const orders = await readLiveOrders();
    for (const o of orders) if (o.orderRef) remember(o.orderRef, o.orderId);
    return orders;
  }, epoch);

  const tradeList = createSnapshot(async (startedAt: number): Promise<IbkrTrade[]> => {
    const res = await http.request({ operation: 'trades', method: 'GET', path: `/iserver/account/trades?days=${config.tradesDays}`, pacing: { key: 'trades', ms: config.tradesPacingMs } });
    if (!Array.isArray(res.json)) throw new IbkrError('VENUE_BAD_RESPONSE', 'ibkr trades: unreadable answer', { operation: 'trades', status: res.status });
    const list = parseTrades(res.json);
    ingestTrades(list, startedAt);
    return list;
  }, epoch);

  const cidOf = (t: IbkrTrade): string | null => t.orderRef ?? (t.orderId ? cids.get(t.orderId) ?? null : null);

  /**
   * Every statement of executions (REST or `str`) goes through here, so a changed trade is one
   * correction. A full /trades snapshot (`snapshotAt`) also drops what the gateway no longer lists: a
   * bust, which the next complete state then shows by the fill's absence.
   */
  function ingestTrades(incoming: IbkrTrade[], snapshotAt?: number): Set<string> {
    const changed = new Set<string>();
    const batch = new Map(incoming.map((t) => [t.executionId, t])); // a row listed twice is one execution
    for (const t of batch.values()) {
      const known = trades.get(t.executionId);
      trades.set(t.executionId, { trade: t, firstSeenAt: known?.firstSeenAt ?? Date.now() });
      const cid = cidOf(t);
      if (!cid) continue;
      const fix = amendment(known?.trade, t, cid, clock());
      if (fix) emit(fix);
      if (!known || fix) changed.add(cid);
    }
    if (snapshotAt !== undefined) {
      for (const [id, entry] of trades) {
        if (batch.has(id) || entry.firstSeenAt > snapshotAt - TRADES_LAG_MS) continue;
        trades.delete(id);
        const cid = cidOf(entry.trade);
        if (!cid) continue;
        emit({ kind: 'bust', clientOrderId: cid, tradeId: id, venueTime: clock() });
        changed.add(cid);
      }
    }
    return changed;
  }

  const tradeValues = (): IbkrTrade[] => [...trades.values()].map((e) => e.trade);

  /** Whether the fills we hold for this order are the gateway's whole statement of them. */
  function complete(order: IbkrOrder): boolean {
    const at = tradeList.lastAt();
    const now = Date.now();
    return at !== null && now - at <= config.tradesPacingMs + TRADES_LAG_MS
      && now - (order.venueTime ?? now) < config.tradesDays * DAY_MS - 3_600_000;
  }

  const stateOf = (cid: string, order: IbkrOrder, whole: boolean): IbkrOrderState => {
    const s: IbkrOrderState = orderState(cid, order, tradeValues(), clock());
    if (whole && complete(order)) s.fillsComplete = true;
    if (grouped.has(cid)) s.nativeOco = true;
    return s;
  };

  async function resolve(cid: string, notBefore: number): Promise<string | null> {
    const known = orderIds.get(cid);
    if (known) return known;
    const live = (await liveOrders.get(notBefore)).value;
    return live.find((o) => o.orderRef === cid)?.orderId ?? null;
  }

  async function status(cid: string, orderId: string): Promise<IbkrOrder | null> {
    const res = await http.request({ operation: 'orderStatus', method: 'GET', path: `/iserver/account/order/status/${encodeURIComponent(orderId)}`, clientOrderId: cid });
    if (res.status >= 400) return null; // an `error` body: the gateway does not know that order id
    const order = parseOrderStatus(res.json);
    if (!order) throw new IbkrError('VENUE_BAD_RESPONSE', `ibkr orderStatus ${cid}: unreadable answer`, { operation: 'orderStatus', clientOrderId: cid, status: res.status });
    return order;
  }

  async function lookup(cid: string, notBefore: number): Promise<IbkrOrderState | null> {
    const orderId = await resolve(cid, notBefore);
    if (!orderId) return null;
    const order = await status(cid, orderId);
    if (!order) return null;
    // Executions lag the order status a little; a snapshot one pacing period old is good enough here.
    await tradeList.get(Date.now() - config.tradesPacingMs);
    return stateOf(cid, order, true);
  }

  function emitIfChanged(state: VenueOrderState): void {
    const print = `${state.status}|${state.filledQty}|${state.fills.map((f) => `${f.tradeId}:${f.quantity}@${f.price}`).join(',')}`;
    if (fingerprints.get(state.clientOrderId) === print) return;
    fingerprints.set(state.clientOrderId, print);
    emit({ kind: 'order', order: state });
  }

  async function refresh(cid: string): Promise<void> {
    const orderId = orderIds.get(cid);
    if (!orderId) return;
    const order = await status(cid, orderId);
    if (order) emitIfChanged(stateOf(cid, order, false));
  }

  async function reconcile(): Promise<void> {
    const now = Date.now();
    await tradeList.get(now - config.tradesPacingMs);
    const live = (await liveOrders.get(now - config.ordersPacingMs)).value;
    for (const o of live) if (o.orderRef) emitIfChanged(stateOf(o.orderRef, o, true));
  }

  async function openOrders(): Promise<IbkrOrderState[]> {
    const now = Date.now();
    await tradeList.get(now - config.tradesPacingMs);
    const live = (await liveOrders.get(now - config.ordersPacingMs)).value;
    return live.flatMap((o) => (o.orderRef ? [stateOf(o.orderRef, o, true)] : []))
      .filter((s) => s.status === 'NEW' || s.status === 'PARTIALLY_FILLED');
  }

  return {
    resolve, remember, lookup, openOrders, ingestTrades, refresh, reconcile,
    markGroup: (cidList) => { for (const c of cidList) grouped.add(c); },
    cidForOrder: (orderId) => cids.get(orderId) ?? null,
    subscribe(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
  };
}
