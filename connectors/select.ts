// Which venues a connector process runs, from the environment: VENUES=paper,alpaca,binance,ibkr,mt5 (default
// paper), each configured by its own variables (see the venue's config.ts). Credentials are read here
// and handed to the client inside Secret wrappers; nothing in this file logs them.
import type { Logger } from 'pino';
import { alpacaConfigFromEnv } from './alpaca/config.ts';
import { createAlpacaClient } from './alpaca/client.ts';
import { binanceConfigFromEnv } from './binance/config.ts';
import { createBinanceClient } from './binance/client.ts';
import { fromVenue as fromBinance } from './binance/symbols.ts';
import { loadIbkrConfig } from './ibkr/config.ts';
import { createIbkrClient } from './ibkr/client.ts';
import { listedSymbols as ibkrSymbols } from './ibkr/symbols.ts';
import { loadMt5Config } from './mt5/config.ts';
import { createMt5Client } from './mt5/client.ts';
import { listedSymbols as mt5Symbols } from './mt5/symbols.ts';
import { createPaperClient } from './paper/client.ts';
import type { VenueClient } from './venue.ts';

export const VENUE_NAMES = ['paper', 'alpaca', 'binance', 'ibkr', 'mt5'] as const;
export type VenueName = (typeof VENUE_NAMES)[number];

export interface SelectedVenue { name: VenueName; client: VenueClient; quoteSymbols: string[] }

export function venueNames(env: NodeJS.ProcessEnv): VenueName[] {
  const names = (env.VENUES ?? 'paper').split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(VENUE_NAMES as readonly string[]).includes(n)) throw new Error(`VENUES: unknown venue ${n} (known: ${VENUE_NAMES.join(', ')})`);
  }
  return [...new Set(names)] as VenueName[];
}

/** Every venue publishes quotes for the symbols it trades, so the router prices it from its own book. */
export function selectVenues(env: NodeJS.ProcessEnv, log: Logger): SelectedVenue[] {
  return venueNames(env).map((name): SelectedVenue => {
    switch (name) {
      case 'paper':
        return {
          name, quoteSymbols: ['AAPL', 'MSFT', 'BTCUSD', 'ETHUSD', 'EURUSD'],
          client: createPaperClient({ baseUrl: env.PAPER_VENUE_URL ?? 'http://127.0.0.1:7070', venue: 'paper', timeoutMs: Number(env.VENUE_TIMEOUT_MS ?? 2000), log }),
        };
      case 'alpaca': {
        const config = alpacaConfigFromEnv(env);
        return { name, quoteSymbols: [...config.symbols], client: createAlpacaClient(config, { log }) };
      }
      case 'binance': {
        const config = binanceConfigFromEnv(env);
        return { name, quoteSymbols: config.symbols.map(fromBinance), client: createBinanceClient(config, { log }) };
      }
      case 'ibkr':
        return { name, quoteSymbols: ibkrSymbols(), client: createIbkrClient({ config: loadIbkrConfig(env), log }) };
      case 'mt5':
        return { name, quoteSymbols: mt5Symbols(), client: createMt5Client({ config: loadMt5Config(env), log }) };
      default: {
        const never: never = name;
        throw new Error(`unhandled venue ${String(never)}`);
      }
    }
  });
}
