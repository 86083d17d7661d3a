// `order-router replay <topic>`: a topic's records, decoded through the schema registry, as JSON lines on
// stdout. Progress goes to stderr, and only to a terminal, so stdout stays clean for pipes.
import { once } from 'node:events';
import cliProgress from 'cli-progress';
import type { Kafka } from 'kafkajs';
import type { Codec, RecordName, RecordTypes } from '../../schemas/codec.ts';
import { errorCode } from '../../schemas/errors.ts';
import { checkFilter, matches, replayLine, resolveTopic, toJsonLine } from './records.ts';
import type { AuditCommand } from './args.ts';
import { planRanges, readRanges } from './topicReader.ts';

export interface ReplayDeps {
  kafka: Kafka;
  codec: Codec;
  topicPrefix: string;
  out: NodeJS.WritableStream;
  /** Where the progress bar draws; none when absent. */
  progressTo?: NodeJS.WriteStream;
}

export interface ReplaySummary { topic: string; read: number; printed: number; undecodable: number }

export async function replay(d: ReplayDeps, cmd: Extract<AuditCommand, { kind: 'replay' }>): Promise<ReplaySummary> {
  const t = resolveTopic(cmd.topic, d.topicPrefix);
  checkFilter(t, cmd.filter);
  const ranges = await planRanges(d.kafka, t.topic, cmd.from);
  const summary: ReplaySummary = { topic: t.topic, read: 0, printed: 0, undecodable: 0 };
  const bar = d.progressTo ? new cliProgress.SingleBar({ stream: d.progressTo, format: `${t.topic} {bar} {value}/{total} records | {eta_formatted} left`, etaBuffer: 200 }, cliProgress.Presets.shades_classic) : null;
  bar?.start(Number(ranges.reduce((n, r) => n + (r.end - r.start), 0n)), 0);
  let closed = false;
  // A reader that went away (`| head`) ends the replay quietly instead of crashing it.
  d.out.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') closed = true; });
  try {
    await readRanges(d.kafka, t.topic, ranges, async (partition, m) => {
      if (closed) return 'stop';
      summary.read++;
      let value: RecordTypes[RecordName] | null = null;
      let error: string | undefined;
      if (m.value !== null) {
        try {
          value = await d.codec.decode(t.record, m.value);
        } catch (e) {
          summary.undecodable++;
          error = `${errorCode(e)}: ${(e as Error).message}`;
        }
      }
      if (error === undefined && !matches(value, cmd.filter)) return;
      const line = replayLine(t.topic, partition, m, value);
      const text = toJsonLine(error === undefined ? line : { ...line, error, raw: m.value! });
      summary.printed++;
      if (!d.out.write(`${text}\n`)) await once(d.out, 'drain').catch(() => { closed = true; });
      if (closed || (cmd.limit !== null && summary.printed >= cmd.limit)) return 'stop';
    }, (p) => bar?.update(Number(p.read)));
  } finally {
    bar?.stop();
  }
  return summary;
}
