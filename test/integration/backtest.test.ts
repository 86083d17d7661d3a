// `order-router backtest` end to end on the real stack: seeded quotes recorded on a fresh `quotes`
// topic, the crossover run twice over the same window (same output hash, same run id), its fills in
// the analytics store under the run id, `order-router pnl --run <id>` reporting them, and the live
// P&L untouched; the analytics sink's Parquet copy of the quotes replaying to the same bytes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { prepare } from '../../edge/main/pipeline.ts';
import { TS_NODE_ARGS } from '../../streams/runtime/tsNode.ts';
import { createCodec } from '../../schemas/codec.ts';
import { syntheticQuotes } from '../../edge/backtest/synthetic.ts';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { createAnalyticsSink } from '../../analytics/sink/sink.ts';
import { loadAnalyticsConfig } from '../../analytics/config.ts';
import { readQuotesParquet } from '../../edge/backtest/source.ts';
import { isolatedEnv, testKafka, testLog, waitFor } from '../helpers/env.ts';

const run = promisify(execFile);
const env = isolatedEnv();
const cli = (...args: string[]) => run(process.execPath, [...TS_NODE_ARGS, 'edge/main/cli.ts', ...args], { env, cwd: process.cwd() });
const START = Date.parse('2026-11-02T14:30:00Z');

before(async () => {
  const kafka = testKafka(env);
  const codec = createCodec(loadRuntimeEnv(env).SCHEMA_REGISTRY_URL);
  const topics = await prepare(loadRuntimeEnv(env), kafka, codec);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const quotes = syntheticQuotes({ symbols: [{ symbol: 'AAPL', mid: 190, tick: 0.01 }, { symbol: 'MSFT', mid: 410, tick: 0.01 }], start: START, count: 3000, seed: 5 });
  // Record timestamps as the connector would write them (its own time), spread over the partitions.
  await producer.send({
    topic: topics.quotes, acks: -1,
    messages: quotes.map((q, i) => ({ key: `${q.venue}|${q.symbol}`, value: codec.encode(topics.quotes, q), timestamp: String(Math.floor(q.hlc / 1000)), partition: i % 3 })),
  });
  await producer.disconnect();
});

after(() => {});

