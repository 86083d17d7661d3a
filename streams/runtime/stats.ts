// What one process asks of Kafka and Postgres, for the benchmark: Kafka requests by API and Postgres
// queries (each one round trip). Counting is on only when ORDER_ROUTER_STATS_DIR names a folder; then
// the process writes `<dir>/<pid>.json` with its totals whenever it receives SIGUSR2, so the bench can
// take a snapshot before and after a load and divide the difference by the alerts. Off, it costs nothing.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import type pg from 'pg';

export interface ProcessStats { pid: number; kafkaRequests: Record<string, number>; pgQueries: number }

const dir = process.env.ORDER_ROUTER_STATS_DIR;
const kafkaRequests: Record<string, number> = Object.create(null) as Record<string, number>;
let pgQueries = 0;
let listening = false;

function listen(): void {
  if (listening || dir === undefined) return;
  listening = true;
  mkdirSync(dir, { recursive: true });
  process.on('SIGUSR2', () => {
    const s: ProcessStats = { pid: process.pid, kafkaRequests: { ...kafkaRequests }, pgQueries };
    const file = join(dir, `${process.pid}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(s));
    renameSync(`${file}.tmp`, file); // the bench never reads half a file
  });
}

/** Counts every request `client` sends (it and whatever it makes share the process totals). */
function countKafkaRequests<T extends Producer | Consumer | Admin>(client: T): T {
  if (dir === undefined) return client;
  listen();
  const on = client.on.bind(client) as (event: string, listener: (e: { payload: { apiName: string } }) => void) => unknown;
  on(client.events.REQUEST, ({ payload }) => { kafkaRequests[payload.apiName] = (kafkaRequests[payload.apiName] ?? 0) + 1; });
  return client;
}

/** Every producer, consumer and admin `kafka` makes from now on is counted. */
export function countingKafka(kafka: Kafka): Kafka {
  if (dir === undefined) return kafka;
  const producer = kafka.producer.bind(kafka);
  const consumer = kafka.consumer.bind(kafka);
  const admin = kafka.admin.bind(kafka);
  kafka.producer = (c) => countKafkaRequests(producer(c));
  kafka.consumer = (c) => countKafkaRequests(consumer(c));
  kafka.admin = (c) => countKafkaRequests(admin(c));
  return kafka;
}

/** Counts every query any client of `pool` sends. */
export function countPgQueries(pool: pg.Pool): pg.Pool {
  if (dir === undefined) return pool;
  listen();
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as { query: unknown }).query = (...a: unknown[]) => { pgQueries++; return query(...a); };
  });
  return pool;
}
