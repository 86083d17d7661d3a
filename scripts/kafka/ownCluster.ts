// A KRaft cluster of our own (KAFKA_NODES combined broker+controller nodes and a schema registry) on
// free loopback ports, for tests and chaos scenarios that kill brokers: the shared stack on 9092 serves
// other people and is never touched. Started and stopped by the project's stack script
// (ORDER_ROUTER_STACK_DIR in a temporary directory), reusing the Kafka jars already in .stack/.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { quorumLeader } from './cluster.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

export interface OwnCluster {
  nodes: number;
  /** Every broker, comma-separated: what KAFKA_BROKERS must say. */
  brokers: string;
  registryUrl: string;
  dir: string;
  /** Broker port of node `id` (1-based; the node id is also its broker id). */
  port(id: number): number;
  pid(id: number): number | null;
  running(): number[];
  /** Sends `signal` to node `id` and waits for it to exit. */
  kill(id: number, signal?: NodeJS.Signals): Promise<void>;
  /** `stack.sh up`: starts whatever node is down and waits until the cluster has all its brokers and a quorum leader. */
  up(): Promise<void>;
  /** The controller quorum's leader as the running nodes see it. */
  quorumLeader(): number | null;
  /** Everything down, files removed. */
  down(): Promise<void>;
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
}

const kafkaVersion = () => /<kafka.version>(.*)<\/kafka.version>/.exec(readFileSync(join(ROOT, 'scripts/kafka/pom.xml'), 'utf8'))?.[1] ?? '';
const sharedKafka = () => join(process.env.ORDER_ROUTER_STACK_DIR ?? join(ROOT, '.stack'), `kafka-${kafkaVersion()}`);
const has = (cmd: string) => { try { execFileSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; } };

/** Why a cluster cannot be started here (a reason for `skip`), or null. */
export function clusterUnavailable(): string | null {
  if (!has('java')) return 'java is not installed (apt-get install -y openjdk-17-jre-headless; .ci/run installs it)';
  if (!existsSync(join(sharedKafka(), 'libs', '.complete')) && !has('mvn')) return 'mvn is not installed and the Kafka jars are not in .stack/ (apt-get install -y maven)';
  return null;
}

const portFree = (port: number) => new Promise<boolean>((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

/** `count` consecutive free ports. */
async function freeRange(count: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const p = 20_000 + 2 * Math.floor(Math.random() * 10_000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await portFree(p + i);
    if (ok) return p;
  }
  throw new Error(`no ${count} consecutive free ports for a private cluster`);
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startOwnCluster(o: { nodes?: number } = {}): Promise<OwnCluster> {
  const nodes = o.nodes ?? 3;
  const base = await freeRange(2 * nodes + 1);
  const ids = Array.from({ length: nodes }, (_, i) => i + 1);
  const port = (id: number) => base + 2 * (id - 1);
  const registryUrl = `http://127.0.0.1:${base + 2 * nodes}`;
  const brokers = ids.map((id) => `127.0.0.1:${port(id)}`).join(',');
  const dir = mkdtempSync(join(tmpdir(), 'kafka-cluster-'));
  if (existsSync(join(sharedKafka(), 'libs', '.complete'))) symlinkSync(sharedKafka(), join(dir, `kafka-${kafkaVersion()}`));
  const stackEnv = { ...process.env, KAFKA_NODES: String(nodes), KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl, ORDER_ROUTER_STACK_DIR: dir };
  const stack = async (cmd: string) => { await run('bash', [join(ROOT, 'scripts/stack.sh'), cmd], { env: stackEnv, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 }); };
  const pid = (id: number) => {
    try { return Number(readFileSync(join(dir, `kafka-node-${id}.pid`), 'utf8').trim()) || null; } catch { return null; }
  };
  const running = () => ids.filter((id) => { const p = pid(id); return p !== null && alive(p); });
  const cluster: OwnCluster = {
    nodes, brokers, registryUrl, dir, port, pid, running,
    async kill(id, signal = 'SIGKILL') {
      const p = pid(id);
      if (p === null || !alive(p)) return;
      process.kill(p, signal);
      const until = Date.now() + 60_000;
      while (alive(p) && Date.now() < until) await sleep(50);
      if (alive(p)) process.kill(p, 'SIGKILL');
      rmSync(join(dir, `kafka-node-${id}.pid`), { force: true });
    },
    up: () => stack('up'),
    quorumLeader: () => quorumLeader(dir, running(), nodes)?.leaderId ?? null,
    async down() {
      await stack('down').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
    env: (extra = {}) => ({ ...process.env, KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl, ...extra }),
  };
  try {
    await stack('up');
  } catch (e) {
    const logs = ids.map((id) => { try { return readFileSync(join(dir, `kafka-node-${id}`, 'server.log'), 'utf8').slice(-1500); } catch { return ''; } }).join('\n');
    await cluster.down();
    throw new Error(`cluster did not start: ${(e as { stderr?: string }).stderr ?? String(e)}\n${logs}`);
  }
  return cluster;
}