test('the same window twice: the same output, stored under one run id; pnl --run reports it; live P&L unchanged', async () => {
  const args = ['backtest', '--strategy', 'edge/strategies/examples/maCrossover.ts', '--from', '2026-11-02T14:35:00Z', '--to', '2026-11-02T14:50:00Z'];
  const a = JSON.parse((await cli(...args)).stdout) as { runId: string; outputSha256: string; dir: string; stats: { quotes: number; fills: number } };
  const b = JSON.parse((await cli(...args)).stdout) as typeof a;
  assert.equal(a.outputSha256, b.outputSha256);
  assert.equal(a.runId, b.runId);
  // 15 minutes of two symbols, one quote each per second, both ends included.
  assert.equal(a.stats.quotes, 2 * (15 * 60 + 1));
  assert.ok(a.stats.fills > 0);
  const lines = readFileSync(join(a.dir, 'output.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; value: { type?: string; lastQty?: number; side?: string } });
  const fills = lines.filter((l) => l.kind === 'execution' && (l.value.type === 'FILL' || l.value.type === 'PARTIAL_FILL'));
  assert.equal(fills.length, a.stats.fills);

  const pnl = JSON.parse((await cli('pnl', '--run', a.runId, '--by', 'strategy,symbol', '--format', 'json')).stdout) as { columns: { name: string }[]; rows: unknown[][] };
  const col = (n: string) => pnl.columns.findIndex((c) => c.name === n);
  assert.equal(pnl.rows.length, 1);
  assert.deepEqual([pnl.rows[0][col('strategy')], pnl.rows[0][col('symbol')]], ['trend-1', 'AAPL']);
  assert.equal(pnl.rows[0][col('fills')], fills.length);
  const qty = fills.reduce((n, f) => n + (f.value.lastQty ?? 0), 0);
  assert.equal(pnl.rows[0][col('qty')], qty);

  const live = JSON.parse((await cli('pnl', '--format', 'json')).stdout) as { rows: unknown[][] };
  assert.equal(live.rows.length, 0, 'the live report does not see the backtest');

  const missing = await cli('pnl', '--run', 'bt-nope').catch((e: { code: number; stderr: string }) => e);
  assert.equal((missing as { code: number }).code, 1);
  assert.match((missing as { stderr: string }).stderr, /run: no backtest run bt-nope/);
});

test('the sink\'s Parquet copy of the quotes replays like the topic: same quotes, same output bytes', async () => {
  const args = ['backtest', '--strategy', 'edge/strategies/examples/maCrossover.ts', '--from', '2026-11-02T14:35:00Z', '--to', '2026-11-02T14:50:00Z', '--controls', 'default'];
  const none = await cli(...args, '--source', 'parquet').catch((e: { code: number; stderr: string }) => e) as { code: number; stderr: string };
  assert.equal(none.code, 1, 'no Parquet yet');
  assert.match(none.stderr, /no Parquet quotes under .*\/quotes: the analytics sink writes them/);

  const renv = loadRuntimeEnv(env);
  const kafka = testKafka(env);
  const codec = createCodec(renv.SCHEMA_REGISTRY_URL);
  const sink = createAnalyticsSink({
    kafka, codec, log: testLog(), topics: await prepare(renv, kafka, codec),
    groupId: `${renv.TOPIC_PREFIX}analytics-sink`, config: { ...loadAnalyticsConfig(env), ANALYTICS_FLUSH_MS: 100 },
  });
  await sink.start();
  try {
    const dir = loadAnalyticsConfig(env).ANALYTICS_DIR;
    await waitFor('the sink to write every recorded quote', async () =>
      (await readQuotesParquet(dir, START, START + 3_600_000).catch(() => [])).length === 3000, 60_000);
  } finally {
    await sink.stop();
  }
  type Out = { runId: string; outputSha256: string; source: string; stats: { quotes: number; fills: number } };
  const topic = JSON.parse((await cli(...args)).stdout) as Out;
  const parquet = JSON.parse((await cli(...args, '--source', 'parquet')).stdout) as Out;
  assert.equal(parquet.stats.quotes, 2 * (15 * 60 + 1));
  assert.ok(parquet.stats.fills > 0);
  assert.deepEqual([parquet.outputSha256, parquet.stats], [topic.outputSha256, topic.stats]);
  assert.match(topic.source, /^kafka:/);
  assert.match(parquet.source, /^parquet:.*\/quotes$/);
});

test('--controls live applies the limits on `control` (a strategy limit of 5 denies the ±10 targets); default ignores them', async () => {
  const kafka = testKafka(env);
  const codec = createCodec(loadRuntimeEnv(env).SCHEMA_REGISTRY_URL);
  const topics = await prepare(loadRuntimeEnv(env), kafka, codec);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const limit = {
    controlId: 'bt-limit', kind: 'LIMITS' as const, scope: 'STRATEGY' as const, target: 'trend-1', state: null,
    payload: JSON.stringify({ maxPosition: 5 }), actor: 'test', reason: null, at: Date.now(), hlc: Date.now() * 1000,
  };
  await producer.send({ topic: topics.control, acks: -1, messages: [{ key: 'LIMITS|STRATEGY|trend-1', value: codec.encode(topics.control, limit) }] });
  await producer.disconnect();
  const args = ['backtest', '--strategy', 'edge/strategies/examples/maCrossover.ts', '--from', '2026-11-02T14:35:00Z', '--to', '2026-11-02T14:50:00Z'];
  type Out = { runId: string; dir: string; controlsApplied: number; stats: { signals: number; approved: number; fills: number } };
  const live = JSON.parse((await cli(...args)).stdout) as Out;
  const plain = JSON.parse((await cli(...args, '--controls', 'default')).stdout) as Out;
  assert.equal(live.controlsApplied, 1);
  assert.ok(live.stats.signals > 0);
  assert.equal(live.stats.approved, 0);
  assert.equal(live.stats.fills, 0);
  const denied = readFileSync(join(live.dir, 'output.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; value: { reason?: string } })
    .filter((l) => l.kind === 'decision');
  assert.ok(denied.length > 0 && denied.every((d) => d.value.reason === 'MAX_POSITION'), JSON.stringify(denied.slice(0, 2)));
  assert.equal(plain.controlsApplied, 0);
  assert.ok(plain.stats.fills > 0);
  assert.notEqual(live.runId, plain.runId);
});

test('bad arguments name the argument and change nothing', async () => {
  const r = await cli('backtest', '--strategy', 'edge/strategies/examples/maCrossover.ts', '--from', 'yesterday', '--to', '2026-11-02T14:50:00Z')
    .catch((e: { code: number; stderr: string }) => e) as { code: number; stderr: string };
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--from: "yesterday" is not an ISO 8601 time/);
  const m = await cli('backtest', '--strategy', 'nowhere.ts', '--from', '2026-11-02T14:35:00Z', '--to', '2026-11-02T14:50:00Z')
    .catch((e: { code: number; stderr: string }) => e) as { code: number; stderr: string };
  assert.equal(m.code, 2);
  assert.match(m.stderr, /--strategy: cannot load nowhere.ts/);
  const empty = await run(process.execPath, [...TS_NODE_ARGS, 'edge/main/cli.ts', 'backtest', '--strategy', 'edge/strategies/examples/maCrossover.ts', '--from', '2026-11-02T14:35:00Z', '--to', '2026-11-02T14:50:00Z'],
    { env: { ...env, TOPIC_PREFIX: `${env.TOPIC_PREFIX}nothing.` }, cwd: process.cwd() }).catch((e: { code: number; stderr: string }) => e) as { code: number; stderr: string };
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /no topic .*nothing\.quotes, .*nothing\.control on .*is TOPIC_PREFIX the pipeline's\?/);
  const src = await cli('backtest', '--strategy', 'edge/strategies/examples/maCrossover.ts', '--from', '2026-11-02T14:35:00Z', '--to', '2026-11-02T14:50:00Z', '--source', 's3')
    .catch((e: { code: number; stderr: string }) => e) as { code: number; stderr: string };
  assert.equal(src.code, 2);
  assert.match(src.stderr, /--source: "s3" is neither kafka nor parquet/);
  const cheat = join(mkdtempSync(join(tmpdir(), 'cheat-')), 'cheat.mjs');
  writeFileSync(cheat, `export default { id: 'cheat', onQuote() { if (Math.random() < 0.5) {} } };`);
  const c = await cli('backtest', '--strategy', cheat, '--from', '2026-11-02T14:35:00Z', '--to', '2026-11-02T14:50:00Z')
    .catch((e: { code: number; stderr: string }) => e) as { code: number; stderr: string };
  assert.equal(c.code, 1);
  assert.match(c.stderr, /strategy cheat failed at the quote of paper AAPL 2026-11-02T14:35:00.000Z: strategies may not call Math.random\(\)/);
});
