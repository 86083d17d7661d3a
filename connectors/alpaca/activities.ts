// The account's FILL activities as one journal the whole client shares. Alpaca's account activities are
// per account, not per order ("Account Activities": `after`/`until`, `direction`, `page_size` ≤ 100,
// `page_token` = the last id of the previous page), and every request counts against the account's 200
// a minute. So the journal is read once per reconciliation round, from the oldest order still in
// question, and a look-up takes its order's fills from it; it reads again (only what is new) when an
// order's fills do not add up yet, sharing that read with every look-up waiting on it.
import type { Logger } from 'pino';
import type { AlpacaFillActivity, AlpacaOrder } from './parse.ts';

export interface ActivityJournalOptions {
  /** Reads one page of FILL activities (ascending) after `after`, continuing from `pageToken`. */
  readPage(after: string, pageToken: string | null): Promise<AlpacaFillActivity[]>;
  clock: () => number;
  log?: Logger;
  /** An order is in question until it is done and this much older (the runtime's amendment window). */
  lookbackMs: number;
  /** A round re-reads the whole window (corrections, busts) at most this often; in between, only what is new. */
  rescanMs: number;
  /** Incremental reads start this far before the newest activity seen: activities can be posted late. */
  overlapMs: number;
}

export const ACTIVITY_PAGE = 100;
const MAX_PAGES = 200;
const SLACK_MS = 1_000;

interface Tracked { since: number; doneAt: number | null }

export function createActivityJournal(o: ActivityJournalOptions) {
  const tracked = new Map<string, Tracked>(); // order id → when it was submitted, when it was seen done
  const byId = new Map<string, AlpacaFillActivity>();
  let coveredFrom: number | null = null; // the journal holds every activity after this
  let lastScanAt = -Infinity;
  let lastReadStartedAt = -Infinity;
  let inflight: { after: number; done: Promise<void> } | null = null;
  let reads = 0;

  function track(order: AlpacaOrder): void {
    const done = ['filled', 'canceled', 'expired', 'rejected', 'replaced'].includes(order.status);
    const t = tracked.get(order.id);
    tracked.set(order.id, { since: Math.min(t?.since ?? Infinity, order.submitted_at ?? order.created_at), doneAt: done ? (t?.doneAt ?? o.clock()) : null });
  }

  /** Reads [after, now] whole and makes it the journal's statement of that range. */
  function read(after: number): Promise<void> {
    if (inflight && inflight.after <= after) return inflight.done;
    const startedAt = o.clock();
    const done = (async () => {
      const rows: AlpacaFillActivity[] = [];
      const iso = new Date(after).toISOString();
      let token: string | null = null;
      for (let page = 0; page < MAX_PAGES; page++) {
        const batch = await o.readPage(iso, token);
        rows.push(...batch);
        if (batch.length < ACTIVITY_PAGE) break;
        token = batch[batch.length - 1].id;
        if (page === MAX_PAGES - 1) o.log?.warn({ venue: 'alpaca', pages: MAX_PAGES }, 'more FILL activities than the page cap; the rest next round');
      }
      reads += 1;
      for (const [id, a] of byId) if (a.transaction_time > after) byId.delete(id);
      for (const a of rows) byId.set(a.id, a);
      coveredFrom = coveredFrom === null ? after : Math.min(coveredFrom, after);
      lastReadStartedAt = Math.max(lastReadStartedAt, startedAt);
      prune();
    })();
    const mine = { after, done };
    inflight = mine;
    return done.finally(() => { if (inflight === mine) inflight = null; });
  }

  function prune(): void {
    const horizon = o.clock() - o.lookbackMs;
    for (const [id, t] of tracked) if (t.doneAt !== null && t.doneAt < horizon) tracked.delete(id);
    const oldest = Math.min(...[...tracked.values()].map((t) => t.since - SLACK_MS));
    for (const [id, a] of byId) if (a.transaction_time < oldest && a.transaction_time < horizon) byId.delete(id);
  }

  const newest = () => Math.max(-Infinity, ...[...byId.values()].map((a) => a.transaction_time));
  const of = (orderId: string) => [...byId.values()].filter((a) => a.order_id === orderId);
  const sum = (list: AlpacaFillActivity[]) => list.reduce((s, a) => s + a.qty, 0);
  const covers = (since: number) => coveredFrom !== null && coveredFrom <= since - SLACK_MS;

  return {
    track,
    /** Reads made so far (for tests and logs). */
    reads: () => reads,
    /**
     * Once per reconciliation round: the window from the oldest order still in question, whole every
     * rescanMs (a restated or busted fill shows), otherwise from just before the newest activity seen.
     */
    async refresh(): Promise<void> {
      prune();
      const open = [...tracked.values()];
      if (open.length === 0) return;
      const now = o.clock();
      const from = Math.max(now - o.lookbackMs, Math.min(...open.map((t) => t.since)) - SLACK_MS);
      if (!covers(from + SLACK_MS) || now - lastScanAt >= o.rescanMs) {
        lastScanAt = now;
        return read(from);
      }
      return read(Math.max(from, newest() - o.overlapMs));
    },
    /** The order's activities; `fetchedAt` is when the order itself was read (its filled_qty's age). */
    async fillsOf(order: AlpacaOrder, fetchedAt: number): Promise<AlpacaFillActivity[]> {
      track(order);
      if (order.filled_qty <= 0) return [];
      const since = order.submitted_at ?? order.created_at;
      const addsUp = () => covers(since) && Math.abs(sum(of(order.id)) - order.filled_qty) < 1e-9;
      if (addsUp()) return of(order.id);
      if (inflight) await inflight.done.catch(() => undefined);
      // A read that began after the order was read and still does not add up: the activities lag.
      if (addsUp() || (covers(since) && lastReadStartedAt > fetchedAt)) return of(order.id);
      await read(covers(since) ? Math.max(since - SLACK_MS, newest() - o.overlapMs) : since - SLACK_MS);
      return of(order.id);
    },
  };
}

export type ActivityJournal = ReturnType<typeof createActivityJournal>;
