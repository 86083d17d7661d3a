// The hub: feeds the store from Kafka (decisions, orders, executions, control, quotes) and Postgres
// (positions, today's P&L), and refreshes lag and venue health on a timer. Browsers never talk to
// Kafka or Postgres; every one of them reads the same store through /dashboard/events.
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Codec } from '../../schemas/codec.ts';
import { foldOutcome, listUnknown, type UnknownOrders } from '../../schemas/orderOutcome.ts';
import type { Topics } from '../../schemas/topics.ts';
import { startTail, type Tail } from '../../streams/runtime/tail.ts';
import { buildBook, dayCurve, livePoint, mid, markKey, utcDayStart, type PositionRow, type StrategyDayRow } from './book.ts';
import {
  applyControl, applyExecution, applyVenueStats, decisionView, fillView, isFillLike, orderView, venueViews,
  type ConnectorReport, type OrderView, type StateView, type VenueStats,
} from './feed.ts';
import { readLag, type ConsumerSpec } from './lag.ts';
import { readDayHistory, readPositions, readProjectedOffsets, readStrategyDay } from './queries.ts';
import { reconcile, type DuckResult } from './recon.ts';
import { startRecentTail, type RecentTail } from './recentTail.ts';
import { createStore, type Curve, type Store } from './store.ts';

/** A connector running in this process: its runtime status and the venue client's health call. */
export interface ConnectorProbe {
  venue: string;
  status(): { state: string; reason: string | null; streamSilent: boolean };
  health(): Promise<{ up: boolean; latencyMs: number | null; detail: string | null }>;
}

export interface HubOptions {
  kafka: Kafka; codec: Codec; pool: pg.Pool; topics: Topics; log: Logger;
  strategies: readonly { id: string; account: string }[];
  consumers: readonly ConsumerSpec[];
  venues: readonly string[];
  connectors: readonly ConnectorProbe[];
  recentPerPartition: number;
  refreshMs: number;
  clock?: () => number;
  /** The DuckDB P&L over the sink's Parquet files, when the process has it: the page checks Postgres against it. */
  analytics?: { pnl(o: { by: ('account' | 'symbol' | 'venue')[] }): Promise<DuckResult> } | null;
  /** Called with each lag reading (Prometheus gauges). */
  onLag?: (lag: ReturnType<Store['get']>['lag']) => void;
}

export interface Hub { store: Store; stop(): Promise<void> }

const PROBE_EVERY_MS = 10_000;
const PROBE_TIMEOUT_MS = 3_000;
const PROJECTION_WAIT_MS = 5_000;
const RECON_EVERY_MS = 2_000;
/** Consumer lag while nobody watches the dashboard (see tick). */
const LAG_UNWATCHED_EVERY_MS = 30_000;
/** Between fills the curve gains a point at most this often, from marks moving. */
const CURVE_STEP_MS = 10_000;

