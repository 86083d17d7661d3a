// MetaApi-style MT5 bridge payloads → domain values. Pure: no I/O, no clock (the caller passes `now`).
// Orders are ours when they carry our magic number and the comment token of a clientOrderId; deals
// belong to an order by its ticket (deal.orderId), since brokers may rewrite deal comments.
import { z } from 'zod';
import type { Side } from '../../schemas/types.ts';
import type { VenueEvent, VenueFill, VenueOrderState, VenueOrderStatus } from '../venue.ts';
import { fromLots, fromVenue, toVenue } from './symbols.ts';

const id = z.union([z.string().min(1), z.number()]).transform(String);
const time = z.string().transform((s, ctx) => {
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) { ctx.addIssue({ code: 'custom', message: 'not an ISO time' }); return z.NEVER; }
  return ms;
});

export const ORDER_STATES = [
  'ORDER_STATE_STARTED', 'ORDER_STATE_PLACED', 'ORDER_STATE_CANCELED', 'ORDER_STATE_PARTIAL', 'ORDER_STATE_FILLED',
  'ORDER_STATE_REJECTED', 'ORDER_STATE_EXPIRED', 'ORDER_STATE_REQUEST_ADD', 'ORDER_STATE_REQUEST_MODIFY', 'ORDER_STATE_REQUEST_CANCEL',
] as const;
export type Mt5OrderState = (typeof ORDER_STATES)[number];

const tradeResponseSchema = z.object({
  numericCode: z.number().int(), stringCode: z.string().default(''), message: z.string().default(''),
  orderId: id.optional(), positionId: id.optional(),
}).passthrough();

const orderSchema = z.object({
  id, type: z.string(), state: z.enum(ORDER_STATES), magic: z.number().int().default(0), time, doneTime: time.optional(), updateTime: time.optional(),
  symbol: z.string(), openPrice: z.number().optional(), volume: z.number(), currentVolume: z.number(),
  positionId: id.optional(), comment: z.string().default(''), brokerComment: z.string().optional(),
}).passthrough();

const dealSchema = z.object({
  id, type: z.string(), entryType: z.string().optional(), symbol: z.string().optional(), magic: z.number().int().default(0), time,
  volume: z.number().default(0), price: z.number().default(0), commission: z.number().default(0),
  orderId: id.optional(), positionId: id.optional(), comment: z.string().default(''), reason: z.string().optional(),
}).passthrough();

const positionSchema = z.object({
  id, type: z.enum(['POSITION_TYPE_BUY', 'POSITION_TYPE_SELL']), symbol: z.string(), magic: z.number().int().default(0),
  openPrice: z.number(), volume: z.number(), time, comment: z.string().default(''),
}).passthrough();

const accountSchema = z.object({ connectionStatus: z.string(), state: z.string().optional() }).passthrough();
const accountInfoSchema = z.object({ marginMode: z.string().optional(), tradeAllowed: z.boolean().optional() }).passthrough();
const errorSchema = z.object({
  error: z.string(), message: z.string().default(''), metadata: z.object({ recommendedRetryTime: z.string().optional() }).passthrough().optional(),
}).passthrough();

export type TradeResponse = z.output<typeof tradeResponseSchema>;
export type Mt5Order = z.output<typeof orderSchema>;
export type Mt5Deal = z.output<typeof dealSchema>;

export const parseTradeResponse = (json: unknown): TradeResponse | null => tradeResponseSchema.safeParse(json).data ?? null;
export const parseOrder = (json: unknown): Mt5Order | null => orderSchema.safeParse(json).data ?? null;

/** A list of orders or deals; unreadable rows are dropped rather than failing the whole answer. */
function list<T>(schema: z.ZodType<T>, json: unknown): T[] | null {
  if (!Array.isArray(json)) return null;
  return json.flatMap((row) => { const r = schema.safeParse(row); return r.success ? [r.data] : []; });
}
export const parseOrders = (json: unknown): Mt5Order[] | null => list(orderSchema, json);
export const parseDeals = (json: unknown): Mt5Deal[] | null => list(dealSchema, json);

export interface Mt5Position { positionId: string; symbol: string; side: Side; quantity: number; lots: number; openPrice: number; venueTime: number }

/** Open positions carrying our magic number, in canonical units (for reconciliation against the fold). */
export function parsePositions(json: unknown, magic: number, suffix: string): Mt5Position[] | null {
  const rows = list(positionSchema, json);
  if (!rows) return null;
  return rows.filter((p) => p.magic === magic).map((p) => {
    const symbol = fromVenue(p.symbol, suffix);
    return {
      positionId: p.id, symbol: symbol ?? p.symbol, side: p.type === 'POSITION_TYPE_BUY' ? 'BUY' : 'SELL', lots: p.volume,
      quantity: fromLots(p.volume, { contractSize: (symbol ? toVenue(symbol)?.contractSize : null) ?? 1 }), openPrice: p.openPrice, venueTime: p.time,
    };
  });
}

