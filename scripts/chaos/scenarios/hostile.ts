// Hostile input against a real listening edge (its own process, ops API included): every generated
// request must get a 4xx, nothing may reach `signals` or `control`, the process must stay up, and no
// configured secret or token may appear in any line the edge prints. Then the ops roles (a viewer
// cannot halt or change limits) and the read-only SQL endpoint (no writes, no file access).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signatureHeader } from '../../../edge/auth.ts';
import { createHttpClient, type HttpClient } from '../client.ts';
import { dropRunData } from '../fleet.ts';
import { component, freePort, kafkaFor, runEnv, topicCount, type RunEnv } from '../harness.ts';
import { HOSTILE_CATEGORIES, hostileCase } from '../hostileCases.ts';
import type { Progress } from './common.ts';

export interface HostileOptions { requests: number; concurrency?: number; onProgress?: (p: Progress) => void }

export interface HostileResult {
  tried: number;
  refused: number;
  byStatus: Record<string, number>;
  byCategory: Record<string, { tried: number; refused: number }>;
  /** Requests that did not get a 4xx (each a finding), a few examples. */
  notRefused: string[];
  notRefusedCount: number;
  requestsPerSec: number;
  signalsProduced: number;
  controlsProduced: number;
  edgeStayedUp: boolean;
  edgeCrashes: number;
  logLines: number;
  /** Lines holding a configured secret or token (must be 0); the secret itself is never printed. */
  secretLeaks: string[];
  roles: { check: string; status: number; ok: boolean }[];
  replay: { sent: number; firstStatus: number; repeats: Record<string, number>; signalsProduced: number };
  sql: { target: string; checks: { sql: string; status: number; code: string; ok: boolean }[]; fileWritten: boolean };
  positive: { validAlertStatus: number; signalsProduced: number };
}

/** Lines of output that hold any of `secrets` (whole, or their first 12 characters). */
export function scanForSecrets(run: RunEnv) {
  const needles = run.secrets.flatMap((s, i) => [{ i, text: s }, { i, text: s.slice(0, 12) }]);
  let lines = 0;
  const leaks: string[] = [];
  return {
    line(l: string) {
      lines++;
      for (const n of needles) {
        if (l.includes(n.text) && leaks.length < 20) leaks.push(`secret #${n.i} (${n.text.length === 12 ? 'prefix' : 'whole'}) in: ${l.replaceAll(n.text, '<SECRET>').slice(0, 300)}`);
      }
    },
    result: () => ({ lines, leaks }),
  };
}

const SQL_ATTACKS = (dir: string, marker: string) => [
  `INSERT INTO fills VALUES (1)`,
  `CREATE TABLE t AS SELECT 1`,
  `DROP VIEW fills`,
  `COPY (SELECT 42) TO '${marker}'`,
  `EXPORT DATABASE '${marker}'`,
  `ATTACH '${marker}' AS x`,
  `SELECT * FROM read_text('/etc/passwd')`,
  `SELECT * FROM read_csv_auto('/proc/self/environ')`,
  `SELECT * FROM read_blob('/etc/hostname')`,
  `SELECT * FROM glob('/etc/*')`,
  `SELECT * FROM '/etc/passwd'`,
  `SELECT * FROM read_text('${dir}/../../../../etc/passwd')`,
  `SELECT * FROM read_parquet('${dir}/../../../../etc/*')`,
  `SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')`,
  `INSTALL httpfs`,
  `LOAD httpfs`,
  `SET enable_external_access = true`,
  `PRAGMA enable_external_access`,
  `SELECT 1; DROP VIEW fills`,
  `WITH x AS (SELECT 1) INSERT INTO y SELECT * FROM x`,
  `CALL pragma_database_list()`,
  `SELECT * FROM read_text('/etc/passwd') -- ' `,
  `/* */ COPY fills TO '${marker}'`,
  `SELECT current_setting('enable_external_access') AS v, * FROM read_text('/etc/passwd')`,
];

async function sqlChecks(client: HttpClient, url: string, auth: Record<string, string>, dir: string, marker: string) {
  const checks: HostileResult['sql']['checks'] = [];
  for (const sql of SQL_ATTACKS(dir, marker)) {
    const r = await client.request(`${url}/analytics/query`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ sql }) });
    let code = '';
    try { code = (JSON.parse(r.body) as { error?: { code?: string } }).error?.code ?? ''; } catch { /* not JSON */ }
    // Refused, and nothing from a file outside the data folder in the answer.
    const leaked = /root:|PATH=|HOME=/.test(r.body);
    checks.push({ sql, status: r.status, code, ok: r.status >= 400 && r.status < 500 && !leaked });
  }
  return checks;
}

