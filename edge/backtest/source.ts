// The backtest's input: the recorded `quotes` topic between two times. The start offset of each
// partition comes from the broker's offsetsForTimes; records are kept by our own time for the quote
// (its hlc, the clock the gate prices with) and replayed in that order, ties broken by partition and
// offset, so the same topic gives the same sequence on every run.
import type { Kafka } from 'kafkajs';
import type { Codec } from '../../schemas/codec.ts';
import type { Quote } from '../../schemas/types.ts';
import { planRanges, readRanges, type ReadProgress } from '../../streams/audit/topicReader.ts';
import { quoteTime } from '../../streams/router/costModel.ts';

interface Keyed { q: Quote; partition: number; offset: bigint }

export async function readQuotes(
  kafka: Kafka, codec: Codec, topic: string, from: number, to: number, onProgress?: (p: ReadProgress) => void,
): Promise<Quote[]> {
  const ranges = await planRanges(kafka, topic, { kind: 'time', ms: from });
  const kept: Keyed[] = [];
  await readRanges(kafka, topic, ranges, async (partition, m) => {
    if (m.value === null) return;
    const q = await codec.decode('Quote', m.value);
    const t = quoteTime(q);
    if (t >= from && t <= to) kept.push({ q, partition, offset: BigInt(m.offset) });
  }, onProgress);
  kept.sort((a, b) => a.q.hlc - b.q.hlc || a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  return kept.map((k) => k.q);
}
