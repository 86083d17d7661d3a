// The auditor commands' arguments: argv → a command, or a UsageError naming the bad argument. Pure.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TOPIC } from '../../schemas/topics.ts';
import { UsageError, type RecordFilter } from './records.ts';
import type { ReadFrom } from './topicReader.ts';

export type AuditCommand =
  | { kind: 'replay'; topic: string; from: ReadFrom; filter: RecordFilter; limit: number | null }
  | { kind: 'verify'; json: boolean }
  | { kind: 'trail'; id: string; json: boolean };

export const AUDIT_USAGE = `  order-router replay <topic> [--from-beginning | --from-offset N | --from-time ISO]
                      [--account A] [--strategy S] [--symbol X] [--limit N]
                                                    decoded records as JSON lines; topics: ${Object.values(TOPIC).join(', ')}
  order-router audit verify [--json]                rebuild positions from executions and compare with Postgres
  order-router audit trail <signalId|orderId> [--json]   signal → decision → order → executions, with times`;

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    // node's message names the offending option; its hint about '--' is noise here.
    throw new UsageError((e as Error).message.split('. To specify')[0]);
  }
}

const INTEGER = /^\d+$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseAuditArgs(command: 'replay' | 'audit', argv: string[]): AuditCommand {
  if (command === 'replay') {
    const { values, positionals } = parse(argv, {
      'from-beginning': { type: 'boolean' }, 'from-offset': { type: 'string' }, 'from-time': { type: 'string' },
      account: { type: 'string' }, strategy: { type: 'string' }, symbol: { type: 'string' }, limit: { type: 'string' },
    });
    if (positionals.length === 0) throw new UsageError('<topic>: missing (e.g. replay executions --from-beginning)');
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}" (one topic per replay)`);
    const starts = (['from-beginning', 'from-offset', 'from-time'] as const).filter((k) => values[k] !== undefined);
    if (starts.length > 1) throw new UsageError(`--${starts[0]} and --${starts[1]}: choose one start`);
    let from: ReadFrom = { kind: 'beginning' };
    const offset = values['from-offset'] as string | undefined;
    const time = values['from-time'] as string | undefined;
    if (offset !== undefined) {
      if (!INTEGER.test(offset)) throw new UsageError(`--from-offset: "${offset}" is not a non-negative integer`);
      from = { kind: 'offset', offset: BigInt(offset) };
    }
    if (time !== undefined) {
      const ms = Date.parse(time);
      if (!ISO_TIME.test(time) || Number.isNaN(ms)) throw new UsageError(`--from-time: "${time}" is not an ISO 8601 time (e.g. 2026-01-31T09:30:00Z)`);
      from = { kind: 'time', ms };
    }
    let limit: number | null = null;
    const rawLimit = values.limit as string | undefined;
    if (rawLimit !== undefined) {
      if (!INTEGER.test(rawLimit) || Number(rawLimit) < 1) throw new UsageError(`--limit: "${rawLimit}" is not a positive integer`);
      limit = Number(rawLimit);
    }
    const filter: RecordFilter = {};
    for (const k of ['account', 'strategy', 'symbol'] as const) {
      const v = values[k] as string | undefined;
      if (v === '') throw new UsageError(`--${k}: empty`);
      if (v !== undefined) filter[k] = v;
    }
    return { kind: 'replay', topic: positionals[0], from, filter, limit };
  }
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'verify': {
      const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
      if (positionals.length > 0) throw new UsageError(`verify: unexpected argument "${positionals[0]}"`);
      return { kind: 'verify', json: values.json === true };
    }
    case 'trail': {
      const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
      if (positionals.length !== 1 || positionals[0] === '') throw new UsageError('trail: expected one <signalId | orderId>');
      return { kind: 'trail', id: positionals[0], json: values.json === true };
    }
    case undefined:
      throw new UsageError('missing subcommand (verify or trail)');
    default:
      throw new UsageError(`unknown subcommand "${sub}" (expected verify or trail)`);
  }
}
