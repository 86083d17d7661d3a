// What fails a chaos run: every figure a scenario measured that is not what it must be, named, per
// scenario. `npm run chaos` prints the lists, writes them into the report and exits non-zero when any is
// not empty. The reliability tests assert the same figures one by one.
import type { DeployResult } from './scenarios/deploy.ts';
import type { DuplicatesResult } from './scenarios/duplicates.ts';
import type { HostileResult } from './scenarios/hostile.ts';
import type { KafkaOutageResult, PostgresFaultResult } from './scenarios/infra.ts';
import type { KillsResult } from './scenarios/kills.ts';
import type { LeaderKillResult } from './scenarios/leaderKill.ts';
import type { VenueFaultsResult } from './scenarios/venue.ts';
import type { SendSummary } from './client.ts';

const when = (failed: boolean, what: string): string[] => (failed ? [what] : []);
const crashed = (crashes: string[]) => crashes.map((c) => `crash: ${c.slice(0, 300)}`);
const allAccepted = (s: SendSummary) => when(s.accepted < s.sent, `${s.sent - s.accepted} of ${s.sent} alerts never accepted (last answers ${JSON.stringify(s.statuses)})`);

export function judgeKills(r: KillsResult): string[] {
  return [
    ...r.verdict.failures, ...crashed(r.crashes), ...allAccepted(r.send),
    ...when(r.kills.delivered < r.kills.planned, `${r.kills.delivered} of ${r.kills.planned} planned SIGKILLs delivered to a running process`),
    ...when(r.kills.restarted < r.kills.delivered, `${r.kills.restarted} of ${r.kills.delivered} killed processes came back`),
    ...Object.entries(r.kills.byKind).filter(([, n]) => n === 0).map(([k]) => `${k} never killed`),
  ];
}

export function judgeKafka(r: KafkaOutageResult): string[] {
  return [
    ...r.verdict.failures, ...crashed(r.crashes), ...allAccepted(r.send),
    ...when(r.acceptedWhileDown > 0, `${r.acceptedWhileDown} alerts accepted while Kafka was down`),
    ...when(!(r.duringOutage[503] > 0), `no 503 while Kafka was down: ${JSON.stringify(r.duringOutage)}`),
    ...when(r.edgeRecoveredAfterMs === null, 'the edge did not accept again after Kafka came back'),
    ...when(!(r.readyz.duringOutage[503] > 0), `/readyz never said 503 while Kafka was down: ${JSON.stringify(r.readyz.duringOutage)}`),
    ...when(Object.keys(r.readyz.afterRecovery).some((k) => k !== '200'), `/readyz not 200 after recovery: ${JSON.stringify(r.readyz.afterRecovery)}`),
  ];
}

export function judgePostgres(r: PostgresFaultResult, times: number): string[] {
  return [
    ...r.verdict.failures, ...crashed(r.crashes), ...allAccepted(r.send),
    ...when(r.faults < times, `${r.faults} of ${times} Postgres faults injected`),
    ...when(r.mode === 'terminate' && r.terminated === 0, 'no connection terminated'),
  ];
}

export function judgeVenue(r: VenueFaultsResult): string[] {
  const f = r.failover;
  return [
    ...r.verdict.failures, ...crashed(r.crashes), ...allAccepted(r.send),
    ...['5xx-before', '5xx-after', '429', 'silent-stream'].filter((k) => !(r.injected[k] > 0)).map((k) => `fault ${k} never injected`),
    ...when(r.proxySubmits.forwarded.blindResends > 0, `${r.proxySubmits.forwarded.blindResends} blind resends through the fault proxy`),
    ...when(f.enabled && f.ordersToSecondVenue === 0, 'no order moved to the second venue during the outage'),
    ...when(f.ordersAtSecondVenue !== f.ordersToSecondVenue, `${f.ordersAtSecondVenue} of ${f.ordersToSecondVenue} orders routed to the second venue reached it`),
    ...when(f.doubledAtSecondVenue > 0, `${f.doubledAtSecondVenue} orders twice at the second venue`),
    ...when(f.blindResendsAtSecondVenue > 0, `${f.blindResendsAtSecondVenue} blind resends at the second venue`),
    ...when(f.fillsOnExecutions !== f.fillsMade, `${f.fillsOnExecutions} of ${f.fillsMade} second-venue fills on executions`),
  ];
}

