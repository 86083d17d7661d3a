// Which orders of one `orders` batch go to the venue as ONE native OCO request, and what to do after
// both legs of a pair were looked up. Pure: no I/O, no clock.
//
// A pair is the two exits of one ocoGroup (streams/brackets/: a TAKE_PROFIT LIMIT and a STOP_LOSS stop,
// same account, venue, symbol, side and quantity), both in the batch being handled, and only when the
// venue's client can hold that pair natively (`canPair`). A pair the venue cannot hold so goes as two
// orders, the stop-loss first (`legs`): a venue that holds the shares an open order closes (Alpaca)
// refuses the second closing order, and the one it refuses must not be the protective stop. Anything else
// (a leg alone in its batch, a group that is not exactly one take-profit and one stop-loss) is handled
// one order at a time: the brackets processor's OCO cancel stays the backstop for those.
import type { Order } from '../schemas/types.ts';

export interface OcoPair { ocoGroup: string; takeProfit: Order; stopLoss: Order }
export type BatchUnit = { kind: 'single'; order: Order } | { kind: 'pair'; pair: OcoPair } | { kind: 'legs'; pair: OcoPair };

const matches = (a: Order, b: Order) =>
  a.account === b.account && a.venue === b.venue && a.symbol === b.symbol && a.side === b.side && a.quantity === b.quantity;

/** The batch's orders as units, in the order of their first order; native pairs only where `canPair` says so. */
export function pairExits(orders: readonly Order[], canPair: (p: OcoPair) => boolean): BatchUnit[] {
  const groups = new Map<string, Order[]>();
  for (const o of orders) {
    if (o.ocoGroup === null || o.parentOrderId === null || o.exitRole === null) continue;
    groups.set(o.ocoGroup, [...(groups.get(o.ocoGroup) ?? []), o]);
  }
  const paired = new Map<string, OcoPair>(); // by clientOrderId of either leg
  const native = new Set<OcoPair>();
  for (const [ocoGroup, legs] of groups) {
    if (legs.length !== 2) continue;
    const takeProfit = legs.find((l) => l.exitRole === 'TAKE_PROFIT');
    const stopLoss = legs.find((l) => l.exitRole === 'STOP_LOSS');
    if (!takeProfit || !stopLoss || !matches(takeProfit, stopLoss) || takeProfit.clientOrderId === stopLoss.clientOrderId) continue;
    const pair = { ocoGroup, takeProfit, stopLoss };
    if (canPair(pair)) native.add(pair);
    paired.set(takeProfit.clientOrderId, pair).set(stopLoss.clientOrderId, pair);
  }
  const units: BatchUnit[] = [];
  const placed = new Set<OcoPair>();
  for (const o of orders) {
    const pair = paired.get(o.clientOrderId);
    if (pair === undefined) units.push({ kind: 'single', order: o });
    else if (!placed.has(pair)) { placed.add(pair); units.push({ kind: native.has(pair) ? 'pair' : 'legs', pair }); }
  }
  return units;
}

/**
 * After both legs were looked up by their own clientOrderIds (a pair that may be out already):
 * - both found: the venue holds the pair; record what it says, send nothing;
 * - neither found: send the pair as one OCO request;
 * - one found (`split`): never a second OCO, which would place the found leg again. The found leg is
 *   recorded as it is and the missing one goes the single-order way (looked up again, then sent alone),
 *   so the pair becomes pipeline-managed: the brackets processor's OCO cancel covers it. A venue that
 *   places both legs of an OCO atomically (Binance) only shows this when one leg was sent alone before
 *   (a pair split across batches in an earlier run).
 */
export type AfterLookup = { kind: 'found' } | { kind: 'send' } | { kind: 'split'; missing: 'TAKE_PROFIT' | 'STOP_LOSS' };

export function afterLookup(takeProfitFound: boolean, stopLossFound: boolean): AfterLookup {
  if (takeProfitFound && stopLossFound) return { kind: 'found' };
  if (!takeProfitFound && !stopLossFound) return { kind: 'send' };
  return { kind: 'split', missing: takeProfitFound ? 'STOP_LOSS' : 'TAKE_PROFIT' };
}
