// A Kafka broker (and schema registry) of our own, on ports nobody else uses, for scenarios that stop
// Kafka: the shared broker on 9092 serves other people's tests and is never touched. Started by the
// project's own stack script (ORDER_ROUTER_STACK_DIR, KAFKA_BROKERS, SCHEMA_REGISTRY_URL), reusing the
// Kafka jars already resolved into .stack/ so nothing is downloaded again.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { ROOT, sleep } from './harness.ts';

const run = promisify(execFile);

export interface OwnBroker {
  brokers: string;
  registryUrl: string;
  dir: string;
  /** The broker's pid right now. */
  pid(): number | null;
  /** Stops the broker only (the registry stays up): SIGTERM is a clean shutdown, SIGKILL a crash. */
  stopKafka(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the broker again on the same data. */
  startKafka(): Promise<void>;
  /** Everything down, files removed. */
  down(): Promise<void>;
  /** Environment for processes that use this broker. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
}

const portFree = (port: number) => new Promise<boolean>((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

/** A port whose next one is free too (the controller listens on broker port + 1). */
async function pairOfPorts(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const p = 20_000 + Math.floor(Math.random() * 20_000);
    if (await portFree(p) && await portFree(p + 1) && await portFree(p + 2)) return p;
  }
  throw new Error('no free pair of ports for a private broker');
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

export async function startOwnBroker(): Promise<OwnBroker> {
  const port = await pairOfPorts();
  const registryPort = port + 2;
  const dir = mkdtempSync(join(tmpdir(), 'chaos-kafka-'));
  const version = /<kafka.version>(.*)<\/kafka.version>/.exec(readFileSync(join(ROOT, 'scripts/kafka/pom.xml'), 'utf8'))?.[1];
  const shared = join(process.env.ORDER_ROUTER_STACK_DIR ?? join(ROOT, '.stack'), `kafka-${version}`);
  if (existsSync(join(shared, 'libs', '.complete'))) symlinkSync(shared, join(dir, `kafka-${version}`));
  const brokers = `127.0.0.1:${port}`;
  const registryUrl = `http://127.0.0.1:${registryPort}`;
  const stackEnv = { ...process.env, KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl, ORDER_ROUTER_STACK_DIR: dir };
  const stack = async (cmd: string) => { await run('bash', [join(ROOT, 'scripts/stack.sh'), cmd], { env: stackEnv, maxBuffer: 16 * 1024 * 1024 }); };
  const pidOf = () => {
    try { return Number(readFileSync(join(dir, 'kafka.pid'), 'utf8').trim()) || null; } catch { return null; }
  };
  await stack('up');
  return {
    brokers, registryUrl, dir, pid: pidOf,
    async stopKafka(signal = 'SIGTERM') {
      const pid = pidOf();
      if (pid === null || !alive(pid)) return;
      process.kill(pid, signal);
      const until = Date.now() + 60_000;
      while (alive(pid) && Date.now() < until) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(join(dir, 'kafka.pid'), { force: true });
    },
    async startKafka() { await stack('up'); },
    async down() {
      await stack('down').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
    env: (extra = {}) => ({ ...process.env, KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl, ...extra }),
  };
}
