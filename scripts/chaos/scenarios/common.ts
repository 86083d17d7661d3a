// What the scenarios share: progress reports and waiting for the pipeline to settle before judging.
import type { AlertOutcome } from '../client.ts';
import type { Fleet } from '../fleet.ts';
import { sleep } from '../harness.ts';
import { verify, type Verdict } from '../verify.ts';

export interface Progress { phase: string; done: number; total: number; detail?: string }

/** Nothing missing any more and the Parquet files read: what a clean run settles to. */
export const drained = (v: Verdict): boolean => v.lost.total === 0 && v.parquet.checked;

/**
 * Re-checks until `done` (by default: nothing is missing any more, the pipeline having drained what
 * waited during the faults, and the sink's files are readable) or the time is up; the last verdict is
 * the answer either way. Duplicates never heal, so they do not extend the wait.
 */
export async function settle(fleet: Fleet, outcomes: AlertOutcome[], timeoutMs: number, onCheck?: (detail: string) => void, venues?: Record<string, string>, done: (v: Verdict) => boolean = drained): Promise<Verdict> {
  const accepted = outcomes.filter((x) => x.acceptedAt !== null).map((x) => x.signalId);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await verify({ run: fleet.run, kafka: fleet.kafka, codec: fleet.codec, venues: venues ?? { paper: fleet.venueUrl }, accepted, parquetDir: fleet.analyticsDir });
    onCheck?.(`decided ${v.decided}/${v.accepted} · venue ${v.ordersAtVenue}/${v.approved} · lost ${v.lost.total} · dup ${v.duplicates.total}${v.parquet.checked ? '' : ' · parquet not read yet'}`);
    if (done(v) || Date.now() > until) return v;
    await sleep(3000);
  }
}
