// What the paper venue offers, as seen by its HTTP server (server.ts) and the tests: the interface the
// matching core implements (venue.ts), its counters, and what it is built from.
import type { VenueEvent, VenueOrderRequest, VenueOrderState, VenueQuote } from '../venue.ts';
import type { Knobs, KnobsPatch, PaperConfig } from './config.ts';

export interface PaperVenueStats {
  ordersReceived: number;
  ordersCreated: number;
  duplicatesSeen: number;
  fills: number;
  rejected: number;
  canceled: number;
  expired: number;
  corrections: number;
  busts: number;
  openOrders: number;
}

export interface FillAmendment {
  price?: number;
  quantity?: number;
}

export interface PaperVenue {
  /** Idempotent: a known clientOrderId returns the existing order with created = false. */
  submit(request: VenueOrderRequest): { order: VenueOrderState; created: boolean };
  /** null for an unknown id; an order that is already final comes back unchanged. */
  cancel(clientOrderId: string): VenueOrderState | null;
  lookup(clientOrderId: string): VenueOrderState | null;
  openOrders(): VenueOrderState[];
  allOrders(): VenueOrderState[];
  quote(symbol: string): VenueQuote | null;
  symbols(): string[];
  /** One market-data step: expire DAY orders, move the market, retry held remainders. */
  tick(): void;
  knobs(): Knobs;
  setKnobs(patch: KnobsPatch): Knobs;
  /** null when no live fill has that tradeId. */
  correctFill(tradeId: string, amendment: FillAmendment): VenueEvent | null;
  bustFill(tradeId: string): VenueEvent | null;
  stats(): PaperVenueStats;
  onEvent(listener: (event: VenueEvent) => void): () => void;
}

export interface PaperVenueDeps {
  config: PaperConfig;
  clock: () => number;
  /** Uniform [0, 1): decides random rejects (knob rejectRate). */
  random: () => number;
}
