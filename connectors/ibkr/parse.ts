// IBKR Client Portal payloads → domain values. Pure: no I/O, no clock (the caller passes `now`).
// The gateway sends numbers as strings in some fields and as numbers in others; the schemas coerce.
import { z } from 'zod';
import type { Side } from '../../schemas/types.ts';
import type { VenueEvent, VenueFill, VenueOrderState, VenueOrderStatus } from '../venue.ts';
import { fromVenue } from './symbols.ts';

const num = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/).transform(Number)]);
const optNum = z.union([num, z.literal(''), z.null()]).optional().transform((v) => (typeof v === 'number' ? v : 0));
const id = z.union([z.string().min(1), z.number()]).transform(String);

/** Statuses the gateway reports; anything else is kept as 'Unknown' rather than failing the whole list. */
export const IBKR_STATUSES = ['PendingSubmit', 'ApiPending', 'PreSubmitted', 'Submitted', 'PendingCancel', 'Filled', 'Cancelled', 'ApiCancelled', 'Inactive'] as const;
export type IbkrStatus = (typeof IBKR_STATUSES)[number] | 'Unknown';
const statusOf = (raw: string): IbkrStatus => ((IBKR_STATUSES as readonly string[]).includes(raw) ? (raw as IbkrStatus) : 'Unknown');
const sideOf = (raw: string): Side => (/^(B|BUY|BOT)$/i.test(raw) ? 'BUY' : 'SELL');

/** yyMMddHHmmss in UTC, as in order_time and lastExecutionTime. */
export function parseCompactTime(raw: string | undefined | null): number | null {
  const m = raw ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(raw) : null;
  return m ? Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : null;
}

// ---- wire schemas -----------------------------------------------------------------------------------
const placedSchema = z.object({ order_id: id, order_status: z.string().optional(), encrypt_message: z.string().optional() }).passthrough();
const questionSchema = z.object({ id: z.string().min(1), message: z.array(z.string()), isSuppressed: z.boolean().optional(), messageIds: z.array(z.string()).optional() }).passthrough();
const errorSchema = z.object({ error: z.string() }).passthrough();

const orderStatusSchema = z.object({
  order_id: id, conid: num, side: z.string(), total_size: num, cum_fill: num, order_status: z.string(),
  order_status_description: z.string().optional(), order_time: z.string().optional(), average_price: optNum,
  order_ref: z.string().optional(), oca_group_id: z.union([z.string(), z.number()]).optional(),
}).passthrough();

const liveOrderSchema = z.object({
  orderId: id, conid: num, side: z.string(), totalSize: num, filledQuantity: optNum, status: z.string(),
  order_ref: z.string().optional(), lastExecutionTime_r: num.optional(), lastExecutionTime: z.string().optional(),
}).passthrough();
const liveOrdersSchema = z.object({ orders: z.array(liveOrderSchema).default([]), snapshot: z.boolean().optional() }).passthrough();

const tradeSchema = z.object({
  execution_id: z.string().min(1), conid: num, side: z.string(), size: num, price: num, commission: optNum,
  trade_time_r: num, order_ref: z.string().optional(), order_id: id.optional(),
}).passthrough();

const wsMessageSchema = z.object({ topic: z.string(), args: z.unknown().optional() }).passthrough();
const sorArgSchema = z.object({ orderId: id, order_ref: z.string().optional(), status: z.string().optional() }).passthrough();

// ---- domain values ----------------------------------------------------------------------------------
export interface IbkrOrder {
  orderId: string;
  orderRef: string | null;
  conid: number;
  side: Side;
  totalSize: number;
  filledQty: number;
  status: IbkrStatus;
  description: string | null;
  venueTime: number | null;
  /** The OCA group the order belongs to: only Order Status shows it ("How to Code an OCA Order in the Web API"). */
  ocaGroup: string | null;
}

export interface IbkrTrade {
  executionId: string;
  orderRef: string | null;
  orderId: string | null;
  conid: number;
  side: Side;
  size: number;
  price: number;
  commission: number;
  venueTime: number;
}

export type PlaceReply =
  /** `orders`: one per order of the request, in its order (an OCA group places several at once). */
  | { kind: 'placed'; orderId: string; status: IbkrStatus; orders: { orderId: string; status: IbkrStatus }[] }
  | { kind: 'question'; replyId: string; messages: string[]; messageIds: string[] }
  | { kind: 'error'; message: string };

/**
 * What an order's `error` answer means for the order: the cOID is taken (Place Order: a cOID is unique
 * for 24 h, so an order with it exists), the session wants GET /iserver/accounts first, or a refusal.
 */
