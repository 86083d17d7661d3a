// The Alpaca fake's account: its orders (by id, by client order id, when each is listed), its FILL
// activities, its position per symbol and its OCO groups, with what a fill or a cancel does to a group
// as Alpaca documents it ("OCO Orders", "Bracket Orders"). No HTTP here: server.ts answers the requests,
// and `push` sends the trade_updates events.
import { randomUUID } from 'node:crypto';
import type { Activity, Order } from './payloads.ts';

// `held`: an order lifecycle status of legs held until they are triggered (an OCO's stop-loss).
// `pending_cancel` ("The order is waiting to be canceled"): still open, still holding what it closes.
export const OPEN = new Set(['new', 'accepted', 'pending_new', 'partially_filled', 'held', 'pending_cancel']);
export const iso = (t = Date.now()) => new Date(t).toISOString();
const stamp = (t: string) => t.replace(/[-:TZ.]/g, '').slice(0, 17);

export type Push = (order: Order, event: string, extra?: Record<string, unknown>) => void;

export function createAlpacaBook(push: Push) {
  const orders = new Map<string, Order>();
  const byCid = new Map<string, Order[]>();
  const listedAt = new Map<string, number>();
  const activities: Activity[] = [];
  // OCO groups: a take-profit's stop-loss leg by the parent's id, and the parent by the leg's id.
  const legByParent = new Map<string, Order>();
  const parentByLeg = new Map<string, Order>();

  const positionQty = (sym: string) => activities.filter((a) => a.symbol === sym).reduce((s, a) => s + (a.side === 'buy' ? 1 : -1) * Number(a.qty), 0);
  const groupOf = (x: Order): Order[] => {
    const parent = parentByLeg.get(x.id) ?? x;
    const leg = legByParent.get(parent.id);
    return leg ? [parent, leg] : [x];
  };
  // "nested=true ... nest the result to include child orders under the parent order with an array field legs".
  const nested = (x: Order): Order => (legByParent.has(x.id) ? { ...x, legs: [legByParent.get(x.id)!] } : x);
  const cancel = (x: Order) => {
    x.status = 'canceled';
    x.canceled_at = x.updated_at = iso();
    push(nested(x), 'canceled');
  };
  const restate = (order: Order) => {
    const mine = activities.filter((a) => a.order_id === order.id);
    const qty = mine.reduce((s, a) => s + Number(a.qty), 0);
    order.filled_qty = String(qty);
    order.filled_avg_price = qty > 0 ? String(mine.reduce((s, a) => s + Number(a.qty) * Number(a.price), 0) / qty) : null;
    order.updated_at = iso();
  };
  const add = (order: Order, listLagMs: number) => {
    orders.set(order.id, order);
    byCid.set(order.client_order_id, [order]);
    listedAt.set(order.id, Date.now() + listLagMs);
  };
  const orderOf = (cid: string) => {
    const order = byCid.get(cid)?.[0];
    if (!order) throw new Error(`alpaca fake: no order ${cid}`);
    return order;
  };

  return {
    orders, byCid, activities, positionQty, groupOf, nested, restate, orderOf,
    listed: (x: Order) => (listedAt.get(x.id) ?? 0) <= Date.now(),
    isLeg: (x: Order) => parentByLeg.has(x.id),
    add,
    /** An OCO: the take-profit as the order, the stop-loss as its leg. */
    addPair(parent: Order, leg: Order, listLagMs: number) {
      parent.order_class = 'oco';
      add(parent, listLagMs);
      add(leg, listLagMs);
      legByParent.set(parent.id, leg);
      parentByLeg.set(leg.id, parent);
    },
    /** What the open orders of this side hold (an OCO once, by its parent): its remaining quantity. */
    heldFor: (sym: string, side: string) => [...orders.values()]
      .filter((x) => x.symbol === sym && x.side === side && OPEN.has(x.status) && !parentByLeg.has(x.id))
      .reduce((s, x) => s + Number(x.qty) - Number(x.filled_qty), 0),
    /** A cancel of one order: "If any one of the orders is canceled, any remaining open order in the group is canceled." */
    cancelGroup(order: Order) {
      for (const x of [order, ...groupOf(order).filter((y) => y !== order)]) if (OPEN.has(x.status)) cancel(x);
    },
    /** A cancel request accepted and not done yet: the group waits in `pending_cancel`, then is canceled. */
    pendingCancelGroup(order: Order, lagMs: number) {
      const members = [order, ...groupOf(order).filter((y) => y !== order)].filter((x) => OPEN.has(x.status));
      for (const x of members) {
        x.status = 'pending_cancel';
        x.updated_at = iso();
        push(nested(x), 'pending_cancel');
      }
      setTimeout(() => { for (const x of members) if (x.status === 'pending_cancel') cancel(x); }, lagMs).unref();
    },
    legOf(parentCid: string): string | null {
      const parent = byCid.get(parentCid)?.[0];
      return (parent && legByParent.get(parent.id)?.client_order_id) ?? null;
    },
    activity(id: string) {
      const a = activities.find((x) => x.id === id);
      if (!a) throw new Error(`alpaca fake: no fill activity ${id}`);
      return a;
    },
    /** A test's fill of `quantity` (a leg of an OCO fills at its limit, else its stop): the activity, the push, the group's reaction. */
    fill(cid: string, quantity: number): { ref: string; price: number } {
      const order = orderOf(cid);
      if (groupOf(order).length > 1 && order.status === 'canceled') throw new Error(`alpaca fake: ${cid} of an OCO is canceled and cannot fill (a test bug)`);
      const parent = parentByLeg.get(order.id);
      const price = Number(order.limit_price ?? (parent ? order.stop_price : null) ?? 175.5);
      const time = iso();
      const cum = Number(order.filled_qty) + quantity;
      const done = cum >= Number(order.qty);
      const a: Activity = {
        id: `${stamp(time)}::${randomUUID()}`, activity_type: 'FILL', transaction_time: time, type: done ? 'fill' : 'partial_fill',
        price: String(price), qty: String(quantity), side: String(order.side), symbol: String(order.symbol), order_id: order.id,
        cum_qty: String(cum), leaves_qty: String(Number(order.qty) - cum), order_status: done ? 'filled' : 'partially_filled',
      };
      activities.push(a);
      restate(order);
      order.status = done ? 'filled' : 'partially_filled';
      if (done) order.filled_at = time;
      const leg = legByParent.get(order.id);
      // "If the take-profit order is partially filled, the stop-loss order will be adjusted to the remaining quantity."
      if (leg && !done && OPEN.has(leg.status)) {
        leg.qty = String(Number(order.qty) - cum);
        leg.updated_at = iso();
      }
      push(nested(order), done ? 'fill' : 'partial_fill', { timestamp: time, price: String(price), qty: String(quantity), position_qty: String(positionQty(String(order.symbol))) });
      // "Once one of the exit orders is filled, the other is canceled": the stop once the take-profit is
      // done, the take-profit's remainder once the stop triggers and fills at all.
      if (leg && done && OPEN.has(leg.status)) cancel(leg);
      if (parent && OPEN.has(parent.status)) cancel(parent);
      return { ref: a.id, price };
    },
  };
}
