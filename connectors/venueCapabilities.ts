// Optional capabilities a VenueClient may have beyond connectors/venue.ts: additive, so a client
// without them and a runtime that ignores them keep working as before. The Binance client has all
// four; the runtime wires them as described at each one.
import type { VenueClient, VenueFill, VenueOrderRequest, VenueOrderState } from './venue.ts';

/**
 * The venue can apply a request for a while after the client gave up on it (Binance: the API waits
 * 10 s for its matching engine, -1006/-1007 and 5xx mean "execution status unknown"). The client's own
 * `lookup` then keeps looking until the window of its own sends has passed before it answers null, and
 * until `startedAt + window` for ids it never sent (a previous process's sends). What it cannot know is
 * when another live instance last sent an id it takes over: the runtime says so with mayHaveBeenSent.
 *
 * Runtime wiring (connectors/orderSubmitter.ts): when an order is looked up first because it predates
 * this instance's assignment (order.createdAt <= assignedAt) and this instance never attempted it, the
 * submitter calls `client.mayHaveBeenSent(cid, assignedAt)` before the look-up.
 */
export interface UnknownOutcomeWindow {
  readonly unknownOutcomeWindowMs: number;
  mayHaveBeenSent(clientOrderId: string, at: number): void;
}

/**
 * The venue's look-up cannot say "absent" for sure: it may not list an order it executed for a while (MT5:
 * the terminal's sync lags) and it has no idempotency of its own. Runtime wiring (runtime.ts): an order is
 * marked SENDING on `control` before the venue call, and an order taken over whose look-up finds nothing is
 * parked as UNKNOWN when it carries that marker (connectors/unknownOutcomes.ts), never sent again.
 */
export interface InconclusiveAbsence { readonly absenceConclusive: false }

export const hasInconclusiveAbsence = (c: VenueClient): c is VenueClient & InconclusiveAbsence =>
  (c as Partial<InconclusiveAbsence>).absenceConclusive === false;

export const hasUnknownOutcomeWindow = (c: VenueClient): c is VenueClient & UnknownOutcomeWindow =>
  typeof (c as Partial<UnknownOutcomeWindow>).mayHaveBeenSent === 'function';

/**
 * A fill may say what the venue charged in the venue's own terms. VenueFill.fee stays the fee in the
 * quote currency; this adds the commission as charged and the base quantity the balance really moved
 * by (Binance takes a BUY's fee from the base asset received unless it is paid in BNB). The fill report
 * records them as ExecutionReport feeAsset / feeInAsset / netQty (connectors/reports.ts), and the position
 * fold counts netQty for the wallet's holding.
 */
export interface FillFeeDetail {
  commission: number;
  commissionAsset: string | null;
  netQuantity: number;
}
export type DetailedFill = VenueFill & { feeDetail?: FillFeeDetail };

/** The venue's own rules for an instrument, read from the venue (the cost model's listing shape). */
export interface VenueInstrument {
  symbol: string;
  venueSymbol: string;
  trading: boolean;
  lotSize: number;
  tickSize: number;
  minNotional: number;
  minQty: number;
  maxQty: number;
}

/** Runtime wiring: on start and daily, publish `instruments(symbols)` (compacted, per venue + symbol). */
export interface InstrumentSource {
  instruments(symbols?: string[]): Promise<VenueInstrument[]>;
}

export const hasInstruments = (c: VenueClient): c is VenueClient & InstrumentSource =>
  typeof (c as Partial<InstrumentSource>).instruments === 'function';

/** The two exits of one OCO group, each with its own clientOrderId (the venue's idempotency key per leg). */
export interface OcoLegs {
  takeProfit: VenueOrderRequest;
  stopLoss: VenueOrderRequest;
  /** The entry whose fill the pair closes, when known: where the exits live on the position (MT5's SL/TP). */
  entryClientOrderId?: string | null;
}

/**
 * The venue holds a take-profit and a stop-loss as one native one-cancels-the-other pair (Binance order
 * lists, Alpaca's `oco` order class, IBKR's OCA groups): when one leg fills or triggers, the venue itself
 * cancels the other (Alpaca and IBKR: shrink it to what a partly filled leg leaves) and reports it. A leg whose state
 * says `nativeOco` is left alone by the pipeline's own OCO cancel (cancelHandler.ts).
 *
 * Runtime wiring (orderSubmitter.ts, ocoPairs.ts): when both exits of an ocoGroup are in the batch being
 * handled and `ocoSupported` says yes, the pair goes out as ONE `submitOco`; else each leg as today.
 * `submitOco` throws like `submit`: a non-retriable refusal means the venue holds neither leg (the runtime
 * then sends the legs one by one, as without the capability); any other failure leaves the outcome
 * unknown, resolved by looking BOTH legs up (`lookupOco`, else each by its clientOrderId) before
 * anything is sent again.
 */
export interface NativeOco {
  ocoSupported(legs: OcoLegs): boolean;
  submitOco(legs: OcoLegs): Promise<{ takeProfit: VenueOrderState; stopLoss: VenueOrderState }>;
  /**
   * Both legs looked up as a pair, for a venue that cannot find one leg by its own id (Alpaca names the
   * stop leg of an OCO itself): each state, or null when the venue has no such leg. Without it the
   * runtime looks each leg up by its clientOrderId.
   */
  lookupOco?(legs: OcoLegs): Promise<{ takeProfit: VenueOrderState | null; stopLoss: VenueOrderState | null }>;
}

export const hasNativeOco = (c: VenueClient): c is VenueClient & NativeOco =>
  typeof (c as Partial<NativeOco>).submitOco === 'function' && typeof (c as Partial<NativeOco>).ocoSupported === 'function';
