// The shadow filler: reads twins from `orders-shadow`, fills each as the paper venue would against
// the latest quotes on `quotes`, and records the result in shadow_fills. It never writes to
// `executions`, so shadow fills stay out of positions and P&L.
import type { Kafka, KafkaMessage } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Codec } from '../../../schemas/codec.ts';
import type { Quote } from '../../../schemas/types.ts';
import { usableMid } from '../../../streams/router/costModel.ts';
import { startTail, type Tail } from '../../../streams/runtime/tail.ts';
import type { Topics } from '../../../schemas/topics.ts';
import { readShadowMeta } from '../../../streams/shadow/headers.ts';
import { simulateFill } from './simulate.ts';
import { insertShadowFill } from '../../../streams/shadow/store.ts';

export interface ShadowFillerOptions { kafka: Kafka; pool: pg.Pool; codec: Codec; topics: Topics; log: Logger; maxQuoteAgeMs?: number }

export function createShadowFiller(o: ShadowFillerOptions) {
  const maxAge = o.maxQuoteAgeMs ?? 5_000;
  /** symbol → venue → latest quote */
  const quotes = new Map<string, Map<string, Quote>>();
  let tail: Tail | null = null;

  /** The shadow venue's own quote when it has a usable one, else the freshest usable quote of any venue. */
  function quoteFor(venue: string, symbol: string, at: number): Quote | undefined {
    const bySymbol = quotes.get(symbol);
    const own = bySymbol?.get(venue);
    if (own !== undefined && usableMid(own, at, maxAge) !== null) return own;
    let best: Quote | undefined;
    for (const q of bySymbol?.values() ?? []) if (usableMid(q, at, maxAge) !== null && (best === undefined || q.hlc > best.hlc)) best = q;
    return best;
  }

  async function onRecord(topic: string, m: KafkaMessage): Promise<void> {
    if (m.value === null) return;
    try {
      if (topic === o.topics.quotes) {
        const q = await o.codec.decode('Quote', m.value);
        let bySymbol = quotes.get(q.symbol);
        if (bySymbol === undefined) quotes.set(q.symbol, (bySymbol = new Map()));
        bySymbol.set(q.venue, q);
        return;
      }
      const twin = await o.codec.decode('Order', m.value);
      const meta = readShadowMeta(m.headers);
      if (meta === null) {
        o.log.warn({ orderId: twin.orderId }, 'twin without shadow headers skipped');
        return;
      }
      const fill = simulateFill(twin, quoteFor(twin.venue, twin.symbol, twin.createdAt), twin.createdAt, maxAge);
      await insertShadowFill(o.pool, {
        shadowOrderId: twin.orderId, liveOrderId: meta.liveOrderId, liveVenue: meta.liveVenue, liveQuantity: meta.liveQuantity ?? twin.quantity,
        venue: twin.venue, symbol: twin.symbol, side: twin.side, quantity: twin.quantity, filledQty: fill.filledQty, fillPrice: fill.price,
        arrivalMid: twin.arrivalMid, estimatedBps: meta.estimatedBps, liveEstimatedBps: meta.liveEstimatedBps, feeBps: meta.feeBps,
      });
    } catch (e) {
      o.log.error({ err: e, topic, offset: m.offset }, 'shadow record skipped');
    }
  }

  return {
    async start() {
      tail = await startTail(o.kafka, [o.topics.quotes, o.topics.ordersShadow], onRecord);
      await tail.caughtUp;
    },
    async stop() {
      await tail?.stop();
    },
  };
}
