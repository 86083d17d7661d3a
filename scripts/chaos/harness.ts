// The chaos harness: an isolated run environment (own topic prefix, Postgres schema, secrets and ops
// tokens), pipeline components and the paper venue as child processes that can be SIGKILLed or
// SIGTERMed and started again, and the few Kafka helpers every scenario needs.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { createCodec, type Codec, type RecordName, type RecordTypes } from '../../schemas/codec.ts';
import { controlMessage } from '../../streams/control/publisher.ts';
import { readToEnd } from '../../streams/runtime/consume.ts';
import { loadRuntimeEnv, type RuntimeEnv } from '../../streams/runtime/env.ts';
import { createKafka } from '../../streams/runtime/kafka.ts';
import { createLogger } from '../../streams/runtime/log.ts';
import { topicNames, type Topics } from '../../schemas/topics.ts';
import { COMPONENTS } from '../../edge/main/pipeline.ts';
import { TS_NODE_ARGS } from '../../streams/runtime/tsNode.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Component kinds this checkout can start (`sink` once edge/main/pipeline.ts has it). */
export const KINDS: readonly string[] = COMPONENTS;
export const hasSink = (): boolean => KINDS.includes('sink');

export interface Strategy { id: string; account: string; secrets: string[] }

export interface RunEnv {
  tag: string;
  env: NodeJS.ProcessEnv;
  runtime: RuntimeEnv;
  topics: Topics;
  strategies: Strategy[];
  /** Bearer tokens of the ops API, one per role. */
  tokens: { admin: string; operator: string; viewer: string };
  /** Every secret configured for this run: none may appear in a log line. */
  secrets: string[];
}

const secret = () => randomBytes(24).toString('base64url');

/**
 * A fresh environment on the stack named by `base` (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL):
 * topics `chaos-<tag>-<id>.*`, schema `chaos_<tag>_<id>`, random strategy secrets and ops tokens, and
 * PGAPPNAME set so a scenario can find (and terminate) exactly this run's Postgres connections.
 */
