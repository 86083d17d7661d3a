// The risk gate's state: its shape only. The fold that changes it is in state.ts (dispatch),
// evolveOrders.ts, evolveFills.ts and gateFold.ts, which all read these types from here.
import type { Quote, Side } from '../../schemas/types.ts';
import type { AccountBook, Mark } from './books.ts';

export interface FillQuality {
  /** EWMA of fill slippage in bps against the arrival mid; positive = paid more than the mid. */
  ewmaBps: number;
  samples: number;
}

export interface OpenOrder {
  account: string;
  /** Whose order: a strategy's `cancel` alert cancels its own working orders only. */
  strategy: string;
  symbol: string;
  venue: string;
  side: Side;
  leaves: number;
  arrivalMid: number | null;
  /**
   * A bracket exit (placed by streams/brackets, not by a decision): working, so a `cancel` alert or an
   * `exit` cancels it, but never counted in the position + open orders that targets aim at: it only
   * ever closes what its entry's fill opened, and its OCO sibling would count the same quantity twice.
   */
  exit?: boolean;
}

/**
 * What arrived about an order before its decision did: the topics are read concurrently, so another
 * instance's fill or order record can overtake its decision. Applied when the decision arrives.
 */
export interface EarlyNews {
  filled: number;
  closed: boolean;
  arrivalMid: number | null;
}

export interface GateState {
  /** UTC day (YYYY-MM-DD) that today's P&L, de-duplication sets and early news belong to. */
  day: string | null;
  accounts: Map<string, AccountBook>;
  /** Canonical symbol → latest mid from any venue. */
  marks: Map<string, Mark>;
  /** venue → canonical symbol → latest quote. */
  quotes: Map<string, Map<string, Quote>>;
  /** venue → canonical symbol → learned slippage. */
  fillQuality: Map<string, Map<string, FillQuality>>;
  /** Approved orders with quantity still working, by orderId. */
  orders: Map<string, OpenOrder>;
  /** Signal ids decided today and the day before. Older repeats are caught by STALE_SIGNAL. */
  decided: Set<string>;
  previouslyDecided: Set<string>;
  /** By orderId, today and the day before. */
  early: Map<string, EarlyNews>;
  previousEarly: Map<string, EarlyNews>;
}
