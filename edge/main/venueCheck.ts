// `order-router venue-check <venue> [--symbol S] [--away PCT] [--qty Q] [--wait SEC]`: builds the venue's
// client from the same environment variables the connector reads (README "Venues") and runs the round
// trip in connectors/venueCheck.ts, one line per step. Exit code 0 when every step passed or was
// skipped, 1 on any failure, 2 on bad usage. No credential is ever printed: the configuration wraps
// them, and every line is also scrubbed of the values of the venue's credential variables.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { selectVenues, VENUE_NAMES, type VenueName } from '../../connectors/select.ts';
import { runVenueCheck, type StepResult } from '../../connectors/venueCheck.ts';

export const VENUE_CHECK_USAGE = `  order-router venue-check <${VENUE_NAMES.join('|')}> [--symbol S] [--away PCT] [--qty Q] [--wait SEC]
                                                    a safe round trip at the venue: rules, quote, far limit order, look-up, cancel, stream`;

const CREDENTIAL = /(KEY|SECRET|TOKEN|COOKIE|PASSWORD)/;

/** Replaces every credential value of the environment found in `text` (values of 6+ characters). */
export function scrub(text: string, env: NodeJS.ProcessEnv): string {
  let out = text;
  for (const [name, value] of Object.entries(env)) {
    if (CREDENTIAL.test(name) && value && value.length >= 6) out = out.split(value).join('[redacted]');
  }
  return out;
}

export const formatStep = (r: StepResult): string => `${r.status.padEnd(7)} ${r.step}: ${r.detail}`;

export async function runVenueCheckCommand(args: string[], env: NodeJS.ProcessEnv = process.env, print: (line: string) => void = (l) => console.log(l)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { symbol: { type: 'string' }, away: { type: 'string' }, qty: { type: 'string' }, wait: { type: 'string' } } });
  } catch (e) {
    print(`venue-check: ${e instanceof Error ? e.message : String(e)}\n${VENUE_CHECK_USAGE}`);
    return 2;
  }
  const [venue, ...extra] = parsed.positionals;
  if (!venue || extra.length > 0 || !(VENUE_NAMES as readonly string[]).includes(venue)) {
    print(`venue-check: <venue>: expected one of ${VENUE_NAMES.join(', ')}\n${VENUE_CHECK_USAGE}`);
    return 2;
  }
  const num = (name: 'away' | 'qty' | 'wait', v: string | undefined, ok: (n: number) => boolean): number | undefined | null => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || !ok(n)) { print(`venue-check: --${name}: invalid value`); return null; }
    return n;
  };
  const away = num('away', parsed.values.away, (n) => n > 0 && n < 100);
  const qty = num('qty', parsed.values.qty, (n) => n > 0);
  const wait = num('wait', parsed.values.wait, (n) => n > 0 && n <= 300);
  if (away === null || qty === null || wait === null) return 2;

  const log = pino({ level: env.LOG_LEVEL ?? 'silent' }, pino.destination(2));
  const out = (line: string) => print(scrub(line, env));
  let selected;
  try {
    [selected] = selectVenues({ ...env, VENUES: venue }, log);
  } catch (e) {
    // Configuration errors name the variable, never its value.
    out(formatStep({ step: 'configuration', status: 'FAILED', detail: e instanceof Error ? e.message : String(e) }));
    return 1;
  }
  const symbol = parsed.values.symbol ?? selected.quoteSymbols[0];
  out(`venue-check ${venue as VenueName} ${symbol}`);
  out(formatStep({ step: 'configuration', status: 'PASSED', detail: `from the environment (credentials not shown)` }));
  const results = await runVenueCheck(selected.client, { symbol, awayPct: away, quantity: qty, waitMs: wait === undefined ? undefined : wait * 1000, onStep: (r) => out(formatStep(r)) });
  const failed = results.filter((r) => r.status === 'FAILED').length;
  out(failed === 0 ? `venue-check ${venue}: all steps passed` : `venue-check ${venue}: ${failed} step(s) FAILED`);
  return failed === 0 ? 0 : 1;
}