/**
 * Positions of one symbol folded to one net quantity (long minus short): on a hedging account several
 * tickets of both sides may be open at once, while the router's position is one number per symbol.
 */
export function netPositions(list: readonly Mt5Position[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of list) out.set(p.symbol, Math.round(((out.get(p.symbol) ?? 0) + (p.side === 'BUY' ? p.quantity : -p.quantity)) * 1e8) / 1e8);
  return out;
}

export type MarginMode = 'HEDGING' | 'NETTING' | 'EXCHANGE' | 'UNKNOWN';
/** MetatraderAccountInformation.marginMode: ACCOUNT_MARGIN_MODE_EXCHANGE, _RETAIL_NETTING or _RETAIL_HEDGING. */
export function parseMarginMode(json: unknown): MarginMode | null {
  const r = accountInfoSchema.safeParse(json);
  if (!r.success) return null;
  switch (r.data.marginMode) {
    case 'ACCOUNT_MARGIN_MODE_RETAIL_HEDGING': return 'HEDGING';
    case 'ACCOUNT_MARGIN_MODE_RETAIL_NETTING': return 'NETTING';
    case 'ACCOUNT_MARGIN_MODE_EXCHANGE': return 'EXCHANGE';
    default: return 'UNKNOWN';
  }
}

/** The terminal's link to the broker, from the bridge's account record. */
export function parseConnection(json: unknown): { connected: boolean; status: string } | null {
  const r = accountSchema.safeParse(json);
  return r.success ? { connected: r.data.connectionStatus === 'CONNECTED', status: r.data.connectionStatus } : null;
}

/** The bridge's error body: its class name and, for 429, when to come back (ms from `now`). */
export function parseErrorBody(json: unknown, now: number): { error: string; message: string; retryAfterMs: number | null } | null {
  const r = errorSchema.safeParse(json);
  if (!r.success) return null;
  const at = r.data.metadata?.recommendedRetryTime ? Date.parse(r.data.metadata.recommendedRetryTime) : NaN;
  return { error: r.data.error, message: r.data.message, retryAfterMs: Number.isNaN(at) ? null : Math.max(0, at - now) };
}

export const isOurs = (o: Pick<Mt5Order, 'magic' | 'comment'>, magic: number, token: string): boolean => o.magic === magic && o.comment === token;

const sideOf = (type: string): Side => (type.startsWith('ORDER_TYPE_SELL') || type.startsWith('DEAL_TYPE_SELL') ? 'SELL' : 'BUY');
const TRADE_DEALS = new Set(['DEAL_TYPE_BUY', 'DEAL_TYPE_SELL']);
const CANCELED_DEALS = new Set(['DEAL_TYPE_BUY_CANCELED', 'DEAL_TYPE_SELL_CANCELED']);
/** MT5 marks a busted deal by changing its type (DEAL_TYPE_BUY → DEAL_TYPE_BUY_CANCELED). */
export const isCanceledDeal = (d: Pick<Mt5Deal, 'type'>): boolean => CANCELED_DEALS.has(d.type);
export const isTradeDeal = (d: Pick<Mt5Deal, 'type'>): boolean => TRADE_DEALS.has(d.type);

function statusFor(state: Mt5OrderState, filled: number): VenueOrderStatus {
  switch (state) {
    case 'ORDER_STATE_FILLED': return 'FILLED';
    case 'ORDER_STATE_PARTIAL': return 'PARTIALLY_FILLED';
    case 'ORDER_STATE_CANCELED': return 'CANCELED';
    case 'ORDER_STATE_REJECTED': return 'REJECTED';
    case 'ORDER_STATE_EXPIRED': return 'EXPIRED';
    case 'ORDER_STATE_STARTED':
    case 'ORDER_STATE_PLACED':
    case 'ORDER_STATE_REQUEST_ADD':
    case 'ORDER_STATE_REQUEST_MODIFY':
    case 'ORDER_STATE_REQUEST_CANCEL': return filled > 0 ? 'PARTIALLY_FILLED' : 'NEW';
    default: {
      const never: never = state;
      throw new Error(`unhandled MT5 order state ${String(never)}`);
    }
  }
}

export const fillOf = (d: Mt5Deal, contractSize: number): VenueFill => ({
  tradeId: d.id, quantity: fromLots(d.volume, { contractSize }), price: d.price, fee: Math.abs(d.commission), venueTime: d.time,
});

export type Mt5OrderStateView = VenueOrderState & { fillsComplete?: boolean };

