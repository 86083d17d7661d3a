// Each reliability check seen failing once, on purpose: a short run of the whole pipeline (edge,
// decide, connector, projection, sink, paper venue behind the fault proxy) with test-only faults
// switched on in its processes (ORDER_ROUTER_FAULT, streams/runtime/faults.ts), judged by the verifier
// every scenario uses. With no fault the same run must come out clean.
//
// The run: a first batch of alerts; then (with `inDoubt`), while the venue withholds its answers and the
// proxy keeps the push stream silent, a second batch whose orders reach the venue while the connector
// cannot know: the connector is SIGKILLed at that moment and started again, so those orders are in doubt
// when it comes back (look up first, or resend blindly); then a last batch. Faults that live in different
// processes and break independent checks may share a run; the caller checks that exactly theirs are red.
import type { Fault } from '../../../streams/runtime/faults.ts';
import { createHttpClient, sendAlerts, summarise, type AlertOutcome, type SendSummary } from '../client.ts';
import { startFaultProxy, type FaultProxy, type ProxySubmits } from '../faultProxy.ts';
import { crashes, startFleet, tails, waitUntil } from '../fleet.ts';
import { runEnv, sleep } from '../harness.ts';
import { drained, settle, type Progress } from './common.ts';
import { verify, type Verdict } from '../verify.ts';

export interface FaultRunOptions {
  faults: Fault[];
  /** Kill the connector while orders are at the venue unanswered (the restart path of blind-resend). */
  inDoubt: boolean;
  /** Alerts per batch: before, in doubt, after. */
  batches?: [number, number, number];
  onProgress?: (p: Progress) => void;
}

export interface FaultRunResult {
  faults: Fault[];
  send: SendSummary;
  /** Orders at the venue whose answers were withheld when the connector was killed. */
  inDoubt: number;
  verdict: Verdict;
  proxySubmits: ProxySubmits;
  crashes: string[];
  tails?: Record<string, string>;
}

/** What a fault loses for good: the run never drains past it. */
const LASTING: Partial<Record<Fault, 'fills' | 'positions'>> = { 'drop-fill': 'fills', 'position-off-by-lot': 'positions' };

/** When a faulted run has settled as far as it will: nothing missing but what the faults lose for good, and the Parquet files read. */
const settledWith = (faults: Fault[]) => (v: Verdict): boolean => {
  const kept = faults.flatMap((f) => LASTING[f] ?? []);
  if (kept.length === 0) return drained(v);
  return v.parquet.checked && kept.every((k) => v.lost[k] > 0) && v.lost.total === kept.reduce((n, k) => n + v.lost[k], 0);
};

export async function runWithFault(o: FaultRunOptions): Promise<FaultRunResult> {
  const [first, doubt, last] = o.batches ?? [8, 4, 8];
  const run = runEnv(`fault-${o.faults.join('-') || 'none'}`);
  let proxy: FaultProxy | null = null;
  // A deadline longer than the whole in-doubt window: the kill, not a timeout, ends the first attempt.
  const env: Record<string, string> = { VENUE_TIMEOUT_MS: '10000', ...(o.faults.length ? { ORDER_ROUTER_FAULT: o.faults.join(',') } : {}) };
  const fleet = await startFleet(run, {
    kinds: ['edge', 'decide', 'connector', 'projection', 'sink'], env,
    connectorUrl: async (venueUrl) => { proxy = await startFaultProxy(venueUrl); return proxy.url; },
  });
  const client = createHttpClient(16);
  const progress = (phase: string, detail?: string) => o.onProgress?.({ phase, done: 0, total: 0, detail });
  const created = async () => ((await (await fetch(`${fleet.venueUrl}/v1/stats`)).json()) as { ordersCreated: number }).ordersCreated;
  const knobs = async (patch: Record<string, unknown>) => {
    const r = await fetch(`${fleet.venueUrl}/v1/admin/knobs`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
    if (!r.ok) throw new Error(`knobs ${JSON.stringify(patch)}: HTTP ${r.status}`);
  };
  const outcomes: AlertOutcome[] = [];
  const batch = async (n: number, count: number, ratePerSec = 20) => {
    progress(`batch ${n}`);
    outcomes.push(...await sendAlerts({
      edges: () => fleet.edgeUrls, strategies: run.strategies, symbols: ['AAPL', 'MSFT'], runTag: `${run.tag}b${n}`,
      count, ratePerSec, retryForMs: 30_000, client,
    }));
  };

  /** Orders at the venue, unanswered and unheard of on the stream, when the connector dies; it is started again at once. */
  async function ordersInDoubt(): Promise<number> {
    await waitUntil('first batch at the venue', async () => (await created()) >= first, 120_000, 100);
    proxy!.set({ kind: 'silent' });
    await knobs({ dropResponses: true });
    // At once, so that they are likely to share one fetch (the connector commits one round at a time).
    await batch(2, doubt, 1000);
    await waitUntil('an order in doubt at the venue', async () => (await created()) > first, 60_000, 50);
    // The rest of them, for a moment; the kill must come long before the 10 s deadline.
    await waitUntil('the other orders in doubt', async () => (await created()) >= first + doubt, 1500, 50).catch(() => {});
    const connector = fleet.procs.get('connector')![0];
    await connector.stop('SIGKILL');
    const n = (await created()) - first;
    await knobs({ dropResponses: false });
    proxy!.set({ kind: 'pass' });
    connector.start();
    return n;
  }

  try {
    await batch(1, first);
    const inDoubt = o.inDoubt ? await ordersInDoubt() : 0;
    await batch(3, last);
    let verdict = await settle(fleet, outcomes, 120_000, (detail) => progress('settling', detail), undefined, settledWith(o.faults));
    // A lost fill must stay lost, not be one still on its way: look once more. (The positions check
    // already retries for 10 s before it calls a row wrong.)
    if (o.faults.includes('drop-fill')) {
      await sleep(3000);
      const accepted = outcomes.filter((x) => x.acceptedAt !== null).map((x) => x.signalId);
      verdict = await verify({ run, kafka: fleet.kafka, codec: fleet.codec, venues: { paper: fleet.venueUrl }, accepted, parquetDir: fleet.analyticsDir });
    }
    return {
      faults: o.faults, send: summarise(outcomes), inDoubt, verdict, proxySubmits: proxy!.submits(), crashes: crashes(fleet),
      tails: o.faults.length === 0 && verdict.failures.length > 0 ? tails(fleet, 4000) : undefined,
    };
  } catch (e) {
    // A run that did not get as far as a verdict: what each process said last.
    throw Object.assign(e as Error, { message: `${(e as Error).message}\n${JSON.stringify(tails(fleet, 2500))}` });
  } finally {
    client.close();
    await fleet.stop();
    await (proxy as FaultProxy | null)?.stop();
  }
}
