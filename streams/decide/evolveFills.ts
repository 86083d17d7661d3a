// How the risk gate's state follows executions and quotes: fills move positions and working quantities
// (or wait as early news for their decision), fills teach the per-venue slippage EWMA, cancels and
// rejects close orders, and quotes move the marks. Called by evolveGate (state.ts); MUTATES the state.
import type { ExecutionReport, Order, Quote } from '../../schemas/types.ts';
import { quoteTime } from '../router/costModel.ts';
import { foldExecution, symbolBook } from './books.ts';
import { notePeak } from './drawdown.ts';
import { EPSILON, accountBook, closeOrder, earlyNews, rollTo, signed, utcDay } from './gateFold.ts';
import type { GateState } from './gateTypes.ts';

export function onExecution(state: GateState, report: ExecutionReport, order: Order | undefined, alpha: number): void {
  const day = utcDay(report.recordedAt);
  rollTo(state, day);
  const earlier = day < state.day!;
  switch (report.type) {
    case 'ACK':
      return;
    case 'PARTIAL_FILL':
    case 'FILL': {
      const account = accountBook(state, report.account);
      const fresh = foldExecution(symbolBook(account, report.symbol), report, state.marks.get(report.symbol), earlier);
      const working = state.orders.get(report.orderId);
      if (fresh && !earlier) notePeak(account, state.day!, state.marks);
      if (fresh) {
        if (working !== undefined) {
          const filled = Math.min(report.lastQty, working.leaves);
          working.leaves -= filled;
          if (working.exit !== true) symbolBook(account, working.symbol).open -= signed(working.side, filled);
        } else {
          earlyNews(state, report.orderId).filled += report.lastQty;
        }
        learnSlippage(state, report, working?.arrivalMid ?? order?.arrivalMid ?? state.early.get(report.orderId)?.arrivalMid ?? null, alpha);
      }
      const done = report.type === 'FILL' || report.leavesQty <= 0;
      if (working !== undefined && (done || working.leaves <= EPSILON)) closeOrder(state, report.orderId, working);
      else if (working === undefined && done) earlyNews(state, report.orderId).closed = true;
      return;
    }
    case 'CANCEL':
    case 'REJECT': {
      const working = state.orders.get(report.orderId);
      if (working !== undefined) closeOrder(state, report.orderId, working);
      else earlyNews(state, report.orderId).closed = true;
      return;
    }
    case 'CORRECTION':
    case 'BUST':
      // The fold finds the amended fill however old it is, or parks the amendment until it arrives.
      foldExecution(symbolBook(accountBook(state, report.account), report.symbol), report, state.marks.get(report.symbol), earlier);
      return;
    default: {
      const unknown: never = report.type;
      throw new Error(`unhandled execution type ${String(unknown)}`);
    }
  }
}

function learnSlippage(state: GateState, report: ExecutionReport, arrivalMid: number | null, alpha: number): void {
  if (arrivalMid === null || !(arrivalMid > 0) || !(report.lastQty > 0)) return;
  const bps = (signed(report.side, report.lastPrice - arrivalMid) / arrivalMid) * 1e4;
  let perVenue = state.fillQuality.get(report.venue);
  if (perVenue === undefined) {
    perVenue = new Map();
    state.fillQuality.set(report.venue, perVenue);
  }
  const quality = perVenue.get(report.symbol);
  if (quality === undefined) {
    perVenue.set(report.symbol, { ewmaBps: bps, samples: 1 });
  } else {
    quality.ewmaBps += alpha * (bps - quality.ewmaBps);
    quality.samples += 1;
  }
}

export function onQuote(state: GateState, quote: Quote): void {
  let perVenue = state.quotes.get(quote.venue);
  if (perVenue === undefined) {
    perVenue = new Map();
    state.quotes.set(quote.venue, perVenue);
  }
  perVenue.set(quote.symbol, quote);
  if (!(quote.bid > 0) || !(quote.ask >= quote.bid)) return;
  const at = quoteTime(quote);
  const mid = (quote.bid + quote.ask) / 2;
  const mark = state.marks.get(quote.symbol);
  if (mark === undefined) state.marks.set(quote.symbol, { mid, at });
  else if (at >= mark.at) {
    mark.mid = mid;
    mark.at = at;
  } else return;
  if (state.day === null) return;
  for (const account of state.accounts.values()) if (account.symbols.has(quote.symbol)) notePeak(account, state.day, state.marks);
}
