// How `instruments` records (a venue's own rules, published by its connector; compacted, key
// venue|symbol) fold into the control plane: the record replaces what the venue published for that
// symbol before, and the venue's listings are merged again with the cost model's entries
// (streams/router/listing.ts). In log order the latest record wins, as compaction keeps it, so a
// replay of the compacted topic folds to the same listings. Pure; never mutates the config given.
import type { Instrument } from '../../schemas/types.ts';
import { RouterError } from '../../schemas/errors.ts';
import { buildCostModel, withPublished } from '../router/costModel.ts';
import type { Listing } from '../router/listing.ts';
import type { ControlConfig } from './config.ts';

/** A record the fold refuses (not retriable: the record will not improve); the shell logs and skips it. */
export class InvalidInstrumentError extends RouterError {
  readonly field: string;
  constructor(key: string, field: string, message: string) {
    super('INVALID_INSTRUMENT', `instrument ${key}: ${field}: ${message}`, { retriable: false, context: { field } });
    this.field = field;
    this.name = 'InvalidInstrumentError';
  }
}

const NUMBERS = ['lotSize', 'tickSize', 'minQty', 'maxQty', 'minNotional'] as const;

/** The record as a listing, or the first field that cannot be one. */
export function toListing(r: Instrument): { ok: true; listing: Listing } | { ok: false; field: string; message: string } {
  for (const field of ['venue', 'symbol', 'venueSymbol'] as const) {
    if (r[field] === '') return { ok: false, field, message: 'empty' };
  }
  for (const field of NUMBERS) {
    if (!Number.isFinite(r[field]) || r[field] < 0) return { ok: false, field, message: `${r[field]} is not a number ≥ 0` };
  }
  if (r.maxQty > 0 && r.maxQty < r.minQty) return { ok: false, field: 'maxQty', message: `${r.maxQty} < minQty ${r.minQty}` };
  const { venueSymbol, trading, lotSize, tickSize, minQty, maxQty, minNotional } = r;
  return { ok: true, listing: { venueSymbol, trading, lotSize, tickSize, minQty, maxQty, minNotional } };
}

/** Throws InvalidInstrumentError naming the field. */
export function applyInstrument(config: ControlConfig, record: Instrument): ControlConfig {
  const parsed = toListing(record);
  if (!parsed.ok) throw new InvalidInstrumentError(`${record.venue}|${record.symbol}`, parsed.field, parsed.message);
  const venueRules = new Map(config.instrumentRules.get(record.venue) ?? []);
  venueRules.set(record.symbol, parsed.listing);
  const instrumentRules = new Map(config.instrumentRules);
  instrumentRules.set(record.venue, venueRules);
  const model = config.costModel.venues.get(record.venue);
  // A venue without a cost model (no fees, never enabled) is not routed to; its rules wait for one.
  if (model === undefined) return { ...config, instrumentRules };
  const venues = new Map(config.costModel.venues);
  venues.set(record.venue, withPublished(model, venueRules));
  return { ...config, instrumentRules, costModel: buildCostModel(config.costModel, venues) };
}
