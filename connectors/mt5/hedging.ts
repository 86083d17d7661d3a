// What an order becomes on a hedging account. There (MQL5 "Netting and hedging position accounting",
// ACCOUNT_MARGIN_MODE_RETAIL_HEDGING) a market SELL never reduces a long: it opens a short beside it.
// The router's position is one net number per symbol, so an order against our open positions closes
// them by position id (MetaApi trade actions POSITION_CLOSE_ID / POSITION_PARTIAL), oldest first as a
// FIFO-bound account requires (TRADE_RETCODE_FIFO_CLOSE), and only the rest opens a new position. Pure.
import type { Side } from '../../schemas/types.ts';

export type TradeLeg =
  | { kind: 'close'; positionId: string; lots: number; whole: boolean }
  | { kind: 'open'; lots: number };

export interface OpenTicket { positionId: string; side: Side; lots: number; venueTime: number }

/** More legs than this and the order is refused rather than sent as a long chain of requests. */
export const MAX_LEGS = 20;

const decimals = (step: number): number => Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));

/** Legs for `lots` on `side`, given our open tickets of the same symbol. */
export function planLegs(side: Side, lots: number, tickets: readonly OpenTicket[], volumeStep: number): TradeLeg[] {
  const fix = (v: number) => Number(v.toFixed(decimals(volumeStep)));
  const opposite = tickets.filter((t) => t.side !== side).sort((a, b) => a.venueTime - b.venueTime || a.positionId.localeCompare(b.positionId));
  const legs: TradeLeg[] = [];
  let rest = fix(lots);
  for (const t of opposite) {
    if (rest <= 0) break;
    const take = fix(Math.min(t.lots, rest));
    legs.push({ kind: 'close', positionId: t.positionId, lots: take, whole: take >= t.lots - 1e-12 });
    rest = fix(rest - take);
  }
  if (rest > 0) legs.push({ kind: 'open', lots: rest });
  return legs;
}
