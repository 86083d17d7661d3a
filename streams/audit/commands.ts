// The auditor commands' composition root: environment → Kafka, registry, Postgres → one command.
// Output (records, reports) goes to stdout; logs and progress to stderr.
import type pg from 'pg';
import { createCodec } from '../../schemas/codec.ts';
import { createPool } from '../runtime/db.ts';
import { loadRuntimeEnv } from '../runtime/env.ts';
import { createKafka } from '../runtime/kafka.ts';
import { createLogger } from '../runtime/log.ts';
import { topicNames } from '../../schemas/topics.ts';
import { AUDIT_USAGE, parseAuditArgs } from './args.ts';
import { formatReport } from './compare.ts';
import { UsageError } from './records.ts';
import { replay } from './replay.ts';
import { formatTrail } from './timeline.ts';
import { auditTrail } from './trail.ts';
import { verifyAudit } from './verify.ts';

export { AUDIT_USAGE };

export interface AuditIo { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream & { isTTY?: boolean }; env: NodeJS.ProcessEnv }

const defaultIo = (): AuditIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/** Runs `replay …` or `audit …`; resolves to the process exit code (0 ok, 1 differences or nothing found, 2 usage). */
export async function runAuditCommand(command: 'replay' | 'audit', argv: string[], io: AuditIo = defaultIo()): Promise<number> {
  let cmd;
  try {
    cmd = parseAuditArgs(command, argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`${command}: ${e.message}\nusage:\n${AUDIT_USAGE}\n`);
    return 2;
  }
  const env = loadRuntimeEnv(io.env);
  const log = createLogger('order-router-audit', env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL, io.stderr);
  const kafka = createKafka(env, 'audit', log);
  const codec = createCodec(env.SCHEMA_REGISTRY_URL);
  const topics = topicNames(env.TOPIC_PREFIX);
  const println = (line: string) => io.stdout.write(`${line}\n`);

  switch (cmd.kind) {
    case 'replay': {
      try {
        const s = await replay({ kafka, codec, topicPrefix: env.TOPIC_PREFIX, out: io.stdout, progressTo: io.stderr.isTTY ? io.stderr as NodeJS.WriteStream : undefined }, cmd);
        if (s.undecodable > 0) io.stderr.write(`${s.undecodable} records could not be decoded (printed with "error" and "raw")\n`);
        return 0;
      } catch (e) {
        if (e instanceof UsageError) { io.stderr.write(`replay: ${e.message}\n`); return 2; }
        throw e;
      }
    }
    case 'verify': {
      const pool = createPool(env, 2);
      try {
        const consumer = await projectionConsumer(pool, topics.executions, `${env.TOPIC_PREFIX}order-router-projection`);
        const report = await verifyAudit({ kafka, codec, pool, schema: env.PG_SCHEMA, topic: topics.executions, consumer });
        if (cmd.json) println(JSON.stringify(report));
        else for (const line of formatReport(report)) println(line);
        return report.ok ? 0 : 1;
      } catch (e) {
        if ((e as { code?: string }).code === '42P01') {
          io.stderr.write(`audit verify: schema "${env.PG_SCHEMA}" has no projection tables (has the pipeline run with this PG_SCHEMA?)\n`);
          return 2;
        }
        throw e;
      } finally {
        await pool.end();
      }
    }
    case 'trail': {
      const pool = createPool(env, 2);
      try {
        const trail = await auditTrail({ kafka, codec, topics, pool }, cmd.id);
        if (cmd.json) println(JSON.stringify(trail));
        else for (const line of formatTrail(trail)) println(line);
        return trail.steps.length > 0 ? 0 : 1;
      } finally {
        await pool.end();
      }
    }
    default: {
      const unknown: never = cmd;
      throw new Error(`unhandled audit command ${JSON.stringify(unknown)}`);
    }
  }
}

/** The projection's name in consumer_offsets: the only one on the topic, else the pipeline's default. */
async function projectionConsumer(pool: pg.Pool, topic: string, fallback: string): Promise<string> {
  const { rows } = await pool.query<{ consumer: string }>('SELECT DISTINCT consumer FROM consumer_offsets WHERE topic = $1', [topic]);
  return rows.length === 1 ? rows[0].consumer : fallback;
}