/**
 * Our order as the bridge states it: quantities in canonical units, fills from its trade deals (a
 * deal listed twice is one fill; a canceled deal is no fill). `complete` says `deals` is the whole
 * deal history of the order (read by its ticket), so a missing deal means a bust.
 */
export function orderState(clientOrderId: string, order: Mt5Order, deals: readonly Mt5Deal[], suffix: string, complete: boolean): Mt5OrderStateView {
  const symbol = fromVenue(order.symbol, suffix);
  const contractSize = (symbol === null ? null : toVenue(symbol)?.contractSize) ?? 1;
  const mine = new Map<string, Mt5Deal>();
  for (const d of deals) if (d.orderId === order.id && (isTradeDeal(d) || isCanceledDeal(d))) mine.set(d.id, d);
  const kept = [...mine.values()].filter(isTradeDeal);
  const fills = kept.sort((a, b) => a.time - b.time || a.id.localeCompare(b.id)).map((d) => fillOf(d, contractSize));
  const fromDeals = fills.reduce((s, f) => s + f.quantity, 0);
  // The order keeps counting a canceled deal's volume as executed; the deal's type says it is not.
  const canceledLots = [...mine.values()].filter(isCanceledDeal).reduce((s, d) => s + d.volume, 0);
  const filledQty = Math.round(Math.max(fromLots(order.volume - order.currentVolume - canceledLots, { contractSize }), fromDeals) * 1e8) / 1e8;
  const status = statusFor(order.state, filledQty);
  const state: Mt5OrderStateView = {
    clientOrderId, venueOrderId: order.id, symbol: symbol ?? order.symbol, side: sideOf(order.type),
    quantity: fromLots(order.volume, { contractSize }), status, filledQty, fills,
    rejectReason: status === 'REJECTED' ? (order.brokerComment || 'ORDER_STATE_REJECTED') : null,
    venueTime: order.doneTime ?? order.updateTime ?? order.time,
  };
  if (complete) state.fillsComplete = true;
  return state;
}

/** A deal stated again with another volume, price or commission is a correction; a canceled type is a bust. */
export function dealAmendment(known: Mt5Deal | undefined, seen: Mt5Deal, clientOrderId: string, contractSize: number, now: number): Exclude<VenueEvent, { kind: 'order' }> | null {
  if (!known || !isTradeDeal(known)) return null;
  if (isCanceledDeal(seen)) return { kind: 'bust', clientOrderId, tradeId: seen.id, venueTime: now };
  if (!isTradeDeal(seen)) return null;
  if (known.volume === seen.volume && known.price === seen.price && known.commission === seen.commission) return null;
  const f = fillOf(seen, contractSize);
  return { kind: 'correction', clientOrderId, tradeId: seen.id, quantity: f.quantity, price: f.price, fee: f.fee, venueTime: now };
}

const activeStatus = (s: VenueOrderStatus) => s === 'NEW' || s === 'PARTIALLY_FILLED';

/**
 * One client order carried by several bridge orders (on a hedging account: closes of positions by id,
 * then the opening remainder), all with our comment token. `shortfall`: a later leg was refused, so the
 * order ends with what the earlier legs did (a market order's unexecuted rest is canceled).
 */
export function combinedState(clientOrderId: string, legs: readonly Mt5Order[], deals: readonly Mt5Deal[], suffix: string, complete: boolean, shortfall = false): Mt5OrderStateView {
  const sorted = [...legs].sort((a, b) => a.time - b.time || Number(a.id) - Number(b.id));
  if (sorted.length === 1 && !shortfall) return orderState(clientOrderId, sorted[0], deals, suffix, complete);
  const states = sorted.map((o) => orderState(clientOrderId, o, deals, suffix, complete));
  const first = states[0];
  const r8 = (v: number) => Math.round(v * 1e8) / 1e8;
  const filledQty = r8(states.reduce((s, x) => s + x.filledQty, 0));
  let status: VenueOrderStatus;
  if (states.some((x) => activeStatus(x.status))) status = filledQty > 0 ? 'PARTIALLY_FILLED' : 'NEW';
  else if (states.every((x) => x.status === 'FILLED')) status = shortfall ? 'CANCELED' : 'FILLED';
  else if (filledQty > 0) status = 'CANCELED';
  else status = states.find((x) => x.status !== 'FILLED')!.status;
  const state: Mt5OrderStateView = {
    ...first, quantity: r8(states.reduce((s, x) => s + x.quantity, 0)), status, filledQty,
    fills: states.flatMap((x) => x.fills).sort((a, b) => a.venueTime - b.venueTime || a.tradeId.localeCompare(b.tradeId)),
    rejectReason: status === 'REJECTED' ? first.rejectReason : null, venueTime: Math.max(...states.map((x) => x.venueTime)),
  };
  return state;
}
