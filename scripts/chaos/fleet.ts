// A whole pipeline as child processes: every component kind this checkout has (edge, decide,
// connector, projection, and sink when edge/main/pipeline.ts has it), N instances each, in front of a
// paper venue process. What every process-level scenario starts from, and how it ends.
import { rmSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import type { Codec } from '../../schemas/codec.ts';
import { codecFor, component, freePort, hasSink, kafkaFor, KINDS, openLimits, paperVenue, waitUntil, type Managed, type RunEnv } from './harness.ts';

export interface Fleet {
  run: RunEnv;
  kafka: Kafka;
  codec: Codec;
  venueUrl: string;
  venue: Managed;
  /** What the connector talks to (the venue, or a fault proxy in front of it). */
  connectorVenueUrl: string;
  procs: Map<string, Managed[]>;
  edgeUrls: string[];
  analyticsDir: string | null;
  all(): Managed[];
  /** Waits until every edge answers /readyz. */
  ready(): Promise<void>;
  /** SIGTERM everything (SIGKILL after a grace period), then the venue; drops the run's topics and schema. */
  stop(o?: { keepData?: boolean }): Promise<void>;
}

export interface FleetOptions {
  instances?: number;
  kinds?: readonly string[];
  /** Put something (a fault proxy) between the connector and the venue: venue URL → connector URL. */
  connectorUrl?: (venueUrl: string) => Promise<string> | string;
  env?: Record<string, string>;
  /** Sees every line the edge processes print (secret scans). */
  onEdgeLine?: (line: string) => void;
  /** Node flags for every component process (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

export async function startFleet(run: RunEnv, o: FleetOptions = {}): Promise<Fleet> {
  const kafka = kafkaFor(run);
  const codec = codecFor(run);
  await openLimits(run, kafka, codec);
  const venue = await paperVenue(run);
  const connectorVenueUrl = o.connectorUrl ? await o.connectorUrl(venue.url) : venue.url;
  const kinds = (o.kinds ?? KINDS).filter((k) => KINDS.includes(k));
  const analyticsDir = kinds.includes('sink') && hasSink() ? run.env.ANALYTICS_DIR! : null;
  const env: Record<string, string> = { PAPER_VENUE_URL: connectorVenueUrl, ...o.env };
  const procs = new Map<string, Managed[]>();
  const edgeUrls: string[] = [];
  for (const kind of kinds) {
    const list: Managed[] = [];
    for (let i = 0; i < (o.instances ?? 1); i++) {
      const edgePort = kind === 'edge' ? await freePort() : undefined;
      if (edgePort) edgeUrls.push(`http://127.0.0.1:${edgePort}`);
      list.push(component(run, kind, { instance: i, edgePort, env, onLine: kind === 'edge' ? o.onEdgeLine : undefined, nodeArgs: o.nodeArgs }));
    }
    procs.set(kind, list);
  }
  const all = () => [...procs.values()].flat();
  // Migrations take an advisory lock, so concurrent starts are safe.
  for (const p of all()) p.start();
  const fleet: Fleet = {
    run, kafka, codec, venueUrl: venue.url, venue: venue.proc, connectorVenueUrl, procs, edgeUrls, analyticsDir, all,
    async ready() {
      await Promise.all((procs.get('edge') ?? []).map((p) => p.waitReady()));
    },
    async stop(so = {}) {
      await Promise.all(all().map((p) => p.stop('SIGTERM', 20_000)));
      await venue.proc.stop('SIGTERM', 5_000);
      if (!so.keepData) await dropRunData(run, kafka);
    },
  };
  await fleet.ready();
  return fleet;
}

/** Topics and Postgres schema of a finished run: the shared stack is not a dumping ground. */
export async function dropRunData(run: RunEnv, kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(run.runtime.TOPIC_PREFIX));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 10_000 });
  } catch { /* best effort */ } finally {
    await admin.disconnect().catch(() => {});
  }
  if (run.env.ANALYTICS_DIR) rmSync(run.env.ANALYTICS_DIR, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: run.runtime.DATABASE_URL });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(run.runtime.PG_SCHEMA)} CASCADE`);
  } catch { /* best effort */ } finally {
    await client.end().catch(() => {});
  }
}

/** The end of every process's output, for a report that has to explain a failure. */
export function tails(f: Fleet, chars = 3000): Record<string, string> {
  return Object.fromEntries(f.all().map((p) => [p.o.name, p.tail().slice(-chars)]));
}

/** Processes that died without being asked to, with the end of their output. */
export function crashes(f: Fleet): string[] {
  return f.all().concat(f.venue).flatMap((p) => p.unexpectedExits.map((x) => `${p.o.name} exited (code ${x.code}, signal ${x.signal}): ${x.tail.split('\n').filter(Boolean).slice(-3).join(' | ').slice(0, 600)}`));
}

/** Restarts any process that died on its own (what an orchestrator does) and says which. */
export function reviveCrashed(f: Fleet): string[] {
  const revived: string[] = [];
  for (const p of f.all()) {
    if (p.wanted && !p.alive) {
      p.start();
      revived.push(p.o.name);
    }
  }
  return revived;
}

export { waitUntil };
