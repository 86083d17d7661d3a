// The backtest's input: the recorded quotes between two times, from the `quotes` topic or from the
// analytics sink's Parquet copy of it. Kafka: each partition's start offset from the broker's
// offsetsForTimes. Either way, quotes are kept by our own time for the quote (its hlc, the clock the gate
// prices with) and replayed in that order, ties broken by partition and offset, so the same records give
// the same sequence on every run and from either source.
import { DuckDBInstance } from '@duckdb/node-api';
import type { Kafka } from 'kafkajs';
import { quotesDataset, recordSelectList } from '../../analytics/columns.ts';
import { hasParquet } from '../../analytics/query/db.ts';
import { datasetView } from '../../analytics/query/views.ts';
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

export class NoParquetQuotes extends Error {
  constructor(root: string) {
    super(`no Parquet quotes under ${root}/quotes: the analytics sink writes them (order-router start --only sink) into ANALYTICS_DIR`);
    this.name = 'NoParquetQuotes';
  }
}

/**
 * The same quotes from the sink's files (`ANALYTICS_DIR/quotes`), through the `quotes` view, so a file a
 * compaction has replaced is not read twice. Unlike the topic, the files keep every quote, whatever the
 * broker has compacted. Only quotes the sink has written are there: it trails the topic by its flush.
 */
export async function readQuotesParquet(root: string, from: number, to: number): Promise<Quote[]> {
  if (!hasParquet(root, quotesDataset)) throw new NoParquetQuotes(root);
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await instance.connect();
  try {
    await con.run(datasetView(root, quotesDataset, true));
    // quoteTime(q) = floor(hlc / 1000), so [from, to] in ms is hlc in [from·1000, (to + 1)·1000).
    const result = await con.stream(`SELECT ${recordSelectList(quotesDataset)}
      FROM ${quotesDataset.view} WHERE hlc >= ${from * 1000} AND hlc < ${(to + 1) * 1000}
      ORDER BY hlc, kafka_partition, kafka_offset`);
    const out: Quote[] = [];
    for await (const rows of result.yieldRowObjectJs()) {
      // Our int64s (hlc, epoch ms) are below 2^53: numbers, as the Avro decoder gives them.
      for (const r of rows) out.push(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])) as unknown as Quote);
    }
    return out;
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}
