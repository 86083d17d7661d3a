// The analytics sink holds quotes before it writes them (ANALYTICS_QUOTES_HOLD_MS): a sink stopped while
// it holds some has written and committed nothing for them, so its successor on the same folder and
// consumer group writes each quote exactly once.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadAnalyticsConfig } from '../../analytics/config.ts';
import { createAnalyticsSink, type AnalyticsSink } from '../../analytics/sink/sink.ts';
import { prepare } from '../../edge/main/pipeline.ts';
import { createCodec } from '../../schemas/codec.ts';
import type { Topics } from '../../schemas/topics.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { isolatedEnv, testKafka, testLog, waitFor } from '../helpers/env.ts';

const env = isolatedEnv();
const QUOTES = 600;
let dir: string;
let topics: Topics;

async function counts(): Promise<{ rows: number; distinct: number }> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    const r = await con.runAndReadAll(`SELECT count(*), count(DISTINCT (kafka_partition, kafka_offset)) FROM read_parquet('${dir}/quotes/*/*.parquet')`)
      .then((x) => x.getRows()[0].map(Number), () => [0, 0]);
    return { rows: r[0], distinct: r[1] };
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

const sink = (holdMs: number): AnalyticsSink => createAnalyticsSink({
  kafka: testKafka(env), codec: createCodec(loadRuntimeEnv(env).SCHEMA_REGISTRY_URL), log: testLog(), topics,
  groupId: `${loadRuntimeEnv(env).TOPIC_PREFIX}analytics-sink`,
  config: { ...loadAnalyticsConfig(env), ANALYTICS_DIR: dir, ANALYTICS_FLUSH_MS: 100, ANALYTICS_QUOTES_HOLD_MS: holdMs },
});

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sink-quotes-'));
  const renv = loadRuntimeEnv(env);
  const kafka = testKafka(env);
  const codec = createCodec(renv.SCHEMA_REGISTRY_URL);
  topics = await prepare(renv, kafka, codec);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const t0 = Date.now();
  await producer.send({
    topic: topics.quotes, acks: -1,
    messages: Array.from({ length: QUOTES }, (_, i) => {
      const symbol = ['AAPL', 'MSFT', 'NVDA'][i % 3];
      return { key: `paper|${symbol}`, partition: i % 3, value: codec.encode(topics.quotes, { venue: 'paper', symbol, bid: 100 + i / 100, ask: 100.02 + i / 100, bidSize: 1, askSize: 2, venueTime: null, hlc: (t0 + i) * 1000 }) };
    }),
  });
  await producer.disconnect();
});

after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

test('a sink stopped while it holds quotes writes none of them; the next one writes each once', async () => {
  // given a sink that holds quotes far longer than the test, stopped once it has read them all
  const first = sink(600_000);
  await first.start();
  await new Promise((r) => setTimeout(r, 4000));
  await first.stop();
  assert.deepEqual(await counts(), { rows: 0, distinct: 0 }, 'held quotes are not written');
  // when a sink with a short hold starts on the same folder and group
  const second = sink(200);
  await second.start();
  try {
    // then every quote is written, once
    await waitFor('every quote in Parquet', async () => (await counts()).rows >= QUOTES, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(await counts(), { rows: QUOTES, distinct: QUOTES });
  } finally {
    await second.stop();
  }
});
