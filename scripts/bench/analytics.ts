// Analytics beside intake: the edge's HTTP answers to TradingView alerts at a fixed rate, first alone,
// then with a heavy ad-hoc query (a cross join) sent to POST /analytics/query all the while, one after
// the other, by an operator; then alone again, to show how much the machine itself moved meanwhile.
// Reports the phases' HTTP p50/p99, the ratio with/alone, the CPU the edge and its analytics query
// process used, and what every query got back (the limit error).
import { readFileSync, readdirSync } from 'node:fs';
import { startFleet } from '../chaos/fleet.ts';
import { runEnv } from '../chaos/harness.ts';
import { cpuMeter, type CpuUse } from './cpu.ts';
import { createLatencyHistogram, preciseNow, type LatencySummary } from './hist.ts';
import { runLoad } from './path.ts';

/** A hundred million by a hundred thousand rows: far more than any time limit allows. */
export const HEAVY_SQL = 'SELECT count(*) FROM range(100000000) a, range(100000) b';

export interface AnalyticsPhase { sent: number; accepted: number; other: Record<string, number>; http: LatencySummary; cpu: CpuUse }
export interface QueryAnswer { atMs: number; tookMs: number; status: number; code: string | null; message: string | null }

export interface AnalyticsBench {
  rate: number;
  seconds: number;
  query: string;
  /** The edge's analytics settings for the run (defaults unless set in the environment). */
  settings: Record<string, string>;
  alone: AnalyticsPhase;
  withQuery: AnalyticsPhase;
  /** Alone again after the query: the drift of a shared machine between phases. */
  aloneAfter: AnalyticsPhase;
  /** withQuery / alone. */
  p50Ratio: number | null;
  p99Ratio: number | null;
  answers: QueryAnswer[];
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);

/** The edge's analytics query process (its child running queryWorker.ts), if started. */
function queryProcessPids(edgePid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${edgePid}/task`)) {
      for (const c of readFileSync(`/proc/${edgePid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
        try { if (readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('queryWorker')) out.push(Number(c)); } catch { /* exited */ }
      }
    }
  } catch { /* not Linux */ }
  return out;
}

export async function benchAnalytics(rate: number, seconds: number, say: (line: string) => void): Promise<AnalyticsBench> {
  const run = runEnv('bench', { ...process.env, CHAOS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error' });
  const fleet = await startFleet(run, { kinds: ['edge'] });
  const edgeUrl = fleet.edgeUrls[0];
  const edgePid = fleet.procs.get('edge')![0].pid!;
  const groups = () => ({ edge: [edgePid], 'analytics-query': queryProcessPids(edgePid) });
  const strategies = run.strategies.map((s) => ({ id: s.id, secret: s.secrets[0] }));
  const sql = async (text: string): Promise<Omit<QueryAnswer, 'atMs' | 'tookMs'>> => {
    const res = await fetch(`${edgeUrl}/analytics/query`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${run.tokens.operator}` }, body: JSON.stringify({ sql: text }),
    });
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    return { status: res.status, code: body.error?.code ?? null, message: body.error?.message ?? null };
  };
  const phase = async (name: string): Promise<AnalyticsPhase> => {
    const meter = cpuMeter(groups);
    const load = await runLoad({ url: `${edgeUrl}/webhooks/tradingview`, rate, count: rate * seconds, seconds, connections: 64, runId: `${name}-${Date.now().toString(36)}`, strategies, symbols: ['AAPL', 'MSFT'] });
    const cpu = meter.done(load.ok);
    const h = createLatencyHistogram();
    for (const [, t0, t1] of load.samples) h.recordMs(t1 - t0);
    return { sent: load.sent, accepted: load.ok, other: load.other, http: h.summary(), cpu };
  };
  try {
    // Warm: the query process started, the edge's code paths compiled.
    const first = await sql('SELECT 1');
    if (first.status !== 200) throw new Error(`analytics: SELECT 1 answered ${first.status} ${first.code}: ${first.message}`);
    await runLoad({ url: `${edgeUrl}/webhooks/tradingview`, rate, count: rate * 2, seconds: 2, connections: 64, runId: `warm-${Date.now().toString(36)}`, strategies, symbols: ['AAPL'] });

    say(`analytics: ${rate} alerts/s for ${seconds} s, edge alone`);
    const alone = await phase('alone');
    say(`analytics: alone HTTP p50 ${alone.http.p50ms} ms p99 ${alone.http.p99ms} ms`);

    say(`analytics: ${rate} alerts/s for ${seconds} s, with "${HEAVY_SQL}" sent meanwhile, one after the other`);
    const answers: QueryAnswer[] = [];
    let loading = true;
    const t0 = preciseNow();
    const hammer = (async () => {
      while (loading) {
        const at = preciseNow();
        const a = await sql(HEAVY_SQL).catch((e: Error) => ({ status: 0, code: 'FETCH_FAILED', message: e.message }));
        answers.push({ atMs: Math.round(at - t0), tookMs: Math.round(preciseNow() - at), ...a });
        say(`analytics: query answered ${a.status} ${a.code ?? ''} ${a.message ?? ''} after ${answers.at(-1)!.tookMs} ms`);
        if (a.status !== 400) await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const withQuery = await phase('with-query').finally(() => { loading = false; });
    await hammer;
    say(`analytics: with the query HTTP p50 ${withQuery.http.p50ms} ms p99 ${withQuery.http.p99ms} ms`);
    say(`analytics: ${rate} alerts/s for ${seconds} s, edge alone again`);
    const aloneAfter = await phase('alone-after');
    say(`analytics: alone again HTTP p50 ${aloneAfter.http.p50ms} ms p99 ${aloneAfter.http.p99ms} ms`);
    const settings = Object.fromEntries(Object.entries(run.env).filter(([k, v]) => k.startsWith('ANALYTICS_QUERY') && v !== undefined)) as Record<string, string>;
    return {
      rate, seconds, query: HEAVY_SQL, settings, alone, withQuery, aloneAfter,
      p50Ratio: ratio(withQuery.http.p50ms, alone.http.p50ms), p99Ratio: ratio(withQuery.http.p99ms, alone.http.p99ms), answers,
    };
  } finally {
    await fleet.stop();
  }
}
