// Venue faults under a steady stream of alerts: timeouts (the venue slower than the connector's
// deadline, and answers withheld after the venue acted), 5xx before and after the venue acted, 429
// storms, a push stream that goes silent, and an outage. With `failover`, a second venue (Alpaca's
// wire format, served by connectors/alpaca/fake.ts) is enabled at a higher cost: while paper is out,
// the breaker halts it and new orders go there. Afterwards: no order twice at any venue, no fill lost.
import { startAlpacaFake, type AlpacaFake } from '../../../test/fakes/alpaca/server.ts';
import { controlMessage } from '../../../streams/control/publisher.ts';
import { createHttpClient, sendAlerts, summarise, type SendSummary } from '../client.ts';
import { startFaultProxy, type FaultMode, type FaultProxy, type ProxySubmits } from '../faultProxy.ts';
import { crashes, reviveCrashed, startFleet, tails, type Fleet } from '../fleet.ts';
import { readDecoded, runEnv, sleep } from '../harness.ts';
import { settle, type Progress } from './common.ts';
import type { Verdict } from '../verify.ts';

export interface VenueFaultsOptions {
  ratePerSec: number;
  /** Length of each fault phase; calm periods of `calmMs` separate them. */
  phaseMs: number;
  calmMs: number;
  /** The silent stream lasts this long (the connector polls after 30 s of silence; the client reconnects after 45 s). */
  silentMs: number;
  outageMs: number;
  failover: boolean;
  onProgress?: (p: Progress) => void;
}

export interface VenueFaultsResult {
  phases: { name: string; ms: number }[];
  injected: Record<string, number>;
  /** What the connector sent through the fault proxy: submit attempts, and resends after (or without) a look-up. */
  proxySubmits: ProxySubmits;
  send: SendSummary;
  verdict: Verdict;
  failover: {
    enabled: boolean; ordersToSecondVenue: number; ordersAtSecondVenue: number; doubledAtSecondVenue: number;
    /** From the second venue's submit ledger: submits of an id it had, and those with no look-up first (must be 0). */
    resendsAtSecondVenue: number; blindResendsAtSecondVenue: number;
    fillsMade: number; fillsOnExecutions: number; note: string;
  };
  /** Execution reports by venue, symbol and type. */
  executionsByKind: Record<string, number>;
  /** Decisions that found no venue (e.g. every venue halted): counted, never lost. */
  deniedByVenueState: number;
  crashes: string[];
  tails?: Record<string, string>;
}

type Phase = { name: string; ms: number; knobs?: Record<string, unknown>; proxy?: FaultMode };

const ALPACA_KEY = { keyId: 'chaos-key-id-0123456789', secretKey: 'chaos-secret-key-0123456789abcdef' };