export function judgeDuplicates(r: DuplicatesResult): string[] {
  return [
    ...r.verdict.failures, ...crashed(r.crashes),
    ...when(r.accepted !== 1, `${r.accepted} copies answered 202 (want 1)`),
    ...when(r.statuses[200] !== r.copies - 1, `${r.statuses[200] ?? 0} copies answered 200 (want ${r.copies - 1}): ${JSON.stringify(r.statuses)}`),
    ...when(r.signalsOnTopic !== 1, `${r.signalsOnTopic} records on signals (want 1)`),
    ...when(r.verdict.venueOrdersCreated !== 1, `${r.verdict.venueOrdersCreated} orders at the venue (want 1)`),
  ];
}

export function judgeDeploy(r: DeployResult): string[] {
  return [
    ...r.verdict.failures, ...crashed(r.crashes),
    ...when(r.notAccepted > 0, `${r.notAccepted} alerts refused by both edges`),
    ...when(r.restarts.length !== r.instancesPerKind * r.kinds, `${r.restarts.length} of ${r.instancesPerKind * r.kinds} instances restarted`),
  ];
}

export function judgeHostile(r: HostileResult, requested: number): string[] {
  const replayRepeats = Object.entries(r.replay.repeats).filter(([s]) => s !== '200');
  return [
    ...when(r.tried !== requested, `${r.tried} of ${requested} hostile requests sent`),
    ...when(r.notRefusedCount > 0, `${r.notRefusedCount} hostile requests not refused with a 4xx: ${r.notRefused.slice(0, 3).join(' | ')}`),
    ...when(r.signalsProduced > 0, `${r.signalsProduced} records reached signals`),
    ...when(r.controlsProduced > 0, `${r.controlsProduced} records reached control`),
    ...when(!r.edgeStayedUp || r.edgeCrashes > 0, `the edge went down (${r.edgeCrashes} crashes)`),
    ...r.secretLeaks.map((l) => `secret in a log line: ${l}`),
    ...r.roles.filter((x) => !x.ok).map((x) => `role check failed: ${x.check} → ${x.status}`),
    ...when(r.replay.firstStatus !== 202, `a fresh signed request got ${r.replay.firstStatus}`),
    ...when(replayRepeats.length > 0, `replayed signed requests answered ${JSON.stringify(r.replay.repeats)} (want only 200)`),
    ...when(r.replay.signalsProduced !== 1, `a signed request and its replays made ${r.replay.signalsProduced} signals (want 1)`),
    ...r.sql.checks.filter((c) => !c.ok).map((c) => `SQL not refused: ${c.sql} → ${c.status} ${c.code}`),
    ...when(r.sql.fileWritten, 'a file was written through the SQL endpoint'),
    ...when(r.positive.validAlertStatus !== 202, `a good alert got ${r.positive.validAlertStatus}`),
  ];
}

export function judgeLeader(r: LeaderKillResult, targets: number): string[] {
  const otherAnswers = r.kills.flatMap((k) => Object.keys(k.answers).filter((s) => !['200', '202', '503'].includes(s)).map((s) => `${k.what}: ${k.answers[s]} answers ${s} around the kill (only 202/200 or 503 allowed)`));
  return [
    ...r.verdict.failures, ...crashed(r.crashes), ...allAccepted(r.send), ...otherAnswers,
    ...when(r.kills.length < targets, `${r.kills.length} of ${targets} planned kills delivered`),
    ...r.kills.filter((k) => k.what === 'partition leader' && k.partitionsLed === 0).map(() => 'the killed partition leader led no signals/orders partition'),
    ...when(r.send.unexpected.length > 0, `${r.send.unexpected.length} answers other than 202, 200 or 503: ${r.send.unexpected.slice(0, 3).join(' | ')}`),
  ];
}
