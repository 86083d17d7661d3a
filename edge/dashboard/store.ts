// The dashboard's state and its change log. Every change is a delta with the next sequence number,
// applied here and handed to subscribers in the same synchronous step, so a snapshot taken at
// sequence S plus the deltas numbered after S is exactly the state any later moment: that is what
// lets a browser that reconnects start again from a snapshot without missing or doubling anything.
import type { Book, PnlPoint } from './book.ts';
import { boundCurve } from './book.ts';
import type { DecisionView, FillView, OrderView, StateView, VenueView } from './feed.ts';
import { keepLast } from './feed.ts';
import type { LagView } from './lag.ts';
import type { ReconView } from './recon.ts';
import type { OrderOutcome } from '../../schemas/orderOutcome.ts';

export interface Curve { dayStart: number; base: { realized: number; fees: number; unrealized: number }; points: PnlPoint[] }

export interface DashboardState {
  book: Book;
  curve: Curve;
  decisions: DecisionView[];
  orders: OrderView[];
  fills: FillView[];
  states: StateView[];
  /** Orders whose outcome at their venue is unknown (ORDER_OUTCOME on `control`), oldest first. */
  unknownOrders: OrderOutcome[];
  venues: VenueView[];
  lag: LagView[];
  /** Postgres against the DuckDB P&L; null when this process has no analytics. */
  recon: ReconView | null;
  /** What the controls can target. */
  targets: { accounts: string[]; strategies: string[]; venues: string[] };
  /** Whether the feed has read back the recent records it starts from. */
  caughtUp: boolean;
}

export type Delta =
  | { type: 'decision'; decision: DecisionView }
  | { type: 'order'; order: OrderView }
  | { type: 'fill'; fill: FillView }
  | { type: 'book'; book: Book }
  | { type: 'pnl'; point: PnlPoint }
  | { type: 'curve'; curve: Curve }
  | { type: 'states'; states: StateView[] }
  | { type: 'unknownOrders'; orders: OrderOutcome[] }
  | { type: 'venues'; venues: VenueView[] }
  | { type: 'lag'; lag: LagView[] }
  | { type: 'recon'; recon: ReconView }
  | { type: 'caughtUp' };

export const LIST_SIZE = 100;
export const CURVE_POINTS = 2000;

/** Applies one delta. Pure: the browser's app.js mirrors it for the lists it keeps. */
export function applyDelta(s: DashboardState, d: Delta): DashboardState {
  switch (d.type) {
    case 'decision': return { ...s, decisions: keepLast([...s.decisions, d.decision], LIST_SIZE) };
    case 'order': return { ...s, orders: keepLast([...s.orders.filter((o) => o.orderId !== d.order.orderId), d.order], LIST_SIZE) };
    case 'fill': return { ...s, fills: keepLast([...s.fills, d.fill], LIST_SIZE) };
    case 'book': return { ...s, book: d.book };
    case 'pnl': return { ...s, curve: { ...s.curve, points: boundCurve([...s.curve.points, d.point], CURVE_POINTS) } };
    case 'curve': return { ...s, curve: d.curve };
    case 'states': return { ...s, states: d.states };
    case 'unknownOrders': return { ...s, unknownOrders: d.orders };
    case 'venues': return { ...s, venues: d.venues };
    case 'lag': return { ...s, lag: d.lag };
    case 'recon': return { ...s, recon: d.recon };
    case 'caughtUp': return { ...s, caughtUp: true };
    default: {
      const never: never = d;
      throw new Error(`unhandled delta ${JSON.stringify(never)}`);
    }
  }
}

export interface Frame { seq: number; event: 'snapshot' | 'delta'; data: string }

export interface Store {
  get(): DashboardState;
  seq(): number;
  publish(d: Delta): void;
  /** The state and its sequence number, as one frame. */
  snapshot(): Frame;
  /** `listener` gets every delta published after this call. Returns the unsubscribe. */
  subscribe(listener: (f: Frame) => void): () => void;
  /** How many listeners there are now (browsers watching). */
  watchers(): number;
}

export function createStore(initial: DashboardState): Store {
  let state = initial;
  let seq = 0;
  const listeners = new Set<(f: Frame) => void>();
  return {
    get: () => state,
    seq: () => seq,
    publish(d) {
      state = applyDelta(state, d);
      seq += 1;
      // Serialised once for every browser listening.
      const frame: Frame = { seq, event: 'delta', data: JSON.stringify(d) };
      for (const l of listeners) l(frame);
    },
    snapshot: () => ({ seq, event: 'snapshot', data: JSON.stringify({ seq, at: Date.now(), ...state }) }),
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    watchers: () => listeners.size,
  };
}

/** One server-sent event. JSON has no raw newlines, so `data` is always a single line. */
export const sseFrame = (f: Frame): string => `id: ${f.seq}\nevent: ${f.event}\ndata: ${f.data}\n\n`;
