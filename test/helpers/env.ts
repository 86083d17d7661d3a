// Test isolation on one shared stack: each test run gets its own topic prefix and Postgres schema.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaMessage } from 'kafkajs';
import { loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { createKafka } from '../../streams/runtime/kafka.ts';
import { createLogger } from '../../streams/runtime/log.ts';
import { readToEnd } from '../../streams/runtime/consume.ts';
import './testLogs.ts'; // component logs of a test file go to its log file

export const TEST_SECRET = 'test-secret-0123456789abcdef';
export const TEST_SECRET_2 = 'rotated-secret-0123456789abcdef';

export function isolatedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const id = randomBytes(4).toString('hex');
  return {
    ...process.env,
    TOPIC_PREFIX: `t${id}.`,
    ANALYTICS_DIR: join(tmpdir(), `order-router-test-${id}`),
    PG_SCHEMA: `t_${id}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    EDGE_PORT: '0',
    ORDER_ROUTER_STRATEGIES: JSON.stringify([
      { id: 'trend-1', account: 'ACC-1', secrets: [TEST_SECRET, TEST_SECRET_2] },
      { id: 'meanrev-2', account: 'ACC-2', secrets: [TEST_SECRET] },
    ]),
    ...extra,
  };
}

export const testLog = () => createLogger('test', process.env.LOG_LEVEL ?? 'warn');

export function testKafka(env: NodeJS.ProcessEnv) {
  return createKafka(loadRuntimeEnv(env), 'test', testLog());
}

/** Every committed record of a topic right now. */
export async function readAll(env: NodeJS.ProcessEnv, topic: string): Promise<KafkaMessage[]> {
  const out: KafkaMessage[] = [];
  await readToEnd(testKafka(env), [topic], (_t, m) => { out.push(m); });
  return out;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30000, everyMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function tradingViewAlert(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    secret: TEST_SECRET, strategy: 'trend-1', ticker: 'NASDAQ:AAPL', action: 'buy', contracts: '10',
    order_id: 'Long', time: new Date().toISOString(), price: '190.12', ...over,
  };
}
