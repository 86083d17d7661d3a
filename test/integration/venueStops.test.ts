// A buy stop through each real venue's client against its fake (each built from the venue's
// documentation): the venue takes it as its own stop type and holds it without trading, created once;
// a type the venue does not have is refused before anything reaches the venue. No Kafka: the client only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createAlpacaClient } from '../../connectors/alpaca/client.ts';
import { parseAlpacaConfig } from '../../connectors/alpaca/config.ts';
import { createBinanceClient } from '../../connectors/binance/client.ts';
import { parseBinanceConfig } from '../../connectors/binance/config.ts';
import { VenueError } from '../../connectors/http.ts';
import { createIbkrClient } from '../../connectors/ibkr/client.ts';
import { parseIbkrConfig } from '../../connectors/ibkr/config.ts';
import { createMt5Client } from '../../connectors/mt5/client.ts';
import { parseMt5Config } from '../../connectors/mt5/config.ts';
import { commentToken } from '../../connectors/mt5/ids.ts';
import type { VenueOrderRequest } from '../../connectors/venue.ts';
import { startAlpacaFake } from '../fakes/alpaca/server.ts';
import { startBinanceFake } from '../fakes/binance/server.ts';
import { createFakeIbkrGateway } from '../fakes/ibkr/fake.ts';
import { ibkrSuiteControls } from '../fakes/ibkr/fakeControls.ts';
import { mt5SuiteControls } from '../fakes/mt5/controls.ts';
import { createFakeMt5Bridge } from '../fakes/mt5/server.ts';
import type { VenueUnderTest } from '../helpers/connectorSuiteTypes.ts';

const log = pino({ level: 'silent' });

const venues: Record<string, { make: () => Promise<VenueUnderTest>; lacks: Partial<VenueOrderRequest> }> = {
  alpaca: {
    async make() {
      const fake = await startAlpacaFake({ keyId: 'PKTEST-STOPS-0001', secretKey: 'alpaca-secret-stops-0123456789' });
      const client = createAlpacaClient(parseAlpacaConfig({ baseUrl: fake.url, keyId: 'PKTEST-STOPS-0001', secretKey: 'alpaca-secret-stops-0123456789', timeoutMs: 500 }), { log });
      return { client, fake: fake.controls, stop: async () => { await client.disconnect(); await fake.stop(); } };
    },
    lacks: { orderType: 'TRAILING_STOP', trailPercent: 1, timeInForce: 'IOC' },
  },
  binance: {
    async make() {
      const apiKey = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
      const secretKey = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
      const fake = await startBinanceFake({ apiKey, secretKey, pingMs: 300 });
      const client = createBinanceClient(parseBinanceConfig({
        baseUrl: fake.url, wsApiUrl: fake.wsApiUrl, streamUrl: fake.streamUrl, apiKey, secretKey, timeoutMs: 500, unknownWindowMs: 1_500, unknownPollMs: 100, recvWindowMs: 1_000,
      }), { log });
      return { client, fake: fake.controls, stop: async () => { await client.disconnect(); await fake.stop(); } };
    },
    lacks: { orderType: 'TRAILING_STOP', trailAmount: 2 },
  },
  ibkr: {
    async make() {
      const fake = createFakeIbkrGateway({ accountId: 'DU5550777', heartbeatMs: 300 });
      const baseUrl = await fake.start();
      const client = createIbkrClient({
        config: parseIbkrConfig({ baseUrl, accountId: 'DU5550777', sessionCookie: 'ibkr-session-stops-3e8a1f', timeoutMs: 500, ordersPacingMs: 0, tradesPacingMs: 0, requestsPerSecond: 50 }),
        log,
      });
      return { client, fake: ibkrSuiteControls(fake), stop: async () => { await client.disconnect(); await fake.stop(); } };
    },
    lacks: { timeInForce: 'FOK' },
  },
  mt5: {
    async make() {
      const accountId = '2f1c9e7a-51b3-4d0e-9c4a-7e6d5b4a3c99';
      const token = 'metaapi-token-stops-fake-0099';
      const fake = createFakeMt5Bridge({ accountId, token });
      const url = await fake.start();
      const client = createMt5Client({ config: parseMt5Config({ baseUrl: url, provisioningUrl: url, accountId, token, timeoutMs: 500, pollMs: 200, pollWindowMs: 60_000 }), log });
      return { client, fake: mt5SuiteControls(fake, commentToken), stop: async () => { await client.disconnect(); await fake.stop(); } };
    },
    lacks: { orderType: 'TRAILING_STOP', trailPercent: 1 },
  },
};

for (const [name, { make, lacks }] of Object.entries(venues)) {
  describe(`${name}: stops`, () => {
    it('holds a buy stop above the market without trading, created once; refuses a type it lacks before sending', async () => {
      const venue = await make();
      try {
        await venue.client.connect();
        const resting = await venue.fake.restingBuyPrice();
        const stop: VenueOrderRequest = {
          clientOrderId: `${name}stop0001`, symbol: venue.fake.symbol, side: 'BUY', quantity: venue.fake.quantity,
          orderType: 'STOP', limitPrice: null, stopPrice: Math.round(resting * 2 * 100) / 100, timeInForce: 'GTC',
        };
        const placed = await venue.client.submit(stop);
        assert.equal(placed.filledQty, 0);
        assert.ok(placed.status === 'NEW', `${name}: ${placed.status} ${placed.rejectReason ?? ''}`);
        assert.equal(await venue.fake.ordersCreated(stop.clientOrderId), 1);
        // The venue's own view a moment later: still working, nothing traded (a stop sent as a market
        // order would have filled by now).
        await sleep(300);
        const seen = await venue.client.lookup(stop.clientOrderId, stop.symbol);
        assert.deepEqual([seen?.status, seen?.filledQty], ['NEW', 0], name);

        const other: VenueOrderRequest = { ...stop, clientOrderId: `${name}lack0001`, stopPrice: null, ...lacks };
        await assert.rejects(venue.client.submit(other), (e: unknown) => e instanceof VenueError && e.code === 'VENUE_REJECTED' && /_UNSUPPORTED$/.test(e.venueCode ?? ''));
        assert.equal(await venue.fake.submitsReceived(other.clientOrderId), 0, 'refused before anything reached the venue');
      } finally {
        await venue.stop();
      }
    });
  });
}
