// The fake Client Portal gateway's book: accounts and the selected one, the brokerage session, orders
// keyed by the gateway's order id, executions, counters and the faults tests switch on. No HTTP here;
// fake.ts and wire.ts render this in the gateway's wire format. Written from IBKR's Client Portal Web
// API v1.0 documentation (IBKR Campus), never from connectors/ibkr.
import { randomBytes } from 'node:crypto';
import { rebalanceGroup } from './oca.ts';

/** Order statuses the documentation lists for live orders and order status. */
export type FakeIbkrStatus = 'PendingSubmit' | 'PreSubmitted' | 'Submitted' | 'Filled' | 'Cancelled' | 'Inactive';

export type FakeIbkrOrderType = 'MKT' | 'LMT' | 'STP' | 'STOP_LIMIT' | 'TRAIL';

export interface FakeIbkrOrder {
  orderId: number;
  cOID: string;
  /** The account the order was placed for (the path's {accountId}). */
  acct: string;
  conid: number;
  side: 'BUY' | 'SELL';
  totalSize: number;
  filled: number;
  notional: number;
  status: FakeIbkrStatus;
  /** IBKR's order types as the Client Portal API takes them (only MKT fills at once here; the rest rest). */
  orderType: FakeIbkrOrderType;
  price: number | null;
  tif: string;
  /** The OCA group the gateway assigned (orders placed together with isSingleGroup), or null. */
  ocaGroup: string | null;
  createdAt: number;
  updatedAt: number;
}

/** One order line of a placement, as the fake keeps it. */
export interface FakeIbkrLine { cOID: string; acct: string; conid: number; side: 'BUY' | 'SELL'; quantity: number; orderType: FakeIbkrOrderType; price: number | null; tif: string }

export interface FakeIbkrTrade {
  executionId: string;
  orderId: number;
  cOID: string;
  acct: string;
  conid: number;
  side: 'BUY' | 'SELL';
  size: number;
  price: number;
  commission: number;
  time: number;
}

export interface FakeQuestion { messageId: string | null; text: string }

export interface FakeIbkrFaults {
  /** Questions the next order must get through, one per round, before it is placed. */
  questions: FakeQuestion[];
  /** Order POSTs (or confirming replies) that place the order and never answer. */
  dropSubmits: number;
  /** Which requests the one-shot faults below hit (the client's background poll shares the gateway). */
  faultPath: RegExp;
  /** Requests answered 503 before any work. */
  serverErrors: number;
  /** Requests answered 429 with Retry-After. */
  rateLimited: number;
  retryAfterSec: number;
  /** Enforced like the gateway's global limit when > 0. */
  maxRequestsPerSecond: number;
  sessionExpired: boolean;
  /** Whether POST /iserver/auth/ssodh/init brings an expired session back (the SSO login still stands). */
  reauthAllowed: boolean;
  outage: boolean;
  /** The websocket stays open but sends nothing: no heartbeats, no sor/str. */
  silentStream: boolean;
  /** The websocket never accepts a session: it stays at "waiting for session". */
  refuseWsSession: boolean;
  /** The next order POST answers this status; `created` says whether the order exists anyway. */
  failSubmit: { status: number; created: boolean } | null;
  /** The next order POST answers 429 with this Retry-After (seconds). */
  rateLimitSubmitSec: number | null;
  /** Share of a market order filled at once (1 = all, 0 = rests until fill()). */
  marketFillRatio: number;
  /** The live-orders cache trails the book: orders younger than this are not listed yet. */
  liveOrdersLagMs: number;
  /** How long the gateway takes to answer an order POST or a reply (lets overlapping placements show). */
  placeLatencyMs: number;
}

export const REFERENCE_PRICES: Readonly<Record<number, number>> = { 265598: 190.12, 272093: 421.5, 12087792: 1.0843 };

