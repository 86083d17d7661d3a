// Analytics sink benchmark: one million synthetic fills, generated in memory, through the sink's own
// path minus Kafka (position fold → Arrow record batches → Parquet files → manifest), then the P&L
// report by strategy and day over the files. Run alone: node scripts/bench/sink.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { executionsDataset, ordersDataset, type Dataset, type RowContext } from '../../analytics/columns.ts';
import { openAnalyticsDb } from '../../analytics/query/db.ts';
import { emptyManifest, type Manifest } from '../../analytics/sink/manifest.ts';
import { createParquetWriter } from '../../analytics/sink/parquet.ts';
import { createPnlFold, type PnlFold } from '../../analytics/pnlFold.ts';
import { writeBatch } from '../../analytics/sink/store.ts';
import type { ExecutionReport, Order, Side } from '../../schemas/types.ts';
import { HLC_SCALE } from '../../schemas/hlc.ts';
import { createLogger } from '../../streams/runtime/log.ts';

export interface SinkBenchResult {
  eventsPerSec: number;
  pnlQueryMs: number;
  fills: number;
  orders: number;
  files: number;
  /** The first P&L query, before DuckDB has seen the files. */
  pnlQueryColdMs: number;
  writeSeconds: number;
  /** CPU time of the whole process (JS and DuckDB threads) for the fills: a figure other load cannot skew. */
  cpuSeconds: number;
  fillsPerCpuSecond: number;
}

const PARTITIONS = 3;
const BATCH = 50_000;
const ACCOUNTS = ['ACC-1', 'ACC-2', 'ACC-3', 'ACC-4', 'ACC-5', 'ACC-6'];
const STRATEGIES = ['trend-1', 'meanrev-2', 'breakout-3', 'pairs-4'];
const SYMBOLS: [string, number][] = [['AAPL', 190], ['MSFT', 420], ['BTCUSD', 65000], ['ETHUSD', 3200], ['EURUSD', 1.08]];
const VENUES = ['paper', 'alpaca', 'binance'];
const DAYS = 5;

/** A deterministic generator, so two runs write the same files. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Trade { partition: number; order: Order; fills: ExecutionReport[] }

/**
 * `n` fills of one partition's accounts (partitioned by account like the pipeline), 1–3 fills per order,
 * spread over DAYS days.
 */
function* generate(n: number, partition: number): Generator<Trade> {
  const rand = rng(42 + partition);
  const accounts = ACCOUNTS.filter((_, i) => i % PARTITIONS === partition);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
  const mids = new Map(SYMBOLS);
  const start = Date.UTC(2026, 10, 18);
  const step = (DAYS * 86_400_000) / n;
  let made = 0;
  for (let orderCount = 0; made < n; orderCount++) {
    const account = pick(accounts);
    const [symbol] = pick(SYMBOLS);
    const mid = mids.get(symbol)! * (1 + (rand() - 0.5) * 0.002);
    mids.set(symbol, mid);
    const side: Side = rand() < 0.5 ? 'BUY' : 'SELL';
    const strategy = pick(STRATEGIES);
    const venue = pick(VENUES);
    const orderId = `o-${partition}-${orderCount}`;
    const parts = Math.min(n - made, 1 + Math.floor(rand() * 3));
    const qty = 1 + Math.floor(rand() * 100);
    const ms = start + made * step;
    const order: Order = {
      orderId, clientOrderId: `c${orderId}`, signalId: `s${orderId}`, decisionId: `d${orderId}`, account, strategy, symbol, venue,
      side, quantity: qty * parts, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC', stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null,
      signalPrice: mid * (1 + (rand() - 0.5) * 0.001), arrivalMid: mid, createdAt: ms, hlc: ms * HLC_SCALE,
    };
    const fills: ExecutionReport[] = [];
    for (let k = 0; k < parts; k++, made++) {
      const price = mid * (1 + (side === 'BUY' ? 1 : -1) * rand() * 0.0005);
      const t = ms + 1 + k;
      fills.push({
        executionId: `${venue}-${orderId}-${k}`, type: k === parts - 1 ? 'FILL' : 'PARTIAL_FILL', orderId, clientOrderId: order.clientOrderId,
        venueOrderId: `v${orderId}`, venueTradeId: `t-${partition}-${made}`, signalId: order.signalId, account, strategy, symbol, venue, side,
        lastQty: qty, lastPrice: price, cumQty: qty * (k + 1), leavesQty: qty * (parts - k - 1), fee: price * qty * 0.0001,
        feeAsset: null, feeInAsset: null, netQty: null, refExecutionId: null, reason: null, venueTime: t, recordedAt: t, hlc: t * HLC_SCALE + 1,
      });
    }
    yield { partition, order, fills };
  }
}

