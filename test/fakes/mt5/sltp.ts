// Positions' stop-loss and take-profit levels, from MetaApi's documentation (trade action POSITION_MODIFY
// with positionId/stopLoss/takeProfit; MetatraderPosition.stopLoss/takeProfit; MetatraderOrder.reason
// ORDER_REASON_SL/TP; MetatraderDeal.reason DEAL_REASON_SL/TP) and MQL5's TRADE_ACTION_SLTP:
// - a request sets both levels; an absent or 0 level means none (MQL5: "to remove a level, set it to 0");
// - prices are absolute: MetaApi's relative stopLossUnits/takeProfitUnits are not modelled (10013);
// - a level must be on the tick grid and on the right side of the price a close would fill at: a BUY's
//   SL below and TP above the bid, a SELL's SL above and TP below the ask (no SYMBOL_TRADE_STOPS_LEVEL
//   distance); otherwise 10016 TRADE_RETCODE_INVALID_STOPS;
// - the levels it already has: 10025 TRADE_RETCODE_NO_CHANGES, which MetaApi counts as a success code;
// - a position that is not open (never was, or closed): 10036 TRADE_RETCODE_POSITION_CLOSED.
// A price move (setPrice) closes a position whose level it reaches, whole, at that bid/ask: the server's
// own order and deal with reason SL/TP. What magic and comment those carry MetaApi does not document;
// the fake takes the least convenient reading seen in MT5 histories: the position's magic, and the
// server's comment "[sl 180.00]" / "[tp 1.09000]" (the level, in the symbol's digits) instead of ours.
import type { TermOrder, TermPosition, Terminal } from './terminal.ts';

export interface Levels { stopLoss: number | null; takeProfit: number | null }

/** The level a request asks for: null = none; NaN = not a price. */
function levelOf(v: unknown): number | null {
  if (v === undefined || v === null || v === 0) return null;
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

export function createSltp(term: Terminal, clock: () => number) {
  const levelsOf = (p: TermPosition): Levels => ({ stopLoss: p.stopLoss ?? null, takeProfit: p.takeProfit ?? null });

  /** Right side of the close price, on the tick grid. */
  function valid(p: TermPosition, { stopLoss: sl, takeProfit: tp }: Levels): boolean {
    const s = term.symbols.get(p.symbol)!;
    const offGrid = (v: number | null) => v !== null && (v < 0 || Math.abs(v / s.tickSize - Math.round(v / s.tickSize)) > 1e-6);
    if (offGrid(sl) || offGrid(tp)) return false;
    if (p.type === 'POSITION_TYPE_BUY') return (sl === null || sl < s.bid) && (tp === null || tp > s.bid);
    return (sl === null || sl > s.ask) && (tp === null || tp < s.ask);
  }

  /** POSITION_MODIFY: the return code, and on success the position. */
  function modify(b: Record<string, unknown>): { code: number; position?: TermPosition } {
    const p = term.positions.get(String(b.positionId ?? ''));
    if (!p) return { code: 10036 };
    const want: Levels = { stopLoss: levelOf(b.stopLoss), takeProfit: levelOf(b.takeProfit) };
    const relative = [b.stopLossUnits, b.takeProfitUnits].some((u) => u !== undefined && u !== 'ABSOLUTE_PRICE');
    if (relative || Number.isNaN(want.stopLoss) || Number.isNaN(want.takeProfit)) return { code: 10013 };
    const had = levelsOf(p);
    if (had.stopLoss === want.stopLoss && had.takeProfit === want.takeProfit) return { code: 10025 };
    if (!valid(p, want)) return { code: 10016 };
    p.stopLoss = want.stopLoss ?? undefined;
    p.takeProfit = want.takeProfit ?? undefined;
    p.updateTime = clock();
    return { code: 10009, position: p };
  }

  /** After a price move: closes every position of `symbol` whose level the new bid/ask reached. */
  function trigger(symbol: string): TermOrder[] {
    const s = term.symbols.get(symbol)!;
    const closed: TermOrder[] = [];
    for (const p of [...term.positions.values()].filter((x) => x.symbol === symbol)) {
      const buy = p.type === 'POSITION_TYPE_BUY';
      const px = buy ? s.bid : s.ask;
      const hitSl = p.stopLoss !== undefined && (buy ? px <= p.stopLoss : px >= p.stopLoss);
      const hitTp = p.takeProfit !== undefined && (buy ? px >= p.takeProfit : px <= p.takeProfit);
      if (!hitSl && !hitTp) continue;
      const [reason, level] = hitSl ? ['SL', p.stopLoss!] as const : ['TP', p.takeProfit!] as const;
      closed.push(term.close(p, p.volume, `[${reason.toLowerCase()} ${level.toFixed(s.digits)}]`, p.magic, reason));
    }
    return closed;
  }

  return {
    modify, trigger,
    /** The position's levels, or null when it is not open. */
    levelsOf: (positionId: string): Levels | null => {
      const p = term.positions.get(positionId);
      return p ? levelsOf(p) : null;
    },
  };
}
