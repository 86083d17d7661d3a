// Which venues a process runs (`VENUES`), without loading any venue's client: the edge names them for
// the dashboard's consumer list, the connector process then loads the clients (select.ts).

export const VENUE_NAMES = ['paper', 'alpaca', 'binance', 'ibkr', 'mt5'] as const;
export type VenueName = (typeof VENUE_NAMES)[number];

/** `VENUES` (default `paper`), comma separated, each once; an unknown name throws naming it. */
export function venueNames(env: NodeJS.ProcessEnv): VenueName[] {
  const names = (env.VENUES ?? 'paper').split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(VENUE_NAMES as readonly string[]).includes(n)) throw new Error(`VENUES: unknown venue ${n} (known: ${VENUE_NAMES.join(', ')})`);
  }
  return [...new Set(names)] as VenueName[];
}
