// The quote publisher of a connector runtime: on a timer it reads the venue's quotes for the configured
// symbols and writes them to `quotes` (compacted per venue+symbol). It stays quiet while the venue is
// halted, so a dead venue's last prices are not refreshed as if they were current.
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../schemas/codec.ts';
import { accountHeaders } from '../streams/runtime/consume.ts';
import type { VenueClient } from './venue.ts';
import { message } from './venueGate.ts';

export interface QuotePublisherOptions {
  client: VenueClient; producer: Producer; codec: Codec; topic: string; log: Logger;
  hlc: () => number; symbols?: string[]; intervalMs?: number;
  /** True while the venue is halted (its breaker open). */
  halted(): boolean;
}

export function createQuotePublisher(o: QuotePublisherOptions) {
  const venue = o.client.venue;
  let timer: NodeJS.Timeout | null = null;

  async function publish(): Promise<void> {
    if (!o.client.quotes || !o.symbols?.length || o.halted()) return;
    const quotes = await o.client.quotes(o.symbols);
    await o.producer.send({ topic: o.topic, messages: quotes.map((q) => ({
      key: `${venue}|${q.symbol}`, headers: accountHeaders(`${venue}|${q.symbol}`),
      value: o.codec.encode(o.topic, { venue, symbol: q.symbol, bid: q.bid, ask: q.ask, bidSize: q.bidSize, askSize: q.askSize, venueTime: q.venueTime, hlc: o.hlc() }),
    })) });
  }

  return {
    start(): void {
      if (!o.symbols?.length) return;
      timer = setInterval(() => { publish().catch((e) => o.log.warn({ err: message(e) }, 'quotes not published')); }, o.intervalMs ?? 500);
    },
    stop(): void { if (timer) clearInterval(timer); },
  };
}
