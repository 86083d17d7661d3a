// Shadow twins: for each live order, one copy per shadow venue that would have taken it, with its own
// orderId derived from the live one. Pure, so the decide processor writes them in the same
// transaction as the live order and a replay mints the same twins.
import type { Order } from '../../schemas/types.ts';
import type { ShadowRoute } from '../router/route.ts';

export interface ShadowTwin {
  readonly order: Order;
  /** The shadow venue's expected cost by the model (fees + half spread + slippage + penalty), bps. */
  readonly estimatedBps: number;
  readonly feeBps: number;
  readonly liveOrderId: string;
  readonly liveVenue: string;
  readonly liveQuantity: number;
  /** The live venue's expected cost by the same model, bps. */
  readonly liveEstimatedBps: number | null;
}

export const shadowOrderIdFor = (liveOrderId: string, venue: string): string => `${liveOrderId}~shadow~${venue}`;

/**
 * The twin keeps the live order's arrival mid: both sides are measured against the same price, the
 * one the live decision saw. Its clientOrderId is prefixed so it can never collide with the live one.
 */
export function shadowTwins(live: Order, routes: readonly ShadowRoute[], liveEstimatedBps: number | null): ShadowTwin[] {
  return routes.map((r, i) => {
    const candidate = r.route.candidates[0];
    return {
      order: {
        ...live,
        orderId: shadowOrderIdFor(live.orderId, r.venue),
        clientOrderId: `s${i}${live.clientOrderId}`.slice(0, 32),
        venue: r.venue,
        quantity: r.route.quantity,
        limitPrice: live.limitPrice === null ? null : r.route.limitPrice,
      },
      estimatedBps: r.costBps,
      feeBps: candidate.feeBps,
      liveOrderId: live.orderId,
      liveVenue: live.venue,
      liveQuantity: live.quantity,
      liveEstimatedBps,
    };
  });
}
