// Drawdown from peak equity, per account. Pure. Equity here is the book's: every symbol's cash flow
// plus its position at the mark (books.ts `equity`); the configured cash is a constant, so it moves the
// peak and the equity alike and the drawdown (peak − now) does not depend on it.
//
// The peak is kept per UTC day (one number an account a day), noted whenever the gate folds a quote
// of a symbol the account holds, a fill of the account, or the day roll. The intraday drawdown is
// measured from today's peak, the drawdown since a date from the highest daily peak since that date,
// so the date can change at run time without rebuilding anything. What the gate never saw it cannot
// remember: the quotes topic is compacted, so after a restart a peak reached only between the folded
// fills and the latest quotes is not known.
import { equity, type AccountBook, type Mark } from './books.ts';

/** Σ over the account's symbols of cash flow + position at the mark. */
export function bookEquity(account: AccountBook, marks: ReadonlyMap<string, Mark>): number {
  let total = 0;
  for (const [symbol, book] of account.symbols) total += equity(book, marks.get(symbol));
  return total;
}

/** Notes the account's equity now as a candidate for the day's peak. */
export function notePeak(account: AccountBook, day: string, marks: ReadonlyMap<string, Mark>): void {
  const now = bookEquity(account, marks);
  const peak = account.peaks.get(day);
  if (peak === undefined || now > peak) account.peaks.set(day, now);
}

export interface Drawdowns {
  /** Today's peak − equity now, ≥ 0. */
  readonly intraday: number;
  /** Highest daily peak since `since` (inclusive) − equity now, ≥ 0; null without a date. */
  readonly sinceDate: number | null;
}

export function drawdowns(account: AccountBook | undefined, today: string | null, since: string | null, marks: ReadonlyMap<string, Mark>): Drawdowns {
  if (account === undefined) return { intraday: 0, sinceDate: since === null ? null : 0 };
  const now = bookEquity(account, marks);
  const todayPeak = today === null ? now : Math.max(now, account.peaks.get(today) ?? now);
  let sincePeak = now;
  if (since !== null) for (const [day, peak] of account.peaks) if (day >= since && peak > sincePeak) sincePeak = peak;
  return { intraday: todayPeak - now, sinceDate: since === null ? null : sincePeak - now };
}
