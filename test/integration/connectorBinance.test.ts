// The shared connector suite against a local Binance spot venue built from Binance's documentation
// (test/fakes/binance/): signed REST for orders, user data over the WebSocket API.
import { createBinanceClient } from '../../connectors/binance/client.ts';
import { parseBinanceConfig } from '../../connectors/binance/config.ts';
import { startBinanceFake } from '../fakes/binance/server.ts';
import { runConnectorSuite } from '../helpers/connectorSuite.ts';

// web-socket-api.md "SIGNED request example (HMAC)": the documentation's example key pair.
const apiKey = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const secretKey = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';

runConnectorSuite('binance', async ({ log }) => {
  const fake = await startBinanceFake({ apiKey, secretKey, pingMs: 300 });
  const client = createBinanceClient(parseBinanceConfig({
    baseUrl: fake.url, wsApiUrl: fake.wsApiUrl, streamUrl: fake.streamUrl, apiKey, secretKey, timeoutMs: 300, reconnectMs: 100, maxReconnectMs: 500, pingMs: 300,
    // The suite's faults answer at once; the real window (10 s) is exercised in binanceUnknownOutcome.test.ts.
    unknownWindowMs: 1_500, unknownPollMs: 100, recvWindowMs: 1_000,
  }), { log });
  return { client, fake: fake.controls, secrets: [secretKey, apiKey], stop: async () => { await client.disconnect(); await fake.stop(); } };
});
