// Bracket exits managed by the pipeline, the pure core: what the brackets processor remembers (entries
// with a bracket, exits placed, OCO pairs already resolved) and what one execution report asks for.
//
//  - A FILL or PARTIAL_FILL of an entry with a bracket: its exits for exactly what filled (the planner in
//    streams/decide/brackets.ts), as orders carrying their parent's id, their role and their OCO group.
//  - The first FILL or PARTIAL_FILL of one exit of a pair: a cancel of its sibling (whatever remains of
//    it). The filled leg's own remainder keeps working. Asked once per pair, with an id derived from
//    the pair, so a replay asks with the same id.
//
// Ids derive from the parent and the fill's execution id, and the shell writes the outcome in the Kafka
// transaction that consumes the fill: a fill read twice (after a crash, by another instance) yields the
// same records, and only one copy is ever committed.
import type { CancelRequest, ExecutionReport, ExitRole, Order } from '../../schemas/types.ts';
import { clientOrderIdFor } from '../decide/decide.ts';
import { exitsForFill, type BracketProblem } from '../decide/brackets.ts';

interface ExitInfo {
  readonly orderId: string;
  readonly role: ExitRole;
  readonly ocoGroup: string | null;
  readonly account: string;
  readonly venue: string;
  readonly symbol: string;
  /** Filled, canceled or rejected: never asked to cancel. */
  done: boolean;
}

export interface BracketState {
  /** Entries that carry a bracket, by order id. */
  readonly parents: Map<string, Order>;
  readonly exits: Map<string, ExitInfo>;
  /** OCO group → its legs' order ids. */
  readonly groups: Map<string, string[]>;
  /** OCO groups whose sibling cancel has been asked. */
  readonly resolved: Set<string>;
}

export const initialBracketState = (): BracketState => ({ parents: new Map(), exits: new Map(), groups: new Map(), resolved: new Set() });

/** The OCO group of the exits of one fill. */
export const ocoGroupOf = (parentOrderId: string, executionId: string): string => `${parentOrderId}|${executionId}`;

/** The request id of a pair's sibling cancel: one per pair, whichever leg fills first. */
export const ocoRequestId = (group: string): string => `oco|${group}`;

export const hasBracket = (o: Order): boolean => o.parentOrderId === null && (o.takeProfit !== null || o.stopLoss !== null);

/** An order read from `orders` (or written by the core itself). Mutates and returns the state. */
export function evolveOrder(s: BracketState, o: Order): BracketState {
  if (hasBracket(o)) s.parents.set(o.orderId, o);
  if (o.exitRole !== null && !s.exits.has(o.orderId)) {
    s.exits.set(o.orderId, { orderId: o.orderId, role: o.exitRole, ocoGroup: o.ocoGroup, account: o.account, venue: o.venue, symbol: o.symbol, done: false });
    if (o.ocoGroup !== null) s.groups.set(o.ocoGroup, [...(s.groups.get(o.ocoGroup) ?? []), o.orderId]);
  }
  return s;
}

/** A cancel request read from `cancel-requests`: an OCO request marks its pair resolved. */
export function evolveCancelRequest(s: BracketState, r: CancelRequest): BracketState {
  if (r.source === 'oco' && r.requestId.startsWith('oco|')) s.resolved.add(r.requestId.slice(4));
  return s;
}

export interface BracketOutcome {
  orders: Order[];
  cancels: CancelRequest[];
  /** A fill whose exits could not be priced (a distance larger than the price): logged by the shell. */
  problem: { parentOrderId: string; executionId: string; problem: BracketProblem } | null;
}

export interface ExecutionInput {
  readonly report: ExecutionReport;
  readonly now: number;
  readonly hlc: number;
  /** The venue's tick for the parent's symbol (0 when unknown: prices are left unrounded). */
  readonly tick: (venue: string, symbol: string) => number;
}

const NOTHING: BracketOutcome = { orders: [], cancels: [], problem: null };

/** What one execution report asks for; the state is updated as if the outcome were written. */
export function onExecution(s: BracketState, input: ExecutionInput): BracketOutcome {
  const r = input.report;
  const exit = s.exits.get(r.orderId);
  const fill = (r.type === 'FILL' || r.type === 'PARTIAL_FILL') && r.lastQty > 0;
  if (exit !== undefined) {
    if (r.type === 'FILL' || r.type === 'CANCEL' || r.type === 'REJECT' || (r.type === 'PARTIAL_FILL' && r.leavesQty <= 0)) exit.done = true;
    if (!fill || exit.ocoGroup === null || s.resolved.has(exit.ocoGroup)) return NOTHING;
    s.resolved.add(exit.ocoGroup);
    const sibling = (s.groups.get(exit.ocoGroup) ?? []).map((id) => s.exits.get(id)!).find((e) => e.orderId !== exit.orderId);
    if (sibling === undefined || sibling.done) return NOTHING;
    const cancel: CancelRequest = {
      requestId: ocoRequestId(exit.ocoGroup), orderId: sibling.orderId, clientOrderId: clientOrderIdFor(sibling.orderId), account: sibling.account,
      venue: sibling.venue, symbol: sibling.symbol, source: 'oco', actor: 'brackets',
      reason: `one-cancels-other: ${exit.role === 'TAKE_PROFIT' ? 'take-profit' : 'stop-loss'} ${exit.orderId} filled (${r.executionId})`,
      requestedAt: input.now, hlc: input.hlc,
    };
    return { orders: [], cancels: [cancel], problem: null };
  }
  const parent = s.parents.get(r.orderId);
  if (parent === undefined || !fill) return NOTHING;
  // Sized to what the fill added to the holding (netQty: less than lastQty when the fee came out of it).
  const planned = exitsForFill(
    { parentOrderId: parent.orderId, executionId: r.executionId, entrySide: parent.side, quantity: r.netQty ?? r.lastQty, price: r.lastPrice },
    parent.takeProfit, parent.stopLoss, input.tick(parent.venue, parent.symbol), false,
  );
  if ('problem' in planned) return { orders: [], cancels: [], problem: { parentOrderId: parent.orderId, executionId: r.executionId, problem: planned.problem } };
  const group = planned.length > 1 ? ocoGroupOf(parent.orderId, r.executionId) : null;
  const orders = planned.map((leg): Order => ({
    orderId: leg.orderId, clientOrderId: clientOrderIdFor(leg.orderId), signalId: parent.signalId, decisionId: parent.decisionId,
    account: parent.account, strategy: parent.strategy, symbol: parent.symbol, venue: parent.venue, side: leg.side, quantity: leg.quantity,
    orderType: leg.orderType, limitPrice: leg.limitPrice,
    // An exit protects until it fills or its sibling does: good till canceled.
    timeInForce: 'GTC', signalPrice: null, arrivalMid: null, createdAt: input.now, hlc: input.hlc,
    stopPrice: leg.stopPrice, trailAmount: leg.trailAmount, trailPercent: leg.trailPercent,
    takeProfit: null, stopLoss: null, parentOrderId: parent.orderId, exitRole: leg.role, ocoGroup: group,
  }));
  // Already placed (a fill seen again): nothing new.
  if (orders.every((o) => s.exits.has(o.orderId))) return NOTHING;
  for (const o of orders) evolveOrder(s, o);
  return { orders, cancels: [], problem: null };
}
