// The one interface every venue implements. The shared runtime (connectors/runtime.ts) wraps it with
// retries, look-up-before-resend, fill de-duplication and the Kafka side; a venue folder only speaks
// its venue's wire format.
import type { OrderType, Side, TimeInForce } from '../schemas/types.ts';

export interface VenueOrderRequest {
  /** Ours, derived from the order id; the venue's idempotency key. */
  clientOrderId: string;
  symbol: string; // canonical symbol; the venue folder maps it (symbols.ts)
  side: Side;
  quantity: number;
  orderType: OrderType;
  limitPrice: number | null;
  timeInForce: TimeInForce;
  /** STOP, STOP_LIMIT: the trigger price. Optional so callers that predate stops need not set it. */
  stopPrice?: number | null;
  /** TRAILING_STOP: trail by a price distance, or by a percent of the price (one of the two). */
  trailAmount?: number | null;
  trailPercent?: number | null;
  /** A bracket's exit: it may only close what its entry opened, never open a position of its own. */
  reduceOnly?: boolean;
}

export type VenueOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';

export interface VenueFill {
  /** The venue's trade id: fills are de-duplicated by it. */
  tradeId: string;
  quantity: number;
  price: number;
  fee: number;
  /** The venue's timestamp, epoch ms. */
  venueTime: number;
}

/** The venue's view of one of our orders. */
export interface VenueOrderState {
  clientOrderId: string;
  /** Theirs; distinct from clientOrderId everywhere. */
  venueOrderId: string;
  symbol: string;
  side: Side;
  quantity: number;
  status: VenueOrderStatus;
  filledQty: number;
  fills: VenueFill[];
  rejectReason: string | null;
  venueTime: number;
  /**
   * True when `fills` is the venue's whole statement of the order's fills (e.g. a look-up that also
   * read the trade history), so a fill we recorded and the venue no longer lists was busted. Leave
   * unset when the state carries only some fills (a push event with the latest trade).
   */
  fillsComplete?: boolean;
  /**
   * True when the venue holds this order as one leg of a native one-cancels-other pair that it resolves
   * itself (Alpaca's `oco` order class): the pipeline's own OCO cancel must leave it alone.
   */
  nativeOco?: boolean;
}

/** What a venue pushes: an order changed, or a fill was amended after the fact. */
export type VenueEvent =
  | { kind: 'order'; order: VenueOrderState }
  | { kind: 'correction'; clientOrderId: string; tradeId: string; quantity: number; price: number; fee: number; venueTime: number }
  | { kind: 'bust'; clientOrderId: string; tradeId: string; venueTime: number };

export interface VenueQuote { symbol: string; bid: number; ask: number; bidSize: number; askSize: number; venueTime: number }

export interface VenueHealth { up: boolean; latencyMs: number | null; detail: string | null }

/**
 * Errors a client throws: anything with `retriable: true` (e.g. a RouterError) is retried, a timeout or
 * 5xx on submit being resolved by look-up first; `retryAfterMs` (a venue's Retry-After) holds every
 * call to the venue back that long; `code` ends up in a REJECT's reason for the rest.
 */
export interface VenueClient {
  readonly venue: string;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Idempotent by clientOrderId: a repeat returns the existing order, never a second one. */
  submit(order: VenueOrderRequest): Promise<VenueOrderState>;
  /**
   * `symbol` (canonical) is passed when known: some venues (Binance) key orders by symbol + id.
   * `venueOrderId`, when `executions` holds one, finds an order the venue does not list under our id
   * (a leg of an Alpaca OCO carries a client order id of Alpaca's own).
   */
  cancel(clientOrderId: string, symbol?: string, venueOrderId?: string | null): Promise<VenueOrderState>;
  /** null when the venue has no order with that id. */
  lookup(clientOrderId: string, symbol?: string, venueOrderId?: string | null): Promise<VenueOrderState | null>;
  /** Open orders and recent fills, for reconciliation. */
  openOrders(): Promise<VenueOrderState[]>;
  /**
   * Push stream of order changes and amendments; returns an unsubscribe function. A state pushed here
   * may carry only the fills it reports (see fillsComplete): the runtime merges by trade id.
   */
  onEvent(listener: (event: VenueEvent) => void): () => void;
  /**
   * Epoch ms of the last frame (event or heartbeat) seen on the push stream, or null when none is
   * open. Lets the runtime tell a quiet market from a dead stream and poll in the latter case; a
   * client without it is judged by its events alone.
   */
  lastStreamActivity?(): number | null;
  /** Optional market data. */
  quotes?(symbols: string[]): Promise<VenueQuote[]>;
  health(): Promise<VenueHealth>;
}
