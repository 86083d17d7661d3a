// The demo desk's instruments and venues as data: the symbols it trades, per-symbol limits in each
// instrument's own unit, and each venue's fees and listings. defaultControlConfig (controlFold.ts)
// folds them in through the same schemas as live controls. The listings are the cost model's entries: a
// venue's published rules (`instruments`) are merged under them (streams/router/listing.ts).
import type { z } from 'zod';
import type { AssetClass, venueModelSchema } from '../router/costModel.ts';
import type { limitOverridesSchema } from './limits.ts';

export const DEFAULT_SYMBOLS: Record<string, AssetClass> = { AAPL: 'equity', MSFT: 'equity', BTCUSD: 'crypto', ETHUSD: 'crypto', EURUSD: 'fx' };

// Quantity limits are in each instrument's own unit (shares, coins, euros), hence per symbol.
export const DEFAULT_SYMBOL_LIMITS: Record<string, z.input<typeof limitOverridesSchema>> = {
  AAPL: { maxPosition: 10_000, maxOrderQty: 5_000 },
  MSFT: { maxPosition: 10_000, maxOrderQty: 5_000 },
  BTCUSD: { maxPosition: 10, maxOrderQty: 5 },
  ETHUSD: { maxPosition: 200, maxOrderQty: 100 },
  EURUSD: { maxPosition: 5_000_000, maxOrderQty: 2_000_000, maxOrderNotional: 2_500_000, priceCollarBps: 50 },
};

const equityListing = (symbol: string) => ({ venueSymbol: symbol, lotSize: 1, tickSize: 0.01, minNotional: 1 });
export const DEFAULT_VENUES: Record<string, z.input<typeof venueModelSchema>> = {
  paper: {
    enabled: true,
    fees: { equity: { perUnit: 0.005, minimum: 1 }, crypto: { bps: 10 }, fx: { bps: 0.5 } },
    instruments: {
      AAPL: equityListing('AAPL'),
      MSFT: equityListing('MSFT'),
      BTCUSD: { venueSymbol: 'BTCUSD', lotSize: 0.0001, tickSize: 0.01, minNotional: 10 },
      ETHUSD: { venueSymbol: 'ETHUSD', lotSize: 0.001, tickSize: 0.01, minNotional: 10 },
      EURUSD: { venueSymbol: 'EURUSD', lotSize: 1_000, tickSize: 0.00001, minNotional: 1_000 },
    },
  },
  alpaca: { fees: { equity: {} }, instruments: { AAPL: equityListing('AAPL'), MSFT: equityListing('MSFT') } },
  binance: {
    fees: { crypto: { bps: 10 } },
    instruments: {
      BTCUSD: { venueSymbol: 'BTCUSDT', lotSize: 0.00001, tickSize: 0.01, minNotional: 5 },
      ETHUSD: { venueSymbol: 'ETHUSDT', lotSize: 0.0001, tickSize: 0.01, minNotional: 5 },
    },
  },
  ibkr: {
    fees: { equity: { perUnit: 0.005, minimum: 1 }, fx: { bps: 0.2, minimum: 2 } },
    instruments: {
      AAPL: equityListing('AAPL'),
      MSFT: equityListing('MSFT'),
      EURUSD: { venueSymbol: 'EUR.USD', lotSize: 1, tickSize: 0.00005, minNotional: 25_000 },
    },
  },
  mt5: {
    fees: { fx: { bps: 0.3 } },
    instruments: { EURUSD: { venueSymbol: 'EURUSD', lotSize: 1_000, tickSize: 0.00001, minNotional: 1_000 } },
  },
};