export function runEnv(tag: string, base: NodeJS.ProcessEnv = process.env, extra: Record<string, string> = {}): RunEnv {
  const id = `${tag}${Date.now().toString(36)}${randomBytes(2).toString('hex')}`.toLowerCase().replace(/[^a-z0-9]/g, '');
  const strategies: Strategy[] = Array.from({ length: 4 }, (_, i) => ({ id: `chaos-${i}`, account: `CHAOS-${i}`, secrets: [secret(), secret()] }));
  const tokens = { admin: secret(), operator: secret(), viewer: secret() };
  const env: NodeJS.ProcessEnv = {
    ...base,
    TOPIC_PREFIX: `chaos-${id}.`,
    PG_SCHEMA: `chaos_${id}`,
    PGAPPNAME: `chaos-${id}`,
    // The sink writes here and the edge's SQL endpoint reads here.
    ANALYTICS_DIR: join(tmpdir(), `chaos-analytics-${id}`),
    LOG_LEVEL: base.CHAOS_LOG_LEVEL ?? 'warn',
    ORDER_ROUTER_STRATEGIES: JSON.stringify(strategies),
    OPS_TOKENS: JSON.stringify([
      { name: 'chaos-admin', role: 'admin', token: tokens.admin },
      { name: 'chaos-operator', role: 'operator', token: tokens.operator },
      { name: 'chaos-viewer', role: 'viewer', token: tokens.viewer },
    ]),
    ...extra,
  };
  delete env.ORDER_ROUTER_STRATEGIES_FILE;
  const runtime = loadRuntimeEnv(env);
  const secrets = [...strategies.flatMap((s) => s.secrets), tokens.admin, tokens.operator, tokens.viewer];
  if (runtime.KAFKA_SASL_PASSWORD) secrets.push(runtime.KAFKA_SASL_PASSWORD);
  const dbPassword = new URL(runtime.DATABASE_URL).password;
  if (dbPassword) secrets.push(decodeURIComponent(dbPassword));
  return { tag: id, env, runtime, topics: topicNames(runtime.TOPIC_PREFIX), strategies, tokens, secrets };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitUntil<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

/** The tail of a child's output, for diagnostics; `onLine` sees every line (secret scans). */
function capture(proc: ChildProcess, keep: number, onLine?: (line: string) => void) {
  let tail = '';
  let partial = '';
  const take = (d: Buffer) => {
    const text = d.toString();
    tail = (tail + text).slice(-keep);
    if (onLine) {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    }
  };
  proc.stdout?.on('data', take);
  proc.stderr?.on('data', take);
  return { tail: () => tail, flush: () => { if (partial && onLine) onLine(partial); partial = ''; } };
}

export interface ManagedOptions {
  /** What `start()` spawns: arguments after `node`. */
  args: string[];
  /** Node options before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  env: NodeJS.ProcessEnv;
  name: string;
  /** Resolves once the process serves (e.g. an HTTP health answer). */
  ready?: () => Promise<boolean>;
  readyTimeoutMs?: number;
  onLine?: (line: string) => void;
}

/** A child process that can be killed and started again, counting its lives and unexpected exits. */
export class Managed {
  proc: ChildProcess | null = null;
  starts = 0;
  /** SIGKILLs delivered: the process was alive and died of the signal. */
  kills = 0;
  /** Exits nobody asked for (a crash): each is a finding. */
  unexpectedExits: { code: number | null; signal: string | null; tail: string }[] = [];
  private out: ReturnType<typeof capture> | null = null;
  private exited: Promise<void> = Promise.resolve();
  private expectingExit = false;
  /** Started and not stopped by us: if it is not alive, it crashed. */
  wanted = false;

  readonly o: ManagedOptions;
  constructor(o: ManagedOptions) { this.o = o; }

  get alive(): boolean { return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null; }
  get pid(): number | undefined { return this.proc?.pid; }
  tail(): string { return this.out?.tail() ?? ''; }

  start(): void {
    if (this.alive) throw new Error(`${this.o.name} already running`);
    const proc = spawn(process.execPath, [...(this.o.nodeArgs ?? []), ...TS_NODE_ARGS, ...this.o.args], { cwd: ROOT, env: this.o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.starts++;
    this.wanted = true;
    this.expectingExit = false;
    this.out = capture(proc, 20_000, this.o.onLine);
    const out = this.out;
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        out.flush();
        if (!this.expectingExit) this.unexpectedExits.push({ code, signal, tail: out.tail().slice(-4000) });
        resolve();
      });
    });
  }

  async waitReady(): Promise<void> {
    if (!this.o.ready) return;
    const until = Date.now() + (this.o.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (!this.alive) throw new Error(`${this.o.name} exited while starting:\n${this.tail().slice(-3000)}`);
      if (await this.o.ready().catch(() => false)) return;
      if (Date.now() > until) throw new Error(`${this.o.name} not ready within ${this.o.readyTimeoutMs ?? 60_000} ms:\n${this.tail().slice(-3000)}`);
      await sleep(200);
    }
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs` if it does not stop); false when it was not running. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<boolean> {
    this.wanted = false;
    if (!this.alive) return false;
    this.expectingExit = true;
    const proc = this.proc!;
    proc.kill(signal);
    const timer = setTimeout(() => { if (this.alive) proc.kill('SIGKILL'); }, graceMs);
    await this.exited;
    clearTimeout(timer);
    if (signal === 'SIGKILL' && proc.signalCode === 'SIGKILL') this.kills++;
    return true;
  }

  /**
   * Whether the life started as start number `starts` came up: answered its readiness probe when it has
   * one, else still running `settleMs` later. A life that died before that is a crash, not a restart.
   */
  async cameUp(starts: number, settleMs = 2000): Promise<boolean> {
    if (this.o.ready) return this.waitReady().then(() => this.starts === starts, () => false);
    await sleep(settleMs);
    return this.alive && this.starts === starts;
  }

  async restart(signal: NodeJS.Signals): Promise<void> {
    await this.stop(signal);
    this.start();
  }
}

const httpOk = (url: string) => async () => (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;

/** One pipeline component kind as its own process (`edge/main/cli.ts start --only <kind>`). */
export function component(run: RunEnv, kind: string, o: { instance?: number; edgePort?: number; env?: Record<string, string>; onLine?: (line: string) => void; nodeArgs?: string[] } = {}): Managed {
  const instance = o.instance ?? 0;
  const env: NodeJS.ProcessEnv = { ...run.env, INSTANCE_ID: String(instance), ...o.env };
  if (kind === 'edge') env.EDGE_PORT = String(o.edgePort ?? 0);
  return new Managed({
    name: `${kind}#${instance}`, args: ['edge/main/cli.ts', 'start', '--only', kind], env, onLine: o.onLine, nodeArgs: o.nodeArgs,
    ready: kind === 'edge' && o.edgePort ? httpOk(`http://127.0.0.1:${o.edgePort}/readyz`) : undefined,
  });
}

