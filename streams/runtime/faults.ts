// TEST ONLY. Deliberate bugs that the reliability harness switches on in a child process, to see each
// of its checks fail once (test/reliability/faults.test.ts): a check that guards against loss or
// duplication and has never been seen red proves nothing. Nothing sets ORDER_ROUTER_FAULT by default;
// the harness sets it in the environment of the processes it starts, never in its own.
//
//   ORDER_ROUTER_FAULT=blind-resend         the connector's look-ups answer "not found" without asking the
//                                           venue, so an order in doubt after a restart is sent again blindly
//   ORDER_ROUTER_FAULT=resend-unknown       the connector sends an order recorded as of unknown outcome again
//                                           when it meets it on `orders` (its guard is off)
//   ORDER_ROUTER_FAULT=ignore-send-marker   the connector ignores a predecessor's SENDING marker: an order taken
//                                           over that the venue does not list yet is sent again
//   ORDER_ROUTER_FAULT=late-release         a stopping connector leaves its group before it stops recording for its
//                                           partitions, so a look-up still in flight writes a fill its successor writes too
//   ORDER_ROUTER_FAULT=drop-fill            the connector never records one fill the venue made
//   ORDER_ROUTER_FAULT=double-decision      decide writes every decision and order twice
//   ORDER_ROUTER_FAULT=double-cancel        the connector writes the reports of every cancel request twice
//   ORDER_ROUTER_FAULT=position-off-by-lot  the projection writes every position one lot too long
//   ORDER_ROUTER_FAULT=strategy-double-fill the strategy runtime counts (and hands over) a fill recorded twice twice
//   ORDER_ROUTER_FAULT=stream-resume-gap    the strategy stream resumes one record past where it should
//   ORDER_ROUTER_FAULT=exits-after-commit   the brackets processor commits a fill's offset first and writes
//                                           its exits afterwards, outside that transaction
//
// And one kill point (not a bug: an instant to die at): ORDER_ROUTER_KILL_AT=<point> with
// ORDER_ROUTER_KILL_ONCE=<file> SIGKILLs the process the first time it reaches <point>, creating <file>
// so that the restarted process goes on (`killPoint`). Points: `brackets-before-commit` (the brackets
// processor has read a fill and sent its exits, not yet committed; with exits-after-commit: committed,
// exits not yet sent).
//
// Several may be given, comma-separated. An unknown name, or any fault with NODE_ENV=production, stops
// the process at start. Read once at import; each hook is one comparison against a constant when off.
import { existsSync, writeFileSync } from 'node:fs';
import { ConfigError } from './env.ts';

export const FAULTS = ['blind-resend', 'resend-unknown', 'ignore-send-marker', 'late-release', 'drop-fill', 'double-decision', 'position-off-by-lot', 'double-cancel', 'strategy-double-fill', 'stream-resume-gap', 'exits-after-commit'] as const;
export type Fault = (typeof FAULTS)[number];

export function parseFaults(env: NodeJS.ProcessEnv): ReadonlySet<Fault> {
  const names = (env.ORDER_ROUTER_FAULT ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) return new Set();
  if (env.NODE_ENV === 'production') throw new ConfigError('ORDER_ROUTER_FAULT: test-only fault switch refused with NODE_ENV=production');
  for (const n of names) if (!(FAULTS as readonly string[]).includes(n)) throw new ConfigError(`ORDER_ROUTER_FAULT: unknown fault ${n} (expected ${FAULTS.join(', ')})`);
  return new Set(names as Fault[]);
}

const active = parseFaults(process.env);
if (active.size > 0) process.emitWarning(`ORDER_ROUTER_FAULT=${[...active].join(',')}: deliberate bugs for the reliability tests are on`, 'OrderRouterFault');

export const faultOn = (f: Fault): boolean => active.size > 0 && active.has(f);

export const KILL_POINTS = ['brackets-before-commit'] as const;
export type KillPoint = (typeof KILL_POINTS)[number];

export function parseKillPoint(env: NodeJS.ProcessEnv): { point: KillPoint; once: string } | null {
  const point = env.ORDER_ROUTER_KILL_AT;
  if (point === undefined || point === '') return null;
  if (env.NODE_ENV === 'production') throw new ConfigError('ORDER_ROUTER_KILL_AT: test-only kill point refused with NODE_ENV=production');
  if (!(KILL_POINTS as readonly string[]).includes(point)) throw new ConfigError(`ORDER_ROUTER_KILL_AT: unknown kill point ${point} (expected ${KILL_POINTS.join(', ')})`);
  const once = env.ORDER_ROUTER_KILL_ONCE;
  if (once === undefined || once === '') throw new ConfigError('ORDER_ROUTER_KILL_ONCE: required with ORDER_ROUTER_KILL_AT (the file that marks the kill done)');
  return { point: point as KillPoint, once };
}

const kill = parseKillPoint(process.env);

/** SIGKILLs this process the first time it reaches `point`, if the test harness asked for it. */
export function killPoint(point: KillPoint): void {
  if (kill === null || kill.point !== point || existsSync(kill.once)) return;
  writeFileSync(kill.once, `${process.pid} ${point}\n`);
  process.kill(process.pid, 'SIGKILL');
}