export function placeErrorKind(message: string): 'duplicate' | 'accountsFirst' | 'refused' {
  if (/local order id\s*=.*already registered|already (registered|exists|in use)|duplicate/i.test(message)) return 'duplicate';
  if (/query \/?accounts first|\/accounts/i.test(message)) return 'accountsFirst';
  return 'refused';
}

/** The answer to an order POST or a /iserver/reply POST: placed, another question, or an error. */
export function parsePlaceReply(json: unknown): PlaceReply | null {
  const err = errorSchema.safeParse(json);
  if (err.success) return { kind: 'error', message: err.data.error };
  const list = Array.isArray(json) ? json : [json];
  const placed = list.map((x) => placedSchema.safeParse(x));
  if (list.length > 0 && placed.every((p) => p.success)) {
    const orders = placed.map((p) => ({ orderId: p.data!.order_id, status: statusOf(p.data!.order_status ?? 'PendingSubmit') }));
    return { kind: 'placed', orderId: orders[0].orderId, status: orders[0].status, orders };
  }
  const first = list[0];
  const question = questionSchema.safeParse(first);
  if (question.success) return { kind: 'question', replyId: question.data.id, messages: question.data.message, messageIds: question.data.messageIds ?? [] };
  const nested = errorSchema.safeParse(first);
  return nested.success ? { kind: 'error', message: nested.data.error } : null;
}

export interface ConfirmPolicy { messageIds: readonly string[]; texts: readonly string[] }

/** Confirm only when every message id is allowed, or (when the gateway sent none) every text matches. */
export function decideQuestion(q: Extract<PlaceReply, { kind: 'question' }>, policy: ConfirmPolicy): { confirm: true } | { confirm: false; refused: string } {
  if (q.messageIds.length > 0) {
    const refused = q.messageIds.find((m) => !policy.messageIds.includes(m));
    return refused === undefined ? { confirm: true } : { confirm: false, refused };
  }
  const patterns = policy.texts.map((t) => new RegExp(t, 'i'));
  const refused = q.messages.find((m) => !patterns.some((p) => p.test(m)));
  return refused === undefined && q.messages.length > 0 ? { confirm: true } : { confirm: false, refused: (refused ?? '').slice(0, 80) };
}

export function parseOrderStatus(json: unknown): IbkrOrder | null {
  const r = orderStatusSchema.safeParse(json);
  if (!r.success) return null;
  const o = r.data;
  return {
    orderId: o.order_id, orderRef: o.order_ref ?? null, conid: o.conid, side: sideOf(o.side), totalSize: o.total_size,
    filledQty: o.cum_fill, status: statusOf(o.order_status), description: o.order_status_description ?? null, venueTime: parseCompactTime(o.order_time),
    ocaGroup: o.oca_group_id === undefined || o.oca_group_id === '' ? null : String(o.oca_group_id),
  };
}

/** Entries of GET /iserver/account/orders; null when the body is not that shape. */
export function parseLiveOrders(json: unknown): IbkrOrder[] | null {
  const r = liveOrdersSchema.safeParse(json);
  if (!r.success) return null;
  return r.data.orders.map((o) => ({
    orderId: o.orderId, orderRef: o.order_ref ?? null, conid: o.conid, side: sideOf(o.side), totalSize: o.totalSize,
    filledQty: o.filledQuantity, status: statusOf(o.status), description: null,
    venueTime: o.lastExecutionTime_r ?? parseCompactTime(o.lastExecutionTime), ocaGroup: null,
  }));
}

/** Rows of GET /iserver/account/trades or `str` websocket args; unreadable rows are dropped, not fatal. */
export function parseTrades(json: unknown): IbkrTrade[] {
  if (!Array.isArray(json)) return [];
  const out: IbkrTrade[] = [];
  for (const row of json) {
    const r = tradeSchema.safeParse(row);
    if (!r.success) continue;
    const t = r.data;
    out.push({
      executionId: t.execution_id, orderRef: t.order_ref || null, orderId: t.order_id ?? null, conid: t.conid, side: sideOf(t.side),
      size: t.size, price: t.price, commission: Math.abs(t.commission), venueTime: t.trade_time_r,
    });
  }
  return out;
}

export type WsMessage =
  | { kind: 'orders'; updates: { orderId: string; orderRef: string | null }[] }
  | { kind: 'trades'; trades: IbkrTrade[] }
  | { kind: 'auth'; authenticated: boolean }
  /** The socket is open but has no session yet: it wants {"session": …} from /tickle. */
  | { kind: 'waitingForSession' }
  /** `system` with `success` (the user name): the socket has its session. */
  | { kind: 'connected' }
  /** `act`: the accounts of the login and the one selected. */
  | { kind: 'account'; selected: string | null }
  | { kind: 'heartbeat' };