type Writer = Awaited<ReturnType<typeof createParquetWriter>>;

/**
 * Streams one dataset of the generated trades through the sink's write path, partitions side by side
 * (as the sink consumes them), a batch at a time as per Kafka fetch. Returns wall seconds, generation
 * of the synthetic records included.
 */
async function writeDataset<T>(dir: string, writer: Writer, dataset: Dataset<T>, n: number, pick: (t: Trade) => T[], fold: boolean) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const one = async (p: number) => {
    let m: Manifest = emptyManifest(dataset.name, p);
    const f: PnlFold | null = fold ? createPnlFold() : null;
    let rows: RowContext<T>[] = [];
    let events = 0;
    const flush = async () => {
      if (f) {
        const effects = f.applyBatch(rows.map((r) => r.rec as ExecutionReport));
        rows.forEach((r, i) => { r.pnl = effects[i]; });
      }
      m = await writeBatch({ root: dir, writer, dataset, manifest: m, rows, nextOffset: rows[rows.length - 1].offset + 1 });
      rows = [];
    };
    for (const t of generate(Math.floor(n / PARTITIONS) + (p < n % PARTITIONS ? 1 : 0), p)) {
      for (const rec of pick(t)) {
        rows.push({ rec, partition: p, offset: m.nextOffset + rows.length, pnl: null });
        events++;
        if (rows.length >= BATCH) await flush();
      }
    }
    if (rows.length > 0) await flush();
    return { events, files: m.files.length };
  };
  const parts = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => one(p)));
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    events: parts.reduce((k, x) => k + x.events, 0),
    files: parts.reduce((k, x) => k + x.files, 0),
  };
}

export async function benchSink(n = 1_000_000): Promise<SinkBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'sink-bench-'));
  const writer = await createParquetWriter();
  try {
    const orders = await writeDataset(dir, writer, ordersDataset, n, (t) => [t.order], false);
    const fills = await writeDataset(dir, writer, executionsDataset, n, (t) => t.fills, true);
    const writeSeconds = fills.seconds;

    const db = await openAnalyticsDb({ dir, timeoutMs: 60_000, maxRows: 100_000 });
    try {
      const time = async () => {
        const s = performance.now();
        const r = await db.pnl({ by: ['strategy', 'day'] });
        if (r.rows.length !== STRATEGIES.length * DAYS) throw new Error(`P&L by strategy and day: ${r.rows.length} rows`);
        return performance.now() - s;
      };
      const cold = await time();
      const warm = [await time(), await time(), await time(), await time(), await time()].sort((a, b) => a - b);
      return {
        eventsPerSec: Math.round(fills.events / writeSeconds), pnlQueryMs: Math.round(warm[2]), fills: fills.events,
        orders: orders.events, files: orders.files + fills.files, pnlQueryColdMs: Math.round(cold), writeSeconds: Math.round(writeSeconds * 100) / 100,
        cpuSeconds: Math.round(fills.cpuSeconds * 100) / 100, fillsPerCpuSecond: Math.round(fills.events / fills.cpuSeconds),
      };
    } finally {
      db.close();
    }
  } finally {
    writer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  createLogger('bench', 'error');
  benchSink().then((r) => { console.log(JSON.stringify(r, null, 2)); process.exit(0); }, (e: unknown) => { console.error(e); process.exit(1); });
}
