// The venue's own instrument rules in the connector: read from the venue on start and daily
// (`instruments(symbols)`, connectors/venueCapabilities.ts), published to the compacted `instruments`
// topic (key venue|symbol) for anyone pricing or sizing for that venue, and checked before an order
// leaves: an order the venue would refuse for its size, tick or notional is rejected here with a reason
// code, without a call to the venue.
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../schemas/codec.ts';
import { ruleBreach, type RuleBreach } from '../schemas/instrumentRules.ts';
import type { Instrument, Order } from '../schemas/types.ts';
import { accountHeaders } from '../streams/runtime/consume.ts';
import { hasInstruments, type VenueInstrument } from './venueCapabilities.ts';
import type { VenueClient } from './venue.ts';

/** A REJECT on `executions` carries `RULE_<code>` and the numbers compared (codes: schemas/instrumentRules.ts). */
export type { RuleBreach };

/**
 * The first rule the order breaks (pure), in the order a venue checks them; null when none. Notional
 * uses the limit price, else the order's arrival mid; without either it is not checked.
 */
export function checkInstrument(o: Pick<Order, 'quantity' | 'orderType' | 'limitPrice' | 'arrivalMid'>, r: VenueInstrument): { code: RuleBreach; detail: string } | null {
  const limit = o.orderType === 'LIMIT' ? o.limitPrice : null;
  const price = o.orderType === 'LIMIT' ? o.limitPrice : o.arrivalMid;
  const code = ruleBreach(r, o.quantity, limit, price);
  if (code === null) return null;
  const detail: Record<RuleBreach, () => string> = {
    NOT_TRADING: () => `${r.venueSymbol} does not trade now`,
    MIN_QTY: () => `quantity ${o.quantity} < minimum ${r.minQty}`,
    MAX_QTY: () => `quantity ${o.quantity} > maximum ${r.maxQty}`,
    LOT_SIZE: () => `quantity ${o.quantity} is not a multiple of ${r.lotSize}`,
    TICK_SIZE: () => `limit ${o.limitPrice} is not a multiple of ${r.tickSize}`,
    MIN_NOTIONAL: () => `notional ${Number((o.quantity * price!).toFixed(8))} < minimum ${r.minNotional}`,
  };
  return { code, detail: detail[code]() };
}

export const instrumentKey = (venue: string, symbol: string): string => `${venue}|${symbol}`;

export const toInstrumentRecord = (venue: string, r: VenueInstrument, readAt: number, hlc: number): Instrument => ({
  venue, symbol: r.symbol, venueSymbol: r.venueSymbol, trading: r.trading, lotSize: r.lotSize, tickSize: r.tickSize,
  minQty: r.minQty, maxQty: r.maxQty, minNotional: r.minNotional, readAt, hlc,
});

export interface InstrumentBookOptions {
  venue: string;
  read(symbols: string[]): Promise<VenueInstrument[]>;
  symbols: string[];
  /** Writes the records (compacted topic, key venue|symbol) or throws. */
  publish(records: { key: string; value: Buffer }[]): Promise<void>;
  codec: Codec;
  topic: string;
  hlc: () => number;
  log: Logger;
  clock?: () => number;
  /** Default a day. A failed read is tried again after a minute. */
  refreshMs?: number;
}

/** The rules this connector read last, by canonical symbol; re-read and re-published on a timer. */
export function createInstrumentBook(o: InstrumentBookOptions) {
  const clock = o.clock ?? Date.now;
  const rules = new Map<string, VenueInstrument>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  async function refresh(): Promise<boolean> {
    try {
      const read = await o.read(o.symbols);
      const at = clock();
      for (const r of read) rules.set(r.symbol, r);
      if (read.length > 0) {
        await o.publish(read.map((r) => ({ key: instrumentKey(o.venue, r.symbol), value: o.codec.encode(o.topic, toInstrumentRecord(o.venue, r, at, o.hlc())) })));
      }
      o.log.info({ symbols: read.map((r) => r.symbol), missing: o.symbols.filter((s) => !rules.has(s)) }, 'instrument rules read from the venue');
      return true;
    } catch (e) {
      // The rules read last stay in force; without any, orders go out unchecked as before.
      o.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'instrument rules not read; kept the previous ones');
      return false;
    }
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = setTimeout(() => { void refresh().then((ok) => schedule(ok ? o.refreshMs ?? 86_400_000 : 60_000)); }, ms);
    timer.unref?.();
  }

  return {
    async start(): Promise<void> { schedule((await refresh()) ? o.refreshMs ?? 86_400_000 : 60_000); },
    refresh,
    rules: (symbol: string): VenueInstrument | undefined => rules.get(symbol),
    /** `RULE_<code>: <numbers>` when the order breaks the rules read last; null when it does not or none were read. */
    refusal(order: Pick<Order, 'symbol' | 'quantity' | 'orderType' | 'limitPrice' | 'arrivalMid'>): string | null {
      const r = rules.get(order.symbol);
      const breach = r ? checkInstrument(order, r) : null;
      return breach ? `RULE_${breach.code}: ${breach.detail}` : null;
    },
    stop(): void { stopped = true; if (timer) clearTimeout(timer); },
  };
}

export type InstrumentBook = ReturnType<typeof createInstrumentBook>;

/** The book of a client that reads instrument rules (null for one that does not, or with no symbols), publishing with `producer`. */
export function instrumentBookFor(client: VenueClient, o: { symbols: string[]; producer: Producer; codec: Codec; topic: string; hlc: () => number; log: Logger }): InstrumentBook | null {
  if (!hasInstruments(client) || o.symbols.length === 0) return null;
  return createInstrumentBook({
    venue: client.venue, symbols: o.symbols, read: (symbols) => client.instruments(symbols), codec: o.codec, topic: o.topic, hlc: o.hlc, log: o.log,
    // Keyed and partitioned by venue|symbol, as `quotes` is.
    publish: async (records) => { await o.producer.send({ topic: o.topic, acks: -1, messages: records.map((r) => ({ ...r, headers: accountHeaders(r.key) })) }); },
  });
}
