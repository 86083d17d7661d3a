// Duplicates: the same alert sent N times at once (TradingView firing twice, a retrying proxy, a
// replay) must be one record on `signals`, one decision, one order at the venue.
import { createHttpClient, alertBody } from '../client.ts';
import { crashes, startFleet } from '../fleet.ts';
import { runEnv, topicCount } from '../harness.ts';
import { settle, type Progress } from './common.ts';
import type { Verdict } from '../verify.ts';

export interface DuplicatesOptions { copies: number; sockets?: number; onProgress?: (p: Progress) => void }

export interface DuplicatesResult {
  copies: number;
  statuses: Record<string, number>;
  /** Answers that said "new" (202): exactly one. */
  accepted: number;
  signalsOnTopic: number;
  verdict: Verdict;
  crashes: string[];
}

export async function runDuplicates(o: DuplicatesOptions): Promise<DuplicatesResult> {
  const run = runEnv('dup');
  // The sink too: the Parquet figure is part of every verdict, and one that read nothing fails.
  const fleet = await startFleet(run, { kinds: ['edge', 'decide', 'connector', 'projection', 'sink'] });
  const client = createHttpClient(o.sockets ?? 256);
  try {
    const { signalId, text } = alertBody({ strategies: run.strategies, symbols: ['AAPL'], runTag: run.tag }, 0);
    const statuses: Record<string, number> = {};
    let done = 0;
    await Promise.all(Array.from({ length: o.copies }, async (_, i) => {
      let status = 0;
      try {
        status = (await client.request(`${fleet.edgeUrls[0]}/webhooks/tradingview`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text, timeoutMs: 60_000 })).status;
      } catch { status = 0; }
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (++done % 500 === 0 || i === o.copies - 1) o.onProgress?.({ phase: 'duplicates', done, total: o.copies, detail: JSON.stringify(statuses) });
    }));
    const accepted = statuses[202] ?? 0;
    const outcomes = [{ i: 0, signalId, sentAt: 0, acceptedAt: accepted > 0 ? 1 : null, status: 202, attempts: 1, unexpected: [] }];
    const verdict = await settle(fleet, outcomes, 60_000);
    return { copies: o.copies, statuses, accepted, signalsOnTopic: await topicCount(fleet.kafka, run.topics.signals), verdict, crashes: crashes(fleet) };
  } finally {
    client.close();
    await fleet.stop();
  }
}