/** The paper venue as its own process, so its counts survive every kill of the pipeline. */
export async function paperVenue(run: RunEnv, port?: number): Promise<{ url: string; proc: Managed }> {
  const p = port ?? (await freePort());
  const proc = new Managed({
    name: 'paper-venue', args: ['edge/main/cli.ts', 'paper-venue'], env: { ...run.env, PAPER_VENUE_PORT: String(p) },
    ready: httpOk(`http://127.0.0.1:${p}/v1/health`),
  });
  proc.start();
  await proc.waitReady();
  return { url: `http://127.0.0.1:${p}`, proc };
}

export function kafkaFor(run: RunEnv): Kafka {
  return createKafka(run.runtime, `chaos-${run.tag}`, createLogger('chaos', 'error'));
}

export function codecFor(run: RunEnv): Codec {
  return createCodec(run.runtime.SCHEMA_REGISTRY_URL);
}

/**
 * Desk limits opened wide and signals kept valid for an hour, so the gate's verdicts depend on nothing
 * a fault can change (signals wait in Kafka while a processor is down). Written before any process
 * starts; the decide processor reads `control` from the beginning.
 */
export async function openLimits(run: RunEnv, kafka: Kafka, codec: Codec): Promise<void> {
  const { prepare } = await import('../../edge/main/pipeline.ts');
  await prepare(run.runtime, kafka, codec);
  const producer = kafka.producer();
  await producer.connect();
  const wide = { maxPosition: 1e12, maxOrderQty: 1e9, maxOrderNotional: 1e15, maxGrossExposure: 1e18, dailyLossLimit: 1e15, maxOrdersPerMinute: 1e9, maxSignalAgeMs: 3_600_000 };
  const at = Date.now();
  const records = [{ payload: wide, scope: 'DESK', target: '*' }]
    // Per-symbol defaults are tighter than the desk; a long run of one-sided alerts must not reach them.
    .concat(['AAPL', 'MSFT'].map((s) => ({ payload: { maxPosition: 1e9, maxOrderQty: 1e6 } as typeof wide, scope: 'SYMBOL', target: s })));
  await producer.send({ topic: run.topics.control, acks: -1, messages: records.map((r, i) => controlMessage(codec, run.topics.control, {
    controlId: `chaos-${run.tag}-${i}`, kind: 'LIMITS', scope: r.scope as 'DESK', target: r.target, state: null,
    payload: JSON.stringify(r.payload), actor: 'chaos', reason: 'chaos run', at, hlc: at * 1000 + i,
  })) });
  await producer.disconnect();
}

/** Records on a topic right now (sum of high watermarks): what "nothing was produced" is counted with. */
export async function topicCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Every committed record of some topics, decoded. */
export async function readDecoded<N extends RecordName>(kafka: Kafka, codec: Codec, topic: string, name: N): Promise<RecordTypes[N][]> {
  const out: Promise<RecordTypes[N]>[] = [];
  await readToEnd(kafka, [topic], (_t, m) => { if (m.value) out.push(codec.decode(name, m.value)); });
  return Promise.all(out);
}