export async function startHub(o: HubOptions): Promise<Hub> {
  const clock = o.clock ?? Date.now;
  const log = o.log;
  const marks = new Map<string, number>();
  let rows: { positions: PositionRow[]; strategyDay: StrategyDayRow[] } = { positions: [], strategyDay: [] };
  const book = () => buildBook({ ...rows, marks, strategyAccounts: o.strategies });

  async function loadCurve(now: number): Promise<Curve> {
    const dayStart = utcDayStart(now);
    const h = await readDayHistory(o.pool, dayStart);
    const { points, base } = dayCurve(dayStart, h.start, h.startMarks, h.events);
    return { dayStart, base, points };
  }
  const dayStart = utcDayStart(clock());
  rows = { positions: await readPositions(o.pool), strategyDay: await readStrategyDay(o.pool, dayStart) };
  const store = createStore({
    book: book(), curve: await loadCurve(clock()), decisions: [], orders: [], fills: [], states: [], unknownOrders: [], venues: [], lag: [], recon: null,
    targets: { accounts: [...new Set(o.strategies.map((s) => s.account))].sort(), strategies: o.strategies.map((s) => s.id).sort(), venues: [...o.venues].sort() },
    caughtUp: false,
  });

  // ---- Postgres: positions and P&L, re-read once the projection holds what the feed has seen ----
  const awaited = new Map<number, bigint>(); // executions partition → offset the projection must pass
  let refreshing: Promise<void> | null = null, again = false, marksMoved = false, venuesDirty = true, stopped = false;
  const projection = o.consumers.find((c) => c.offsets === 'postgres');

  async function projected(): Promise<boolean> {
    if (!projection || awaited.size === 0) return true;
    const done = await readProjectedOffsets(o.pool, projection.groupId, projection.topic);
    return [...awaited].every(([p, off]) => (done.get(p) ?? -1n) > off);
  }

  function publishBook(fill: boolean): void {
    const next = book();
    const s = store.get();
    if (JSON.stringify(next) !== JSON.stringify(s.book)) store.publish({ type: 'book', book: next });
    const last = s.curve.points[s.curve.points.length - 1];
    const point = livePoint(clock(), next.totals, s.curve.base);
    const moved = !last || point.realized !== last.realized || point.fees !== last.fees || point.unrealized !== last.unrealized;
    if (moved && (fill || !last || point.t - last.t >= CURVE_STEP_MS)) store.publish({ type: 'pnl', point });
  }

  function refreshBook(): void {
    if (stopped) return;
    if (refreshing) { again = true; return; }
    refreshing = (async () => {
      const until = clock() + PROJECTION_WAIT_MS;
      const target = new Map(awaited);
      // Waiting for the projection keeps the page equal to Postgres; past the wait it shows what Postgres has.
      while (!(await projected()) && clock() < until) await new Promise((r) => setTimeout(r, 100));
      for (const [p, off] of target) if (awaited.get(p) === off) awaited.delete(p);
      rows = { positions: await readPositions(o.pool), strategyDay: await readStrategyDay(o.pool, store.get().curve.dayStart) };
      publishBook(true);
    })().catch((e) => log.warn({ err: e }, 'dashboard: positions not refreshed')).finally(() => {
      refreshing = null;
      if (again) { again = false; refreshBook(); }
    });
  }

  // ---- Kafka: the live feed ----
  const orders = new Map<string, OrderView>();
  const stats = new Map<string, VenueStats>();
  let states: StateView[] = [];
  let unknown: UnknownOrders = new Map();
  const connectorReports = new Map<string, ConnectorReport>();

  async function onRecord(topic: string, m: KafkaMessage, partition: number): Promise<void> {
    if (m.value === null) return;
    try {
      if (topic === o.topics.riskDecisions) {
        store.publish({ type: 'decision', decision: decisionView(await o.codec.decode('RiskDecision', m.value)) });
      } else if (topic === o.topics.orders) {
        const order = await o.codec.decode('Order', m.value);
        const known = orders.get(order.orderId);
        const view = known ? { ...known, ...orderView(order), status: known.status, filledQty: known.filledQty, avgPrice: known.avgPrice, reason: known.reason, updatedAt: known.updatedAt } : orderView(order);
        remember(view);
      } else if (topic === o.topics.executions) {
        const e = await o.codec.decode('ExecutionReport', m.value);
        const order = applyExecution(orders.get(e.orderId), e);
        stats.set(e.venue, applyVenueStats(stats.get(e.venue), e, orders.get(e.orderId)));
        venuesDirty = true;
        remember(order);
        if (isFillLike(e.type)) {
          store.publish({ type: 'fill', fill: fillView(e) });
          const off = BigInt(m.offset);
          if ((awaited.get(partition) ?? -1n) < off) awaited.set(partition, off);
          refreshBook();
        }
      }
    } catch (e) {
      log.warn({ err: e, topic, partition, offset: m.offset }, 'dashboard: record skipped');
    }
  }

  function remember(order: OrderView): void {
    orders.delete(order.orderId);
    orders.set(order.orderId, order);
    // Map order is insertion order: the oldest go first.
    while (orders.size > 1000) orders.delete(orders.keys().next().value!);
    store.publish({ type: 'order', order });
  }

  async function onCompacted(topic: string, m: KafkaMessage): Promise<void> {
    if (m.value === null) return;
    try {
      if (topic === o.topics.quotes) {
        const q = await o.codec.decode('Quote', m.value);
        marks.set(markKey(q.venue, q.symbol), mid(q));
        marksMoved = true;
      } else {
        const c = await o.codec.decode('Control', m.value);
        const next = applyControl(states, c), outcomes = foldOutcome(unknown, c);
        if (next !== null) { states = next; store.publish({ type: 'states', states }); venuesDirty = true; }
        if (outcomes !== unknown) { unknown = outcomes; store.publish({ type: 'unknownOrders', orders: listUnknown(unknown) }); }
      }
    } catch (e) {
      log.warn({ err: e, topic, offset: m.offset }, 'dashboard: record skipped');
    }
  }

  // ---- timers: marks, venues, lag, probes, the day's rollover ----
  let admin: Admin | null = null;
  let lastProbe = 0, lastRecon = 0, lastLag = 0, ticking = false, reconciling = false;
  const warned = new Set<string>();
  const warnOnce = (what: string, e: unknown) => {
    if (!warned.has(what)) log.warn({ err: e }, `dashboard: ${what} failed (further failures logged at debug)`);
    else log.debug({ err: e }, `dashboard: ${what} failed`);
    warned.add(what);
  };

  async function probe(c: ConnectorProbe): Promise<void> {
    const t0 = clock();
    const s = c.status();
    try {
      const h = await Promise.race([c.health(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('health check timed out')), PROBE_TIMEOUT_MS))]);
      connectorReports.set(c.venue, { ...s, probeMs: h.latencyMs ?? clock() - t0, probeUp: h.up, probeDetail: h.detail });
    } catch (e) {
      connectorReports.set(c.venue, { ...s, probeMs: null, probeUp: false, probeDetail: e instanceof Error ? e.message : String(e) });
    }
  }

  async function tick(): Promise<void> {
    if (ticking || stopped) return;
    ticking = true;
    try {
      const now = clock();
      if (utcDayStart(now) !== store.get().curve.dayStart) {
        store.publish({ type: 'curve', curve: await loadCurve(now) });
        rows = { ...rows, strategyDay: await readStrategyDay(o.pool, utcDayStart(now)) };
        marksMoved = true;
      }
      if (marksMoved) { marksMoved = false; publishBook(false); }
      if (now - lastProbe >= PROBE_EVERY_MS) { lastProbe = now; await Promise.all(o.connectors.map(probe)); venuesDirty = true; }
      for (const c of o.connectors) {
        const r = connectorReports.get(c.venue);
        if (r && (r.state !== c.status().state || r.streamSilent !== c.status().streamSilent)) { connectorReports.set(c.venue, { ...r, ...c.status() }); venuesDirty = true; }
      }
      if (venuesDirty) {
        venuesDirty = false;
        const v = venueViews(o.venues, stats, states, connectorReports);
        if (JSON.stringify(v) !== JSON.stringify(store.get().venues)) store.publish({ type: 'venues', venues: v });
      }
      // Not awaited: the P&L query waits its turn behind ad-hoc queries (analytics/query/queryProcess.ts), up
      // to their time limits, and the lag and venue refresh must not wait with it.
      if (o.analytics && !reconciling && now - lastRecon >= RECON_EVERY_MS) {
        lastRecon = now;
        reconciling = true;
        void checkRecon(o.analytics).finally(() => { reconciling = false; });
      }
      // Lag costs a dozen Kafka requests a reading: every tick while someone watches, else every
      // LAG_UNWATCHED_EVERY_MS (the `consumer_lag` gauges on /metrics are then that old at most).
      if (store.watchers() > 0 || now - lastLag >= LAG_UNWATCHED_EVERY_MS) try {
        lastLag = now;
        if (!admin) { const a = o.kafka.admin(); await a.connect(); admin = a; }
        const lag = await readLag(admin, o.pool, o.consumers);
        o.onLag?.(lag);
        if (JSON.stringify(lag) !== JSON.stringify(store.get().lag)) store.publish({ type: 'lag', lag });
      } catch (e) {
        warnOnce('consumer lag', e);
        // A fresh admin next time, in case this one lost its broker.
        await admin?.disconnect().catch(() => {});
        admin = null;
      }
    } catch (e) {
      warnOnce('refresh', e);
    } finally {
      ticking = false;
    }
  }

  async function checkRecon(db: NonNullable<HubOptions['analytics']>): Promise<void> {
    const prev = store.get().recon;
    let next;
    try {
      next = reconcile(clock(), rows.positions, await db.pnl({ by: ['account', 'symbol', 'venue'] }));
    } catch (e) {
      warnOnce('DuckDB P&L', e);
      next = { at: clock(), rows: prev?.rows ?? [], matched: 0, total: prev?.total ?? 0, error: 'DuckDB P&L unavailable' };
    }
    if (stopped) return;
    // `at` is when the comparison last changed, so an unchanged one is not re-sent every few seconds.
    if (prev === null || JSON.stringify({ ...next, at: 0 }) !== JSON.stringify({ ...prev, at: 0 })) store.publish({ type: 'recon', recon: next });
  }

  let recent: RecentTail | null = null, compacted: Tail | null = null;
  const stopTails = async () => {
    const r = recent, c = compacted;
    recent = null;
    compacted = null;
    await r?.stop().catch(() => {});
    await c?.stop().catch(() => {});
  };
  const timer = setInterval(() => { void tick(); }, o.refreshMs);
  // The edge waits neither for the tails' consumer groups to form nor for the read-back (browsers get
  // it as deltas if they connect sooner): intake must not depend on the dashboard. A tail that cannot
  // start is tried again; one stopped before it caught up rejects, and there is nothing to publish.
  const feeding = (async () => {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        compacted = await startTail(o.kafka, [o.topics.control, o.topics.quotes], onCompacted);
        if (stopped) return;
        recent = await startRecentTail(o.kafka, [o.topics.riskDecisions, o.topics.orders, o.topics.executions], o.recentPerPartition, onRecord);
        Promise.all([compacted.caughtUp, recent.caughtUp]).then(() => { if (!stopped) store.publish({ type: 'caughtUp' }); }, () => {});
        return;
      } catch (e) {
        await stopTails();
        warnOnce('feed start', e);
        await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 5_000)));
      }
    }
  })();
  void tick();

  return {
    store,
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (ticking) await new Promise((r) => setTimeout(r, 20));
      await feeding;
      await stopTails();
      await refreshing;
      await admin?.disconnect();
    },
  };
}