/** A websocket frame; null for topics we do not subscribe to. */
export function parseWsMessage(text: string): WsMessage | null {
  let json: unknown;
  try { json = JSON.parse(text); } catch { return null; }
  const bare = z.object({ message: z.string() }).passthrough().safeParse(json);
  if (bare.success && !('topic' in bare.data) && /waiting for session/i.test(bare.data.message)) return { kind: 'waitingForSession' };
  const r = wsMessageSchema.safeParse(json);
  if (!r.success) return null;
  const { topic, args } = r.data;
  if (topic === 'system' && typeof r.data.success === 'string') return { kind: 'connected' };
  if (topic === 'act') {
    const a = z.object({ selectedAccount: z.string().optional() }).passthrough().safeParse(args);
    return a.success ? { kind: 'account', selected: a.data.selectedAccount ?? null } : null;
  }
  if (topic === 'sor') {
    const updates = (Array.isArray(args) ? args : []).flatMap((a) => {
      const u = sorArgSchema.safeParse(a);
      return u.success ? [{ orderId: u.data.orderId, orderRef: u.data.order_ref ?? null }] : [];
    });
    return { kind: 'orders', updates };
  }
  if (topic === 'str') return { kind: 'trades', trades: parseTrades(args) };
  if (topic === 'sts') {
    const a = z.object({ authenticated: z.boolean() }).passthrough().safeParse(args);
    return a.success ? { kind: 'auth', authenticated: a.data.authenticated } : null;
  }
  if (topic === 'system' || topic === 'tic') return { kind: 'heartbeat' };
  return null;
}

function statusFor(s: IbkrStatus, filled: number, total: number): VenueOrderStatus {
  switch (s) {
    case 'Filled': return 'FILLED';
    case 'Cancelled':
    case 'ApiCancelled': return 'CANCELED';
    case 'Inactive': return 'REJECTED';
    case 'PendingSubmit':
    case 'ApiPending':
    case 'PreSubmitted':
    case 'Submitted':
    case 'PendingCancel':
    case 'Unknown': return filled <= 0 ? 'NEW' : filled >= total ? 'FILLED' : 'PARTIALLY_FILLED';
    default: {
      const never: never = s;
      throw new Error(`unhandled IBKR status ${String(never)}`);
    }
  }
}

export const fillOf = (t: IbkrTrade): VenueFill => ({ tradeId: t.executionId, quantity: t.size, price: t.price, fee: t.commission, venueTime: t.venueTime });

/** Whether a trade belongs to our order: by cOID (order_ref) first, the gateway's order id otherwise. */
export const tradeOf = (order: Pick<IbkrOrder, 'orderId'>, clientOrderId: string) => (t: IbkrTrade) =>
  t.orderRef === clientOrderId || (t.orderRef === null && t.orderId === order.orderId);

/**
 * A venue order state that may say its fills are the venue's whole statement (a field the shared
 * interface is gaining; declared here so this folder compiles with or without it).
 */
export type IbkrOrderState = VenueOrderState & { fillsComplete?: boolean };

/** The venue's view of one of our orders: its status plus the executions the gateway lists for it. */
export function orderState(clientOrderId: string, order: IbkrOrder, trades: readonly IbkrTrade[], now: number): IbkrOrderState {
  const mine = new Map<string, IbkrTrade>();
  for (const t of trades) if (tradeOf(order, clientOrderId)(t)) mine.set(t.executionId, t); // a repeated row is one fill
  const fills = [...mine.values()].sort((a, b) => a.venueTime - b.venueTime || a.executionId.localeCompare(b.executionId)).map(fillOf);
  const fromTrades = fills.reduce((sum, f) => sum + f.quantity, 0);
  const filledQty = Math.max(order.filledQty, Math.round(fromTrades * 1e9) / 1e9);
  const status = statusFor(order.status, filledQty, order.totalSize);
  return {
    clientOrderId, venueOrderId: order.orderId, symbol: fromVenue(order.conid) ?? `conid:${order.conid}`, side: order.side,
    quantity: order.totalSize, status, filledQty, fills,
    rejectReason: status === 'REJECTED' ? (order.description ?? 'Inactive') : null,
    venueTime: order.venueTime ?? fills.at(-1)?.venueTime ?? now,
    ...(order.ocaGroup !== null ? { nativeOco: true } : {}),
  };
}

/** A trade the gateway lists again with another size, price or commission: a correction, never an edit. */
export function amendment(known: IbkrTrade | undefined, seen: IbkrTrade, clientOrderId: string, now: number): Extract<VenueEvent, { kind: 'correction' }> | null {
  if (!known || (known.size === seen.size && known.price === seen.price && known.commission === seen.commission)) return null;
  return { kind: 'correction', clientOrderId, tradeId: seen.executionId, quantity: seen.size, price: seen.price, fee: seen.commission, venueTime: now };
}