/** The SQL endpoint: on the edge when it serves /analytics/query, else mounted alone over an empty data folder. */
async function sqlEndpoint(client: HttpClient, edgeUrl: string, run: RunEnv): Promise<HostileResult['sql']> {
  const marker = join(tmpdir(), `chaos-sql-${run.tag}`);
  const probe = await client.request(`${edgeUrl}/analytics/query`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${run.tokens.viewer}` }, body: JSON.stringify({ sql: 'SELECT 1' }),
  });
  if (probe.status !== 404) {
    const checks = await sqlChecks(client, edgeUrl, { authorization: `Bearer ${run.tokens.viewer}` }, run.env.ANALYTICS_DIR ?? './data/analytics', marker);
    const fileWritten = existsSync(marker);
    rmSync(marker, { recursive: true, force: true });
    return { target: 'POST /analytics/query on the edge', checks, fileWritten };
  }
  const dir = mkdtempSync(join(tmpdir(), `chaos-analytics-${run.tag}-`));
  const Fastify = (await import('fastify')).default;
  const { analyticsRoutes } = await import('../../../analytics/query/routes.ts');
  const { openAnalyticsDb } = await import('../../../analytics/query/db.ts');
  const db = await openAnalyticsDb({ dir, timeoutMs: 5000, maxRows: 100, threads: 1 });
  const app = Fastify();
  await app.register(analyticsRoutes, { db });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const checks = await sqlChecks(client, url, {}, dir, marker);
    const fileWritten = existsSync(marker);
    return { target: 'analytics/query/routes.ts mounted alone (the edge does not serve /analytics/query yet)', checks, fileWritten };
  } finally {
    await app.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(marker, { recursive: true, force: true });
  }
}

export async function runHostile(o: HostileOptions): Promise<HostileResult> {
  const run = runEnv('hostile', process.env, { LOG_LEVEL: 'debug' });
  const kafka = kafkaFor(run);
  const scan = scanForSecrets(run);
  const port = await freePort();
  const edge = component(run, 'edge', { edgePort: port, onLine: (l) => scan.line(l) });
  const url = `http://127.0.0.1:${port}`;
  const client = createHttpClient(o.concurrency ?? 32);
  edge.start();
  try {
    await edge.waitReady();
    const [signals0, control0] = await Promise.all([topicCount(kafka, run.topics.signals), topicCount(kafka, run.topics.control)]);
    const ctx = { strategies: run.strategies, tokens: run.tokens, now: Date.now() };
    const byStatus: Record<string, number> = {};
    const byCategory: Record<string, { tried: number; refused: number }> = Object.fromEntries(HOSTILE_CATEGORIES.map((c) => [c, { tried: 0, refused: 0 }]));
    const notRefused: string[] = [];
    let next = 0, done = 0, refused = 0, notRefusedCount = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: o.concurrency ?? 32 }, async () => {
      while (next < o.requests) {
        const i = next++;
        // Signatures age: refresh the clock the cases are built with now and then.
        ctx.now = Date.now();
        const c = hostileCase(ctx, i);
        let status = 0;
        let error = '';
        try {
          status = (await client.request(url + c.path, { method: c.method, headers: c.headers, body: c.body, timeoutMs: 15_000, fresh: c.closesConnection })).status;
        } catch (e) { error = (e as { code?: string }).code ?? String(e); }
        // A request the edge refuses by closing the socket on it (oversized headers or body) may end in
        // EPIPE or a reset before its 4xx is read: refused all the same; what reached Kafka is counted below.
        const cut = status === 0 && c.closesConnection === true && (error === 'EPIPE' || error === 'ECONNRESET');
        byStatus[cut ? `closed (${error})` : status] = (byStatus[cut ? `closed (${error})` : status] ?? 0) + 1;
        const cat = byCategory[c.category] ?? (byCategory[c.category] = { tried: 0, refused: 0 });
        cat.tried++;
        if ((status >= 400 && status < 500) || cut) { refused++; cat.refused++; } else {
          notRefusedCount++;
          if (notRefused.length < 20) notRefused.push(`#${i} ${c.category} / ${c.what}: ${c.method} ${c.path.slice(0, 80)} → ${status || `no answer (${error})`}`);
        }
        if (++done % 500 === 0) o.onProgress?.({ phase: 'hostile', done, total: o.requests, detail: `refused ${refused}` });
      }
    }));
    const elapsed = (performance.now() - t0) / 1000;
    const health = await client.request(`${url}/healthz`).catch(() => ({ status: 0 }));
    const [signals1, control1] = await Promise.all([topicCount(kafka, run.topics.signals), topicCount(kafka, run.topics.control)]);

    // Roles: a viewer reads but cannot halt or change limits; an operator halts but cannot change limits.
    const bearer = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
    const roleChecks: [string, string, string, Record<string, string>, string | undefined, number][] = [
      ['viewer reads limits', 'GET', '/ops/limits', { authorization: `Bearer ${run.tokens.viewer}` }, undefined, 200],
      ['viewer halts the desk', 'POST', '/ops/halt', bearer(run.tokens.viewer), '{"scope":"desk","reason":"x"}', 403],
      ['viewer halts a venue', 'POST', '/ops/halt', bearer(run.tokens.viewer), '{"scope":"venue","target":"paper"}', 403],
      ['viewer resumes the desk', 'POST', '/ops/resume', bearer(run.tokens.viewer), '{"scope":"desk"}', 403],
      ['viewer sets desk limits', 'PUT', '/ops/limits/desk/*', bearer(run.tokens.viewer), '{"maxPosition":1}', 403],
      ['viewer clears account limits', 'DELETE', '/ops/limits/account/CHAOS-0', { authorization: `Bearer ${run.tokens.viewer}` }, undefined, 403],
      ['operator sets desk limits', 'PUT', '/ops/limits/desk/*', bearer(run.tokens.operator), '{"maxPosition":1}', 403],
      ['no token halts', 'POST', '/ops/halt', { 'content-type': 'application/json' }, '{"scope":"desk"}', 401],
    ];
    const roles: HostileResult['roles'] = [];
    for (const [check, method, path, headers, body, want] of roleChecks) {
      const r = await client.request(url + path, { method, headers, body });
      roles.push({ check, status: r.status, ok: r.status === want });
    }
    const control2 = await topicCount(kafka, run.topics.control);

    // A captured, correctly signed request replayed within the skew window is a repeat, not a new signal.
    const s = run.strategies[0];
    const body = JSON.stringify({ strategy: s.id, symbol: 'AAPL', intent: 'delta', side: 'buy', quantity: 1, idempotencyKey: `replay-${run.tag}` });
    const headers = { 'content-type': 'application/json', 'x-signature': signatureHeader(s.secrets[1], Math.floor(Date.now() / 1000), body) };
    const first = await client.request(`${url}/signals`, { method: 'POST', headers, body });
    const repeats: Record<string, number> = {};
    await Promise.all(Array.from({ length: 200 }, async () => {
      const r = await client.request(`${url}/signals`, { method: 'POST', headers, body });
      repeats[r.status] = (repeats[r.status] ?? 0) + 1;
    }));
    const signals2 = await topicCount(kafka, run.topics.signals);

    // And the edge still takes a good alert.
    const valid = await client.request(`${url}/webhooks/tradingview`, {
      method: 'POST', headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ secret: s.secrets[0], strategy: s.id, ticker: 'NASDAQ:MSFT', action: 'buy', contracts: '2', idempotency_key: `valid-${run.tag}` }),
    });
    const signals3 = await topicCount(kafka, run.topics.signals);

    const sql = await sqlEndpoint(client, url, run);
    const alive = edge.alive && health.status === 200;
    await edge.stop('SIGTERM');
    const { lines, leaks } = scan.result();
    return {
      tried: done, refused, byStatus, byCategory, notRefused, notRefusedCount, requestsPerSec: Math.round(done / elapsed),
      signalsProduced: signals1 - signals0, controlsProduced: control1 - control0 + (control2 - control1),
      edgeStayedUp: alive, edgeCrashes: edge.unexpectedExits.length, logLines: lines, secretLeaks: leaks, roles,
      replay: { sent: 201, firstStatus: first.status, repeats, signalsProduced: signals2 - signals1 },
      sql, positive: { validAlertStatus: valid.status, signalsProduced: signals3 - signals2 },
    };
  } finally {
    client.close();
    await edge.stop('SIGKILL');
    await dropRunData(run, kafka);
  }
}
