// npm run chaos: every reliability scenario at full size, with progress on the terminal, a summary of
// the figures measured and bench/chaos-report.json. Exits 1 when any figure failed (judge.ts lists them).
//
//   npm run chaos                                  everything (about half an hour on a laptop)
//   npm run chaos -- --only kills,hostile          some scenarios (kills, kafka, postgres, venue, duplicates, deploy, leader, hostile)
//   npm run chaos -- --quick                       CI-sized runs of the same scenarios
//   npm run chaos -- --postgres-restart            also restart the Postgres server mid-run (pg_ctlcluster: everyone
//                                                  using that server sees it; only a loopback DATABASE_URL is accepted)
// Sizes: CHAOS_ALERTS (10000), CHAOS_KILLS (20), CHAOS_RATE (alerts/s of the kill run, 80), CHAOS_HOSTILE (100000).
// `leader` starts a 3-node cluster of its own on other ports (scripts/kafka/ownCluster.ts), never the shared broker.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { ROOT } from './harness.ts';
import { judgeDeploy, judgeDuplicates, judgeHostile, judgeKafka, judgeKills, judgeLeader, judgePostgres, judgeVenue } from './judge.ts';
import type { Progress } from './scenarios/common.ts';
import type { Verdict } from './verify.ts';

const SCENARIOS = ['kills', 'kafka', 'postgres', 'venue', 'duplicates', 'deploy', 'leader', 'hostile'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, 'postgres-restart': { type: 'boolean', default: false } } });
const only = new Set((values.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? SCENARIOS) as Scenario[]);
for (const s of only) if (!SCENARIOS.includes(s)) throw new Error(`--only: unknown scenario ${s} (expected ${SCENARIOS.join(', ')})`);
const quick = values.quick;
const num = (name: string, full: number, small: number) => Number(process.env[name] ?? (quick ? small : full));
const size = {
  alerts: num('CHAOS_ALERTS', 10_000, 600), kills: num('CHAOS_KILLS', 20, 5), rate: num('CHAOS_RATE', 80, 40), hostile: num('CHAOS_HOSTILE', 100_000, 10_000),
};

const tty = process.stderr.isTTY === true;
const say = (s: string) => process.stderr.write(`[chaos] ${s}\n`);