async function knobs(venueUrl: string, patch: Record<string, unknown>): Promise<void> {
  const r = await fetch(`${venueUrl}/v1/admin/knobs`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
  if (!r.ok) throw new Error(`knobs ${JSON.stringify(patch)}: HTTP ${r.status}`);
}

/** The second venue switched on at a higher cost than paper, so it only takes flow while paper is halted. */
async function enableSecondVenue(fleet: Fleet): Promise<void> {
  const { run, kafka, codec } = fleet;
  const listing = (s: string) => ({ venueSymbol: s, lotSize: 1, tickSize: 0.01, minNotional: 1 });
  // MSFT only: the second venue's rate limit (Alpaca: 200 requests a minute) must absorb what it gets.
  const model = { enabled: true, fees: { equity: { bps: 25 } }, instruments: { MSFT: listing('MSFT') } };
  const producer = kafka.producer();
  await producer.connect();
  const at = Date.now();
  await producer.send({ topic: run.topics.control, acks: -1, messages: [controlMessage(codec, run.topics.control,
    { controlId: `chaos-alpaca-${run.tag}`, kind: 'COST_MODEL', scope: 'VENUE', target: 'alpaca', state: null, payload: JSON.stringify(model), actor: 'chaos', reason: 'failover venue', at, hlc: at * 1000 },
  )] });
  await producer.disconnect();
}

export async function runVenueFaults(o: VenueFaultsOptions): Promise<VenueFaultsResult> {
  const run = runEnv('venue');
  let proxy: FaultProxy | null = null;
  const alpaca: AlpacaFake | null = o.failover ? await startAlpacaFake({ ...ALPACA_KEY }) : null;
  const env: Record<string, string> = { VENUE_TIMEOUT_MS: '1000' };
  if (alpaca) Object.assign(env, { VENUES: 'paper,alpaca', ALPACA_BASE_URL: alpaca.url, ALPACA_KEY_ID: ALPACA_KEY.keyId, ALPACA_SECRET_KEY: ALPACA_KEY.secretKey, ALPACA_TIMEOUT_MS: '1000' });
  run.secrets.push(ALPACA_KEY.secretKey);
  const fleet = await startFleet(run, { env, connectorUrl: async (venueUrl) => { proxy = await startFaultProxy(venueUrl); return proxy.url; } });
  const client = createHttpClient(64);
  try {
    if (alpaca) await enableSecondVenue(fleet);
    // Partial fills leave limit orders resting, so some fills arrive later, on the push stream.
    await knobs(fleet.venueUrl, { partialFillRatio: 0.5 });
    // Faults the connector rides through come first, at ratios below what opens its breaker; the ones
    // that halt the venue (and move flow to the second venue) come last, so they do not mask the others.
    const phases: Phase[] = [
      { name: '5xx before the venue sees the order (20%)', ms: o.phaseMs, proxy: { kind: '5xx-before', ratio: 0.2 } },
      { name: '5xx after the venue created the order (20%)', ms: o.phaseMs, proxy: { kind: '5xx-after', ratio: 0.2 } },
      { name: '429 storm (50% of calls, Retry-After 1 s)', ms: o.phaseMs, proxy: { kind: '429', ratio: 0.5 } },
      { name: 'silent push stream', ms: o.silentMs, proxy: { kind: 'silent' } },
      { name: 'timeouts: venue acts but never answers', ms: o.phaseMs, knobs: { dropResponses: true } },
      { name: 'timeouts: venue slower (1.5 s) than the 1 s deadline', ms: o.phaseMs, knobs: { latencyMs: 1500 } },
      { name: 'venue outage', ms: o.outageMs, knobs: { outage: true } },
    ];
    const total = phases.reduce((n, p) => n + p.ms + o.calmMs, o.calmMs);
    const alerts = Math.round((total / 1000) * o.ratePerSec);
    const mids: Record<string, number> = {};
    let stop = false;
    const quotes = (async () => {
      while (!stop) {
        try {
          for (const q of await (await fetch(`${fleet.venueUrl}/v1/quotes?symbols=AAPL,MSFT`)).json() as { symbol: string; bid: number; ask: number }[]) mids[q.symbol] = (q.bid + q.ask) / 2;
        } catch { /* the venue is out: keep the last mids */ }
        await sleep(500);
      }
    })();
    await sleep(1000);
    let done = 0;
    let current = 'calm';
    const faults = (async () => {
      await sleep(o.calmMs);
      for (const p of phases) {
        current = p.name;
        o.onProgress?.({ phase: p.name, done, total: alerts });
        if (p.knobs) await knobs(fleet.venueUrl, p.knobs);
        if (p.proxy) proxy!.set(p.proxy);
        await sleep(p.ms);
        await knobs(fleet.venueUrl, { latencyMs: 0, dropResponses: false, outage: false });
        proxy!.set({ kind: 'pass' });
        current = 'calm';
        await sleep(o.calmMs);
      }
    })();
    const watchdog = setInterval(() => { reviveCrashed(fleet); }, 1000);
    const symbols = ['AAPL', 'MSFT'];
    const outcomes = await sendAlerts({
      edges: () => fleet.edgeUrls, strategies: run.strategies, symbols, runTag: run.tag, count: alerts, ratePerSec: o.ratePerSec, retryForMs: 60_000, client,
      // Every fourth alert a limit order a few bps inside the market: it rests, and fills later or never.
      // Ten lots, so that half a fill (partialFillRatio 0.5) is still a whole lot.
      extra: (i) => {
        const mid = mids[symbols[i % symbols.length]];
        if (i % 4 !== 3 || mid === undefined) return { contracts: '10' };
        const buy = Math.floor(i / run.strategies.length) % 2 === 0;
        return { contracts: '10', order_type: 'limit', limit_price: (Math.round(mid * (buy ? 0.9997 : 1.0003) * 100) / 100).toFixed(2) };
      },
      onOutcome: () => { if (++done % 50 === 0) o.onProgress?.({ phase: current, done, total: alerts }); },
    });
    await faults;
    stop = true;
    await quotes;

    // The second venue fills nothing by itself: fill what it holds, as a venue would, before judging.
    let fillsMade = 0;
    const orders = await readDecoded(fleet.kafka, fleet.codec, run.topics.orders, 'Order');
    const toAlpaca = orders.filter((x) => x.venue === 'alpaca');
    let atAlpaca = 0, doubled = 0;
    if (alpaca) {
      // The connector paces itself under the venue's rate limit: wait until everything routed there arrived.
      const until = Date.now() + 180_000;
      for (;;) {
        const counts = await Promise.all(toAlpaca.map((x) => alpaca.controls.ordersCreated(x.clientOrderId)));
        o.onProgress?.({ phase: 'second venue: orders arriving', done: counts.filter((n) => n > 0).length, total: toAlpaca.length });
        if (counts.every((n) => n > 0) || Date.now() > until) break;
        await sleep(2000);
      }
      for (const ord of toAlpaca) {
        const n = await alpaca.controls.ordersCreated(ord.clientOrderId);
        atAlpaca += Math.min(1, n);
        doubled += Math.max(0, n - 1);
        if (n > 0) { await alpaca.controls.fill(ord.clientOrderId, ord.quantity); fillsMade++; }
      }
    }
    const verdict = await settle(fleet, outcomes, 240_000, (detail) => o.onProgress?.({ phase: 'settling', done, total: alerts, detail }));
    clearInterval(watchdog);
    let executions = await readDecoded(fleet.kafka, fleet.codec, run.topics.executions, 'ExecutionReport');
    const alpacaFilled = () => new Set(executions.filter((e) => e.venue === 'alpaca' && (e.type === 'FILL' || e.type === 'PARTIAL_FILL')).map((e) => e.clientOrderId)).size;
    for (const until = Date.now() + 120_000; alpacaFilled() < fillsMade && Date.now() < until; ) {
      await sleep(2000);
      executions = await readDecoded(fleet.kafka, fleet.codec, run.topics.executions, 'ExecutionReport');
    }
    const alpacaFills = alpacaFilled();
    const byKey: Record<string, number> = {};
    for (const e of executions) { const k = `${e.venue} ${e.symbol} ${e.type}`; byKey[k] = (byKey[k] ?? 0) + 1; }
    const decisions = await readDecoded(fleet.kafka, fleet.codec, run.topics.riskDecisions, 'RiskDecision');
    return {
      phases: phases.map((p) => ({ name: p.name, ms: p.ms })),
      injected: { ...proxy!.injected }, proxySubmits: proxy!.submits(),
      send: summarise(outcomes), verdict,
      failover: {
        enabled: o.failover, ordersToSecondVenue: toAlpaca.length, ordersAtSecondVenue: atAlpaca, doubledAtSecondVenue: doubled,
        resendsAtSecondVenue: alpaca?.submits().resends ?? 0, blindResendsAtSecondVenue: alpaca?.submits().blindResends ?? 0, fillsMade, fillsOnExecutions: alpacaFills,
        note: o.failover ? 'second venue: Alpaca wire format (connectors/alpaca/fake.ts), enabled by a COST_MODEL control at a higher cost than paper' : 'not run',
      },
      executionsByKind: byKey,
      deniedByVenueState: decisions.filter((d) => d.verdict !== 'APPROVED' && /VENUE/.test(d.reason ?? '')).length,
      crashes: crashes(fleet),
      tails: verdict.lost.total + verdict.duplicates.total > 0 ? tails(fleet, 6000) : undefined,
    };
  } finally {
    client.close();
    await fleet.stop();
    await (proxy as FaultProxy | null)?.stop();
    await alpaca?.stop();
  }
}