export function createFakeIbkrState(clock: () => number, accounts: readonly string[], selected: string) {
  const orders = new Map<number, FakeIbkrOrder>();
  const byCoid = new Map<string, number>();
  const trades: FakeIbkrTrade[] = [];
  /** Extra rows /trades lists again (the gateway repeats executions across calls and days). */
  const repeats: FakeIbkrTrade[] = [];
  const counters = {
    ordersCreated: 0, requests: 0, tradesCreated: 0, cancels: 0, rateLimitViolations: 0,
    /** An order POST that arrived while an earlier order was not yet acknowledged (Place Order's notes). */
    overlappingPlacements: 0,
    /** Websockets that sent the /tickle session and were let in. */
    wsAuthorised: 0,
    accountSwitches: 0,
    liveOrdersCalls: 0,
    /** OCA groups placed (one per order POST whose lines carry isSingleGroup). */
    ocaGroups: 0,
  };
  const submits = new Map<string, number>(); // order POSTs received per cOID
  let nextOrderId = 1_799_796_000;
  let nextExec = 0x6576fd38;
  let nextOca = 1_712_000_000;
  const groups = new Map<string, FakeIbkrOrder[]>(); // by OCA group id
  const faults: FakeIbkrFaults = {
    questions: [], faultPath: /./, dropSubmits: 0, serverErrors: 0, rateLimited: 0, retryAfterSec: 1, maxRequestsPerSecond: 0,
    sessionExpired: false, reauthAllowed: false, outage: false, silentStream: false, refuseWsSession: false, failSubmit: null, rateLimitSubmitSec: null,
    marketFillRatio: 1, liveOrdersLagMs: 0, placeLatencyMs: 0,
  };
  /**
   * The brokerage session: its id (what /tickle returns as `session`), whether /iserver/accounts was
   * read in it, whether the live-orders subscription has been started by a first request, the selected
   * account, and the conids whose market data a first snapshot request has started.
   */
  const session = { id: randomBytes(16).toString('hex'), accountsQueried: false, liveOrdersStarted: false, selected, marketStarted: new Set<number>() };
  const orderListeners: ((o: FakeIbkrOrder) => void)[] = [];
  const tradeListeners: ((t: FakeIbkrTrade) => void)[] = [];

  const changed = (o: FakeIbkrOrder): void => {
    o.updatedAt = clock();
    for (const l of orderListeners) l(o);
  };

  const open = (o: FakeIbkrOrder) => o.status !== 'Filled' && o.status !== 'Cancelled' && o.status !== 'Inactive';

  function place(line: FakeIbkrLine, ocaGroup: string | null): FakeIbkrOrder {
    const now = clock();
    const order: FakeIbkrOrder = {
      orderId: nextOrderId++, cOID: line.cOID, acct: line.acct, conid: line.conid, side: line.side, totalSize: line.quantity, filled: 0,
      notional: 0, status: 'Submitted', orderType: line.orderType, price: line.price, tif: line.tif, ocaGroup, createdAt: now, updatedAt: now,
    };
    orders.set(order.orderId, order);
    byCoid.set(order.cOID, order.orderId);
    counters.ordersCreated += 1;
    changed(order);
    return order;
  }

  /** A market order fills at once (marketFillRatio of it); the rest rest until fill(). */
  function marketFill(order: FakeIbkrOrder): void {
    const size = faults.marketFillRatio >= 1 ? order.totalSize : Math.floor(order.totalSize * faults.marketFillRatio);
    if (order.orderType === 'MKT' && open(order) && size > 0) fill(order, size, REFERENCE_PRICES[order.conid] ?? 100);
  }

  function create(line: FakeIbkrLine): FakeIbkrOrder {
    const order = place(line, null);
    marketFill(order);
    return order;
  }

  /** One OCA group: every line placed under one group id before any market line fills (and acts on the group). */
  function createGroup(lines: readonly FakeIbkrLine[]): FakeIbkrOrder[] {
    const id = String(nextOca++);
    const members = lines.map((l) => place(l, id));
    groups.set(id, members);
    counters.ocaGroups += 1;
    for (const o of members) marketFill(o);
    return members;
  }

  function fill(order: FakeIbkrOrder, size: number, price: number): FakeIbkrTrade {
    const remaining = order.totalSize - order.filled;
    const qty = Math.min(size, remaining);
    if (qty <= 0) throw new Error(`order ${order.cOID} has nothing left to fill`);
    nextExec += 1;
    const trade: FakeIbkrTrade = {
      executionId: `0000e0d5.${nextExec.toString(16)}.01.01`, orderId: order.orderId, cOID: order.cOID, acct: order.acct, conid: order.conid,
      side: order.side, size: qty, price, commission: Math.max(1, Math.round(qty * 0.005 * 100) / 100), time: clock(),
    };
    trades.push(trade);
    counters.tradesCreated += 1;
    order.filled = Math.round((order.filled + qty) * 1e9) / 1e9;
    order.notional += qty * price;
    if (order.filled >= order.totalSize) order.status = 'Filled';
    for (const l of tradeListeners) l(trade);
    changed(order);
    if (order.ocaGroup !== null) {
      const others = (groups.get(order.ocaGroup) ?? []).filter((o) => o !== order && open(o));
      for (const o of rebalanceGroup(order, remaining, qty, others)) changed(o);
    }
    return trade;
  }

  /** A cancel request (DELETE): it cancels this order only, OCA group or not (see fake.ts). */
  function cancel(order: FakeIbkrOrder): boolean {
    if (!open(order)) return false;
    order.status = 'Cancelled';
    counters.cancels += 1;
    changed(order);
    return true;
  }

  /** The gateway stops listing an execution: our model of a bust (IBKR has no bust message). */
  function bust(executionId: string): boolean {
    const before = trades.length + repeats.length;
    for (const list of [trades, repeats]) {
      for (let i = list.length - 1; i >= 0; i -= 1) if (list[i].executionId === executionId) list.splice(i, 1);
    }
    return trades.length + repeats.length < before;
  }

  /** A new brokerage session: a new id, and everything the documentation ties to a session starts over. */
  function newSession(): void {
    session.id = randomBytes(16).toString('hex');
    session.accountsQueried = false;
    session.liveOrdersStarted = false;
    session.marketStarted.clear();
  }

  return {
    orders, trades, repeats, counters, submits, faults, session, accounts, create, createGroup, fill, cancel, bust, newSession,
    /** The orders of an OCA group, in the order they were placed. */
    groupOf: (id: string): readonly FakeIbkrOrder[] => groups.get(id) ?? [],
    byCoid: (cOID: string) => { const id = byCoid.get(cOID); return id === undefined ? undefined : orders.get(id); },
    onOrder: (l: (o: FakeIbkrOrder) => void) => { orderListeners.push(l); },
    onTrade: (l: (t: FakeIbkrTrade) => void) => { tradeListeners.push(l); },
  };
}

export type FakeIbkrState = ReturnType<typeof createFakeIbkrState>;