/** One progress bar per scenario: a count when there is one, else the phase and detail. */
function progressFor(name: string) {
  const bar = new cliProgress.SingleBar({
    format: `${name.padEnd(10)} {bar} {value}/{total} | {phase} {detail}`, hideCursor: true, clearOnComplete: false,
    noTTYOutput: !tty, notTTYSchedule: 10_000, stream: process.stderr, barsize: 24,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(p: Progress) {
      const total = Math.max(p.total, p.done, 1);
      if (!started) { bar.start(total, p.done, { phase: p.phase, detail: p.detail ?? '' }); started = true; }
      bar.setTotal(total);
      bar.update(p.done, { phase: p.phase.slice(0, 48), detail: (p.detail ?? '').slice(0, 70) });
    },
    stop() { if (started) bar.stop(); },
  };
}

async function scenario<T>(name: Scenario, fn: (onProgress: (p: Progress) => void) => Promise<T>): Promise<T | { error: string } | undefined> {
  if (!only.has(name)) return undefined;
  const bar = progressFor(name);
  const t0 = Date.now();
  try {
    const r = await fn((p) => bar.update(p));
    bar.stop();
    say(`${name}: done in ${Math.round((Date.now() - t0) / 1000)} s`);
    return r;
  } catch (e) {
    bar.stop();
    say(`${name}: FAILED: ${(e as Error).stack ?? String(e)}`);
    return { error: (e as Error).message };
  }
}

const failed = (r: unknown): r is { error: string } => typeof r === 'object' && r !== null && 'error' in r;
const strip = (v: Verdict | undefined) => (v ? { ...v, examples: v.examples.slice(0, 10) } : undefined);

async function main(): Promise<void> {
  const env = loadRuntimeEnv();
  say(`stack: kafka ${env.KAFKA_BROKERS.join(',')}, registry ${env.SCHEMA_REGISTRY_URL}, postgres ${new URL(env.DATABASE_URL).host}; ${quick ? 'quick' : 'full'} sizes ${JSON.stringify(size)}`);
  const started = Date.now();

  const kills = await scenario('kills', async (onProgress) => (await import('./scenarios/kills.ts')).runKills({ alerts: size.alerts, kills: size.kills, ratePerSec: size.rate, settleTimeoutMs: 420_000, onProgress }));
  const kafka = await scenario('kafka', async (onProgress) => (await import('./scenarios/infra.ts')).runKafkaOutage({
    ratePerSec: 30, alerts: quick ? 900 : 2400, stopAfterMs: quick ? 8_000 : 20_000, downForMs: quick ? 12_000 : 25_000, signal: quick ? 'SIGTERM' : 'SIGKILL', onProgress,
  }));
  const postgres = await scenario('postgres', async (onProgress) => {
    const { runPostgresFault } = await import('./scenarios/infra.ts');
    const terminate = await runPostgresFault({ ratePerSec: 30, alerts: quick ? 600 : 1800, mode: 'terminate', times: quick ? 3 : 6, onProgress });
    if (!values['postgres-restart']) return { terminate, restart: { skipped: 'pass --postgres-restart to restart the Postgres server itself (it affects everyone using it)' } };
    const host = new URL(env.DATABASE_URL).hostname;
    if (!['127.0.0.1', 'localhost', '::1'].includes(host)) return { terminate, restart: { skipped: `DATABASE_URL host ${host} is not loopback: not restarting it` } };
    const restart = await runPostgresFault({ ratePerSec: 30, alerts: quick ? 600 : 1800, mode: 'restart', times: 2, onProgress });
    return { terminate, restart };
  });
  const venue = await scenario('venue', async (onProgress) => (await import('./scenarios/venue.ts')).runVenueFaults({
    ratePerSec: 10, phaseMs: quick ? 5_000 : 10_000, calmMs: quick ? 3_000 : 8_000, silentMs: quick ? 12_000 : 50_000, outageMs: quick ? 10_000 : 20_000, failover: true, onProgress,
  }));
  const duplicates = await scenario('duplicates', async (onProgress) => (await import('./scenarios/duplicates.ts')).runDuplicates({ copies: 10_000, onProgress }));
  const deploy = await scenario('deploy', async (onProgress) => (await import('./scenarios/deploy.ts')).runDeploy({
    ratePerSec: quick ? 20 : 40, beforeMs: quick ? 10_000 : 30_000, afterMs: quick ? 15_000 : 45_000, settleEachMs: quick ? 5_000 : 8_000, onProgress,
  }));
  // The partition leader, then the controller quorum's leader, SIGKILLed under load (quick: the partition leader only).
  const leaderTargets = quick ? (['partition leader'] as const) : (['partition leader', 'quorum leader'] as const);
  const leader = await scenario('leader', async (onProgress) => (await import('./scenarios/leaderKill.ts')).runLeaderKill({
    ratePerSec: quick ? 50 : 100, beforeMs: quick ? 3_000 : 20_000, downMs: quick ? 10_000 : 25_000, betweenMs: quick ? 0 : 30_000, afterMs: quick ? 2_000 : 20_000,
    targets: [...leaderTargets], onProgress,
  }));
  const hostile = await scenario('hostile', async (onProgress) => (await import('./scenarios/hostile.ts')).runHostile({ requests: size.hostile, concurrency: 32, onProgress }));

  // ---- figures: only what was measured; failures: every figure that is not what it must be ----
  const ok = <T,>(r: T | { error: string } | undefined): T | undefined => (r === undefined || failed(r) ? undefined : r);
  const pgTerminate = ok(postgres)?.terminate;
  const pgRestartRun = ok(postgres)?.restart;
  const pgRestart = pgRestartRun && !('skipped' in pgRestartRun) ? pgRestartRun : undefined;
  const verdicts: [string, Verdict | undefined][] = [
    ['kills', ok(kills)?.verdict], ['kafka', ok(kafka)?.verdict], ['postgres-terminate', pgTerminate?.verdict],
    ['postgres-restart', pgRestart?.verdict], ['venue', ok(venue)?.verdict], ['duplicates', ok(duplicates)?.verdict], ['deploy', ok(deploy)?.verdict],
    ['leader', ok(leader)?.verdict],
  ];
  const ran = verdicts.filter((v): v is [string, Verdict] => v[1] !== undefined);
  const sum = (f: (v: Verdict) => number) => ran.reduce((n, [, v]) => n + f(v), 0);
  const allSends = [ok(kills)?.send, ok(kafka)?.send, pgTerminate?.send, pgRestart?.send, ok(venue)?.send, ok(deploy)?.send, ok(leader)?.send].filter((x) => x !== undefined);
  const dup = ok(duplicates);
  const failures: Record<string, string[]> = {
    kills: ok(kills) ? judgeKills(ok(kills)!) : [],
    kafka: ok(kafka) ? judgeKafka(ok(kafka)!) : [],
    'postgres-terminate': pgTerminate ? judgePostgres(pgTerminate, quick ? 3 : 6) : [],
    'postgres-restart': pgRestart ? judgePostgres(pgRestart, 2) : [],
    venue: ok(venue) ? judgeVenue(ok(venue)!) : [],
    duplicates: dup ? judgeDuplicates(dup) : [],
    deploy: ok(deploy) ? judgeDeploy(ok(deploy)!) : [],
    leader: ok(leader) ? judgeLeader(ok(leader)!, leaderTargets.length) : [],
    hostile: ok(hostile) ? judgeHostile(ok(hostile)!, size.hostile) : [],
  };
  for (const [name, r] of [['kills', kills], ['kafka', kafka], ['postgres', postgres], ['venue', venue], ['duplicates', duplicates], ['deploy', deploy], ['leader', leader], ['hostile', hostile]] as const) {
    if (failed(r)) (failures[name] ??= []).push(`did not finish: ${r.error.split('\n').slice(0, 2).join(' ').slice(0, 400)} (the whole error is in the report)`);
  }
  const failing = Object.fromEntries(Object.entries(failures).filter(([, f]) => f.length > 0));
  const k = ok(kills)?.kills;
  const figures = {
    signalsSent: allSends.reduce((n, s) => n + s.sent, 0) + (dup ? dup.copies : 0),
    accepted: allSends.reduce((n, s) => n + s.accepted, 0) + (dup ? (dup.statuses[202] ?? 0) + (dup.statuses[200] ?? 0) : 0),
    decided: sum((v) => v.decided),
    ordersAtVenue: sum((v) => v.ordersAtVenue),
    duplicates: sum((v) => v.duplicates.total),
    duplicatesByScenario: Object.fromEntries(ran.map(([n, v]) => [n, v.duplicates])),
    lost: sum((v) => v.lost.total),
    lostByScenario: Object.fromEntries(ran.map(([n, v]) => [n, v.lost])),
    venueSubmits: { submits: sum((v) => v.venueSubmits.submits), resends: sum((v) => v.venueSubmits.resends), blindResends: sum((v) => v.venueSubmits.blindResends) },
    proxySubmits: ok(venue)?.proxySubmits ?? null,
    secondVenue: ok(venue) ? { resends: ok(venue)!.failover.resendsAtSecondVenue, blindResends: ok(venue)!.failover.blindResendsAtSecondVenue, doubled: ok(venue)!.failover.doubledAtSecondVenue } : null,
    killsPlanned: k?.planned ?? 0,
    killsDelivered: k?.delivered ?? 0,
    processesRestarted: k?.restarted ?? 0,
    killsByKind: k?.byKind ?? {},
    restartedByKind: k?.restartedByKind ?? {},
    crashes: [ok(kills)?.crashes, ok(kafka)?.crashes, pgTerminate?.crashes, pgRestart?.crashes, ok(venue)?.crashes, dup?.crashes, ok(deploy)?.crashes, ok(leader)?.crashes]
      .reduce((n, c) => n + (c?.length ?? 0), 0) + (ok(hostile)?.edgeCrashes ?? 0),
    hostileTried: ok(hostile)?.tried ?? 0,
    hostileRefused: ok(hostile)?.refused ?? 0,
    hostileSecretLeaks: ok(hostile) ? ok(hostile)!.secretLeaks.length : null,
    deployP99: ok(deploy) ? Object.fromEntries(Object.entries(ok(deploy)!.latency).map(([n, v]) => [n, { alertToDecisionMs: v.toDecision.p99ms, alertToVenueMs: v.toVenue.p99ms, alerts: v.alerts }])) : null,
    leaderKills: ok(leader) ? ok(leader)!.kills.map((k) => ({ what: k.what, partitionsLed: k.partitionsLed, downMs: k.downMs, backInMs: k.backInMs, acceptancePauseMs: k.acceptancePauseMs, decisionPauseMs: k.decisionPauseMs, answers: k.answers })) : null,
    leaderP99: ok(leader) ? Object.fromEntries(Object.entries(ok(leader)!.latency).map(([n, v]) => [n, { alertToDecisionMs: v.toDecision.p99ms, alertToVenueMs: v.toVenue.p99ms, alerts: v.alerts }])) : null,
    parquetByScenario: Object.fromEntries(ran.map(([n, v]) => [n, v.parquet.checked ? { fills: v.parquet.fills, missing: v.parquet.missing, doubled: v.parquet.doubled } : `not checked: ${v.parquet.note}`])),
    failures: failing,
  };
  const report = {
    at: new Date().toISOString(), elapsedSec: Math.round((Date.now() - started) / 1000), quick, sizes: size,
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    figures,
    scenarios: {
      kills: ok(kills) ? { ...ok(kills)!, verdict: strip(ok(kills)!.verdict) } : kills,
      kafka: ok(kafka) ? { ...ok(kafka)!, verdict: strip(ok(kafka)!.verdict) } : kafka,
      postgres, venue: ok(venue) ? { ...ok(venue)!, verdict: strip(ok(venue)!.verdict) } : venue,
      duplicates, deploy: ok(deploy) ? { ...ok(deploy)!, verdict: strip(ok(deploy)!.verdict) } : deploy,
      leader: ok(leader) ? { ...ok(leader)!, verdict: strip(ok(leader)!.verdict) } : leader,
      hostile,
    },
  };
  mkdirSync(join(ROOT, 'bench'), { recursive: true });
  // A partial run (--only) must not overwrite the full report.
  const out = join(ROOT, 'bench', values.only ? `chaos-report-${[...only].sort().join('-')}.json` : 'chaos-report.json');
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

  const line = (key: string, v: unknown) => process.stdout.write(`  ${key.padEnd(34)} ${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
  process.stdout.write('\nchaos report\n');
  line('signals sent', figures.signalsSent);
  line('accepted (202, or 200 repeat)', figures.accepted);
  line('decided', figures.decided);
  line('orders at the venue', figures.ordersAtVenue);
  line('duplicates (must be 0)', figures.duplicates);
  line('lost (must be 0)', figures.lost);
  line('submits at the venue', `${figures.venueSubmits.submits}, resent after a look-up ${figures.venueSubmits.resends - figures.venueSubmits.blindResends}, blind (must be 0) ${figures.venueSubmits.blindResends}`);
  if (figures.proxySubmits) line('submits through the fault proxy', `${figures.proxySubmits.attempts} attempts, ${figures.proxySubmits.idsRetried} ids retried, blind (must be 0) ${figures.proxySubmits.forwarded.blindResends}`);
  if (figures.secondVenue) line('second venue', `resends ${figures.secondVenue.resends}, blind (must be 0) ${figures.secondVenue.blindResends}, doubled (must be 0) ${figures.secondVenue.doubled}`);
  if (k) line('kills delivered / restarted', `${figures.killsDelivered} of ${figures.killsPlanned} planned / ${figures.processesRestarted} came back ${JSON.stringify(figures.killsByKind)}`);
  line('process crashes (must be 0)', figures.crashes);
  if (ok(hostile)) line('hostile requests tried / refused', `${figures.hostileTried} / ${figures.hostileRefused}`);
  if (ok(hostile)) line('secrets in edge logs', figures.hostileSecretLeaks);
  if (figures.deployP99) for (const [n, v] of Object.entries(figures.deployP99)) line(`deploy p99 ${n}`, `alert→decision ${v.alertToDecisionMs} ms, alert→order at venue ${v.alertToVenueMs} ms (${v.alerts} alerts)`);
  for (const k of figures.leaderKills ?? []) line(`leader kill: ${k.what}`, `led ${k.partitionsLed} partitions, down ${k.downMs} ms, back in ${k.backInMs} ms; pause in acceptance ${k.acceptancePauseMs} ms, in decisions ${k.decisionPauseMs} ms; answers ${JSON.stringify(k.answers)}`);
  if (figures.leaderP99) for (const [n, v] of Object.entries(figures.leaderP99)) line(`leader p99 ${n}`, `alert→decision ${v.alertToDecisionMs} ms, alert→order at venue ${v.alertToVenueMs} ms (${v.alerts} alerts)`);
  for (const [n, pq] of Object.entries(figures.parquetByScenario)) line(`parquet ${n}`, pq);
  line('report', out);
  if (Object.keys(failing).length === 0) {
    process.stdout.write('\nevery figure as it must be\n');
  } else {
    process.stdout.write('\nFAILED\n');
    for (const [n, list] of Object.entries(failing)) for (const f of list) process.stdout.write(`  ${n}: ${f}\n`);
  }
  process.exitCode = Object.keys(failing).length === 0 ? 0 : 1;
}

// Exits once the report is written: a client still retrying a broker a scenario killed must not hold it open.
main().then(() => process.exit(process.exitCode ?? 0), (e: unknown) => { console.error(e); process.exit(1); });
