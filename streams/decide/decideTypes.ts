// What `decide` takes and returns, and the reasons a decision can give: read by decide.ts and by
// verdict.ts, which builds the decision record.
import type { Control, Order, RiskDecision, Signal } from '../../schemas/types.ts';
import type { RouteRefusal } from '../router/route.ts';
import type { ShadowTwin } from '../shadow/twin.ts';
import type { BracketProblem } from './brackets.ts';
import type { CancelTarget } from './cancelTargets.ts';
import type { GateReason } from './checks.ts';
import type { SizingRefusal } from './sizing.ts';

export type DecisionReason =
  | GateReason
  | RouteRefusal
  | SizingRefusal
  | 'AT_TARGET'
  | 'DUPLICATE_SIGNAL'
  | 'INVALID_SIGNAL'
  | 'ADD_WHEN_FLAT'
  /** A cancel alert: its strategy's working orders in the symbol, each asked to cancel on `cancel-requests`. */
  | 'CANCEL_REQUESTED'
  /** A cancel alert when the strategy has no working order in the symbol. */
  | 'NOTHING_TO_CANCEL'
  /** A bracket on an entry that reduces the position: its exits would open the other way. */
  | 'BRACKET_REDUCES'
  /** A bracket whose fixed take-profit / stop-loss price is on the wrong side of the entry's price. */
  | BracketProblem;

export interface DecideInput {
  readonly signal: Signal;
  /** Wall clock, epoch ms. */
  readonly now: number;
  readonly decisionId: string;
  /** Minted by the shell for every decision; used only when the verdict is APPROVED. */
  readonly orderId: string;
  readonly hlc: number;
}

export interface DecideResult {
  decision: RiskDecision;
  order: Order | null;
  /** Control records to publish, e.g. the account halt on a daily-loss breach. */
  controls: Control[];
  /** One twin of the approved order per shadow venue, for `orders-shadow`; empty otherwise. */
  shadows: ShadowTwin[];
  /** The working orders a `cancel` alert asks to cancel (CANCEL_REQUESTED), or an `exit`'s bracket exits; empty otherwise. */
  cancels: CancelTarget[];
}
