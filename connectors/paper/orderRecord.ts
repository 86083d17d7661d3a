// One order at the paper venue: its record (state as the venue reports it, plus the lots, ticks, stop
// and expiry the engine works in), how a new one is made, and the checks that reject it on arrival.
// Pure apart from the reject roll, which comes in as a function; venue.ts owns the records.
import type { OrderType, TimeInForce } from '../../schemas/types.ts';
import type { VenueOrderRequest, VenueOrderState } from '../venue.ts';
import type { OrderBook } from './book.ts';
import { armStop, type StopState } from './stops.ts';
import { instrumentUnits, type InstrumentUnits } from './symbols.ts';

export interface OrderRecord {
  state: VenueOrderState;
  units: InstrumentUnits | null;
  book: OrderBook | null;
  type: OrderType;
  tif: TimeInForce;
  limitTicks: number | null;
  /** A stop not triggered yet: open at the venue, off the book. Null once triggered (or for other types). */
  stop: StopState | null;
  qtyLots: number;
  filledLots: number;
  expireAt: number | null;
}

const DAY_MS = 86_400_000;

/** The first instant after `now` when the UTC clock reads `hhmm`. */
export function nextSessionEnd(now: number, hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  const d = new Date(now);
  const today = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), h, m);
  return today > now ? today : today + DAY_MS;
}

/** A fresh record for a new order: NEW, nothing filled, units and book from its instrument when it is listed. */
export function newOrderRecord(
  request: VenueOrderRequest, venueOrderId: string, now: number,
  inst: { tickSize: number; lotSize: number } | undefined, book: OrderBook | null, sessionEnd: string,
): OrderRecord {
  return {
    state: {
      clientOrderId: request.clientOrderId, venueOrderId, symbol: request.symbol, side: request.side,
      quantity: request.quantity, status: 'NEW', filledQty: 0, fills: [], rejectReason: null, venueTime: now,
    },
    units: inst ? instrumentUnits(inst.tickSize, inst.lotSize) : null,
    book,
    type: request.orderType, tif: request.timeInForce, limitTicks: null, stop: null, qtyLots: 0, filledLots: 0,
    expireAt: request.timeInForce === 'DAY' ? nextSessionEnd(now, sessionEnd) : null,
  };
}

/**
 * The reject reason for an order the venue refuses on arrival, else null. Fills in the record's lots,
 * limit ticks and armed stop as it checks them. `rejectRoll` is the random-reject knob's draw.
 */
export function validateOrder(request: VenueOrderRequest, rec: OrderRecord, inst: { tickSize: number } | undefined, rejectRoll: () => boolean): string | null {
  if (!inst || !rec.units) return 'UNKNOWN_SYMBOL';
  const lots = Number.isFinite(request.quantity) ? rec.units.toLots(request.quantity) : null;
  if (lots === null || lots <= 0) return 'INVALID_QUANTITY';
  rec.qtyLots = lots;
  const ticksOf = (price: number | null | undefined): number | null => {
    const ticks = price == null || !Number.isFinite(price) ? null : rec.units!.toTicks(price);
    return ticks !== null && ticks > 0 ? ticks : null;
  };
  if (request.orderType === 'LIMIT' || request.orderType === 'STOP_LIMIT') {
    rec.limitTicks = ticksOf(request.limitPrice);
    if (rec.limitTicks === null) return 'INVALID_PRICE';
  }
  if (request.orderType === 'STOP' || request.orderType === 'STOP_LIMIT') {
    const stopTicks = ticksOf(request.stopPrice);
    if (stopTicks === null) return 'INVALID_STOP_PRICE';
    rec.stop = armStop({ kind: request.orderType, side: request.side, stopTicks, trailTicks: null, trailPercent: null });
  }
  if (request.orderType === 'TRAILING_STOP') {
    const amount = request.trailAmount ?? null;
    const percent = request.trailPercent ?? null;
    if ((amount === null) === (percent === null)) return 'INVALID_TRAIL';
    // A trail amount off the tick grid trails by the nearest whole number of ticks (at least one).
    const trailTicks = amount === null ? null : Number.isFinite(amount) && amount > 0 ? Math.max(1, Math.round(amount / inst.tickSize)) : NaN;
    if (Number.isNaN(trailTicks) || (percent !== null && !(percent > 0 && percent < 100))) return 'INVALID_TRAIL';
    rec.stop = armStop({ kind: 'TRAILING_STOP', side: request.side, stopTicks: null, trailTicks, trailPercent: percent });
  }
  if (rejectRoll()) return 'RANDOM_REJECT';
  return null;
}
