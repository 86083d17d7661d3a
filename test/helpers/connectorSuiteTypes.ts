// The contract between the connector test suite (connectorSuite.ts) and each venue's local fake server
// (test/fakes/<venue>/): what a fake lets a test do to it, and what a venue test hands the suite. Types
// only, so a fake server can implement them without loading the suite, Kafka or the connector.
import type { Logger } from 'pino';
import type { VenueClient } from '../../connectors/venue.ts';

/** What each venue's local fake server lets a test do to it. Faults on "the next submit" hit only order placement. */
export interface FakeVenueControls {
  /** An instrument the venue lists (canonical symbol) and a quantity of it that the venue accepts. */
  readonly symbol: string;
  readonly quantity: number;
  /** A limit price at which a BUY of `symbol` rests without trading. */
  restingBuyPrice(): Promise<number>;
  /** The next submit creates the order, but its answer never arrives: the client times out. */
  timeoutNextSubmit(): Promise<void>;
  /** The next submit answers this 5xx status; `created` says whether the order was created before the failure. */
  failNextSubmit(status: number, created: boolean): Promise<void>;
  /** The next submit answers 429 with Retry-After (seconds); nothing is created. */
  rateLimitNextSubmit(retryAfterSeconds: number): Promise<void>;
  /** Requests that arrived while a Retry-After was still running: a client that respects it keeps this at 0. */
  rateLimitViolations(): Promise<number>;
  /** The next submit is refused with the venue's clock-skew error; null for a venue that has none. */
  readonly clockSkewNextSubmit: (() => Promise<void>) | null;
  /** Every request fails (5xx / refused) and the push stream drops while on. */
  setOutage(on: boolean): Promise<void>;
  /** The push stream stays open but carries nothing, not even heartbeats. */
  setStreamSilent(on: boolean): Promise<void>;
  /** Orders the venue created with this client order id: anything but 1 after a submit is a bug. */
  ordersCreated(clientOrderId: string): Promise<number>;
  /** Submit requests the venue received for this client order id. */
  submitsReceived(clientOrderId: string): Promise<number>;
  /** Fills part of a resting order, pushed on the stream unless silent; `ref` names the fill to the fake. */
  fill(clientOrderId: string, quantity: number): Promise<{ ref: string; price: number }>;
  /** Delivers the order's last pushed event again (a duplicate). */
  repeatLastEvent(clientOrderId: string): Promise<void>;
  /** The venue restates a fill later at another price: pushed if the venue pushes amendments, else visible to look-ups. */
  correctFill(clientOrderId: string, ref: string, price: number): Promise<void>;
  bustFill(clientOrderId: string, ref: string): Promise<void>;
}

export interface VenueUnderTest {
  client: VenueClient;
  fake: FakeVenueControls;
  stop(): Promise<void>;
  /** Credentials the client holds: the suite checks that no log line carries them. */
  secrets?: string[];
}

export type MakeVenue = (deps: { log: Logger }) => Promise<VenueUnderTest>;
