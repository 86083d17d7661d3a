// Core of the paper venue: books, orders by clientOrderId, order states, fees, amendments, counters and
// knobs. The clock and the reject RNG come in from outside; HTTP-level faults (latency, outage, dropped
// answers) are knobs here but are acted on by server.ts, the only place that knows about requests.
// One order's record, creation and arrival checks live in orderRecord.ts; the interface in venueApi.ts.
import type { VenueEvent, VenueFill, VenueOrderRequest, VenueOrderState } from '../venue.ts';
import { createOrderBook, type SubmitOutcome, type Trade } from './book.ts';
import type { Knobs } from './config.ts';
import { createMarketData } from './marketData.ts';
import { newOrderRecord, validateOrder, type OrderRecord } from './orderRecord.ts';
import { observe } from './stops.ts';
import type { PaperVenue, PaperVenueDeps, PaperVenueStats } from './venueApi.ts';

const round = (value: number, decimals: number): number => Number(value.toFixed(decimals));

export function createPaperVenue({ config, clock, random }: PaperVenueDeps): PaperVenue {
  const instruments = new Map(config.symbols.map((inst) => [inst.symbol, inst]));
  const books = new Map(config.symbols.map((inst) => [inst.symbol, createOrderBook(inst.symbol)]));
  const market = createMarketData({ instruments: config.symbols, books, seed: config.seed, levels: config.mmLevels, start: clock() });
  const byClientId = new Map<string, OrderRecord>();
  const byVenueId = new Map<string, OrderRecord>();
  const open = new Set<OrderRecord>(); // insertion order = arrival order
  const held = new Set<OrderRecord>(); // open but off the book: the fill cap stopped them (see book.ts HELD)
  const fillOwner = new Map<string, OrderRecord>();
  const listeners = new Set<(event: VenueEvent) => void>();
  let knobs: Knobs = { ...config.knobs };
  // Lets expireDue skip its scan of open orders on the hot path until some DAY order is due.
  let nextExpiry = Infinity;
  let venueSeq = 0;
  const stats: Omit<PaperVenueStats, 'openOrders'> = {
    ordersReceived: 0, ordersCreated: 0, duplicatesSeen: 0, fills: 0, rejected: 0, canceled: 0, expired: 0, corrections: 0, busts: 0,
  };

  const snapshot = (rec: OrderRecord): VenueOrderState => ({ ...rec.state, fills: rec.state.fills.map((f) => ({ ...f })) });
  const fee = (price: number, quantity: number): number => round((price * quantity * config.feeBps) / 10_000, 8);
  const emit = (event: VenueEvent): void => {
    for (const listener of listeners) listener(event);
  };
  const emitOrders = (changed: Set<OrderRecord>): void => {
    for (const rec of changed) emit({ kind: 'order', order: snapshot(rec) });
  };
  const refreshFilledQty = (rec: OrderRecord): void => {
    rec.state.filledQty = round(rec.state.fills.reduce((sum, f) => sum + f.quantity, 0), 10);
  };

  function close(rec: OrderRecord, status: 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED', now: number): void {
    rec.book?.cancel(rec.state.venueOrderId);
    open.delete(rec);
    held.delete(rec);
    rec.state.status = status;
    rec.state.venueTime = now;
    if (status === 'CANCELED') stats.canceled += 1;
    if (status === 'EXPIRED') stats.expired += 1;
    if (status === 'REJECTED') stats.rejected += 1;
  }

  function markOpen(rec: OrderRecord, now: number): void {
    rec.state.status = rec.filledLots > 0 ? 'PARTIALLY_FILLED' : 'NEW';
    rec.state.venueTime = now;
    open.add(rec);
    if (rec.expireAt !== null) nextExpiry = Math.min(nextExpiry, rec.expireAt);
  }

  function applyTrades(trades: Trade[], changed: Set<OrderRecord>): void {
    for (const trade of trades) {
      for (const party of [trade.taker, trade.maker]) {
        if (party.owner !== 'CLIENT') continue;
        const rec = byVenueId.get(party.id);
        if (!rec?.units) continue;
        const price = rec.units.toPrice(trade.price);
        const quantity = rec.units.toQuantity(trade.quantity);
        // Per side, so a trade between two of our own orders still gives two distinct fill ids.
        const fill: VenueFill = { tradeId: `${trade.tradeId}-${party.side === 'BUY' ? 'B' : 'S'}`, quantity, price, fee: fee(price, quantity), venueTime: trade.time };
        rec.state.fills.push(fill);
        fillOwner.set(fill.tradeId, rec);
        rec.filledLots += trade.quantity;
        refreshFilledQty(rec);
        stats.fills += 1;
        // A resting maker's status is settled here; the taker's once its submission is done.
        if (party === trade.maker) {
          if (rec.filledLots === rec.qtyLots) close(rec, 'FILLED', trade.time);
          else markOpen(rec, trade.time);
        }
        changed.add(rec);
      }
    }
  }

  function settle(rec: OrderRecord, outcome: SubmitOutcome, now: number): void {
    switch (outcome) {
      case 'FILLED':
        return close(rec, 'FILLED', now);
      case 'CANCELED':
        return close(rec, 'CANCELED', now);
      case 'RESTED':
        return markOpen(rec, now);
      case 'HELD':
        markOpen(rec, now);
        held.add(rec);
        return;
      default: {
        const never: never = outcome;
        throw new Error(`unhandled outcome ${String(never)}`);
      }
    }
  }

  // Runs the order's unfilled lots against its book; maxFill caps what may fill right now. A triggered
  // stop trades as a market order, a triggered stop-limit as a limit order.
  function execute(rec: OrderRecord, maxFill: number | undefined, now: number, changed: Set<OrderRecord>): void {
    if (!rec.book) return;
    const type = rec.type === 'LIMIT' || rec.type === 'STOP_LIMIT' ? 'LIMIT' : 'MARKET';
    const { trades, outcome } = rec.book.submit(
      { id: rec.state.venueOrderId, owner: 'CLIENT', side: rec.state.side, type, limit: rec.limitTicks, quantity: rec.qtyLots - rec.filledLots, tif: rec.tif, maxFill },
      now,
    );
    applyTrades(trades, changed);
    settle(rec, outcome, now);
    changed.add(rec);
  }

  function expireDue(now: number, changed: Set<OrderRecord>): void {
    if (now < nextExpiry) return;
    nextExpiry = Infinity;
    for (const rec of open) {
      if (rec.expireAt === null) continue;
      if (rec.expireAt <= now) {
        close(rec, 'EXPIRED', now);
        changed.add(rec);
      } else {
        nextExpiry = Math.min(nextExpiry, rec.expireAt);
      }
    }
  }

  function submit(request: VenueOrderRequest): { order: VenueOrderState; created: boolean } {
    const now = clock();
    const changed = new Set<OrderRecord>();
    expireDue(now, changed);
    stats.ordersReceived += 1;
    const existing = byClientId.get(request.clientOrderId);
    if (existing) {
      stats.duplicatesSeen += 1;
      emitOrders(changed);
      return { order: snapshot(existing), created: false };
    }
    venueSeq += 1;
    const inst = instruments.get(request.symbol);
    const rec = newOrderRecord(request, `PV-${String(venueSeq).padStart(8, '0')}`, now, inst, books.get(request.symbol) ?? null, config.sessionEnd);
    byClientId.set(request.clientOrderId, rec);
    byVenueId.set(rec.state.venueOrderId, rec);
    stats.ordersCreated += 1;
    const reason = validateOrder(request, rec, inst, () => knobs.rejectRate > 0 && random() < knobs.rejectRate);
    if (reason !== null) {
      rec.state.rejectReason = reason;
      close(rec, 'REJECTED', now);
      changed.add(rec);
    } else if (rec.stop === null) {
      execute(rec, Math.floor(rec.qtyLots * knobs.partialFillRatio), now, changed);
      // The order moved the book: stops watching it may trigger now, not only at the next tick.
      for (const other of [...open]) if (other.stop !== null && other.book === rec.book) watch(other, now, changed);
    } else if (!watch(rec, now, changed)) {
      // Waits off the book for its trigger; cancel and DAY expiry apply as to any open order.
      markOpen(rec, now);
      changed.add(rec);
    }
    emitOrders(changed);
    return { order: snapshot(rec), created: true };
  }

  /** Moves a waiting stop with its book; on trigger it trades at once. True when it triggered. */
  function watch(rec: OrderRecord, now: number, changed: Set<OrderRecord>): boolean {
    if (rec.stop === null || rec.book === null) return false;
    const bid = rec.book.best('BUY')?.price ?? null;
    const ask = rec.book.best('SELL')?.price ?? null;
    const seen = observe(rec.stop, { bid, ask });
    rec.stop = seen.state;
    if (!seen.triggered) return false;
    rec.stop = null;
    execute(rec, Math.floor(rec.qtyLots * knobs.partialFillRatio), now, changed);
    return true;
  }

  function tick(): void {
    const now = clock();
    const changed = new Set<OrderRecord>();
    expireDue(now, changed);
    applyTrades(market.step(now), changed);
    // A held remainder comes back in full: the cap models liquidity that arrives over time.
    for (const rec of [...held]) {
      held.delete(rec);
      execute(rec, undefined, now, changed);
    }
    for (const rec of [...open]) if (rec.stop !== null) watch(rec, now, changed);
    emitOrders(changed);
  }

  function cancel(clientOrderId: string): VenueOrderState | null {
    const rec = byClientId.get(clientOrderId);
    if (!rec) return null;
    const now = clock();
    const changed = new Set<OrderRecord>();
    expireDue(now, changed);
    if (open.has(rec)) {
      close(rec, 'CANCELED', now);
      changed.add(rec);
    }
    emitOrders(changed);
    return snapshot(rec);
  }

  function amend(tradeId: string, apply: (rec: OrderRecord, fill: VenueFill, now: number) => VenueEvent): VenueEvent | null {
    const rec = fillOwner.get(tradeId);
    const fill = rec?.state.fills.find((f) => f.tradeId === tradeId);
    if (!rec || !fill) return null;
    const now = clock();
    const event = apply(rec, fill, now);
    refreshFilledQty(rec);
    rec.state.venueTime = now;
    emit(event);
    return event;
  }

  return {
    submit,
    cancel,
    tick,
    lookup: (id) => {
      const rec = byClientId.get(id);
      return rec ? snapshot(rec) : null;
    },
    openOrders: () => [...open].map(snapshot),
    allOrders: () => [...byClientId.values()].map(snapshot),
    symbols: () => [...instruments.keys()],
    quote(symbol) {
      const top = market.top(symbol);
      if (!top) return null;
      // An empty side reads as price 0, size 0: the market maker always quotes, so it is transient.
      return { symbol, bid: top.bid ?? 0, ask: top.ask ?? 0, bidSize: top.bidSize, askSize: top.askSize, venueTime: clock() };
    },
    knobs: () => ({ ...knobs }),
    setKnobs(patch) {
      knobs = { ...knobs, ...patch };
      return { ...knobs };
    },
    // Amendments restate the venue's record of a fill; the book's liquidity and the order status stay as
    // they were, as with a real venue's after-the-fact statement.
    correctFill: (tradeId, amendment) =>
      amend(tradeId, (rec, fill, now) => {
        for (const v of [amendment.price, amendment.quantity]) {
          if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new RangeError('corrected price and quantity must be > 0');
        }
        fill.price = amendment.price ?? fill.price;
        fill.quantity = amendment.quantity ?? fill.quantity;
        fill.fee = fee(fill.price, fill.quantity);
        stats.corrections += 1;
        return { kind: 'correction', clientOrderId: rec.state.clientOrderId, tradeId, quantity: fill.quantity, price: fill.price, fee: fill.fee, venueTime: now };
      }),
    bustFill: (tradeId) =>
      amend(tradeId, (rec, _fill, now) => {
        rec.state.fills = rec.state.fills.filter((f) => f.tradeId !== tradeId);
        fillOwner.delete(tradeId);
        stats.busts += 1;
        return { kind: 'bust', clientOrderId: rec.state.clientOrderId, tradeId, venueTime: now };
      }),
    stats: () => ({ ...stats, openOrders: open.size }),
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
