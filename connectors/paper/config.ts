// Configuration of the paper venue: one zod schema, defaults only here, parsed once and frozen.
import { z } from 'zod';

const instrumentSchema = z.object({
  symbol: z.string().min(1),
  startPrice: z.number().positive(),
  /** Standard deviation of the mid's log return per square-root second (0.0003 ≈ 3 bps per √s). */
  volatility: z.number().nonnegative(),
  spreadBps: z.number().positive(),
  lotSize: z.number().positive(),
  tickSize: z.number().positive(),
  /** Market maker size at the best level, in instrument units; deeper levels quote more. */
  quoteSize: z.number().positive(),
});

// Fields without defaults, so the run-time patch (PUT /v1/admin/knobs) can reuse them as optional.
const knobFields = {
  latencyMs: z.number().int().min(0).max(60_000),
  rejectRate: z.number().min(0).max(1),
  /** Fraction of an incoming order the book may fill at once; the rest rests, waits or cancels per TIF. */
  partialFillRatio: z.number().min(0).max(1),
  outage: z.boolean(),
  dropResponses: z.boolean(),
};

export const knobsSchema = z.object({
  latencyMs: knobFields.latencyMs.default(0),
  rejectRate: knobFields.rejectRate.default(0),
  partialFillRatio: knobFields.partialFillRatio.default(1),
  outage: knobFields.outage.default(false),
  dropResponses: knobFields.dropResponses.default(false),
});

export const knobsPatchSchema = z.object(knobFields).partial().strict();

const DEFAULT_SYMBOLS = [
  { symbol: 'AAPL', startPrice: 190, volatility: 0.0003, spreadBps: 2, lotSize: 1, tickSize: 0.01, quoteSize: 200 },
  { symbol: 'MSFT', startPrice: 420, volatility: 0.0003, spreadBps: 2, lotSize: 1, tickSize: 0.01, quoteSize: 100 },
  { symbol: 'BTCUSD', startPrice: 65000, volatility: 0.0006, spreadBps: 1, lotSize: 0.0001, tickSize: 0.01, quoteSize: 1 },
  { symbol: 'ETHUSD', startPrice: 3200, volatility: 0.0007, spreadBps: 1.5, lotSize: 0.001, tickSize: 0.01, quoteSize: 10 },
  { symbol: 'EURUSD', startPrice: 1.08, volatility: 0.0001, spreadBps: 0.5, lotSize: 1000, tickSize: 0.00001, quoteSize: 1_000_000 },
];

export const paperConfigSchema = z
  .object({
    symbols: z.array(instrumentSchema).min(1).default(DEFAULT_SYMBOLS),
    /** Fee per fill, in bps of notional, maker and taker alike. */
    feeBps: z.number().min(0).default(1),
    seed: z.number().int().default(42),
    /** Market data step period; 0 disables the timer (tests then drive the venue by hand). */
    tickMs: z.number().int().min(0).default(100),
    /** Market maker levels per side. */
    mmLevels: z.number().int().min(1).max(50).default(5),
    /** DAY orders expire at this UTC wall-clock time (HH:MM). */
    sessionEnd: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (UTC)').default('21:00'),
    /** Events kept in memory for replay (GET /v1/events?since=). */
    eventBufferSize: z.number().int().min(1).default(100_000),
    /** Upper bound on how long a withheld answer (dropResponses) keeps its connection open. */
    maxHoldMs: z.number().int().min(1).default(30_000),
    knobs: knobsSchema.prefault({}),
  })
  .refine((c) => new Set(c.symbols.map((s) => s.symbol)).size === c.symbols.length, {
    message: 'symbols must be unique',
    path: ['symbols'],
  });

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

export type InstrumentConfig = Readonly<z.output<typeof instrumentSchema>>;
export type Knobs = z.output<typeof knobsSchema>;
export type KnobsPatch = z.output<typeof knobsPatchSchema>;
export type PaperConfig = DeepReadonly<z.output<typeof paperConfigSchema>>;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Parses and freezes; a bad configuration throws a message naming the field. */
export function parsePaperConfig(input: unknown = {}): PaperConfig {
  const result = paperConfigSchema.safeParse(input);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid paper venue config: ${detail}`);
  }
  return deepFreeze(result.data);
}
