// The shared connector suite against a local server speaking Binance spot's wire format (connectors/binance/fake.ts).
import { createBinanceClient } from '../../connectors/binance/client.ts';
import { parseBinanceConfig } from '../../connectors/binance/config.ts';
import { startBinanceFake } from '../../connectors/binance/fake.ts';
import { runConnectorSuite } from '../helpers/connectorSuite.ts';

const apiKey = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const secretKey = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';

runConnectorSuite('binance', async ({ log }) => {
  const fake = await startBinanceFake({ apiKey, secretKey });
  const client = createBinanceClient(parseBinanceConfig({
    baseUrl: fake.url, streamUrl: fake.streamUrl, apiKey, secretKey, timeoutMs: 300, reconnectMs: 100, maxReconnectMs: 500, pingMs: 300,
  }), { log });
  return { client, fake: fake.controls, secrets: [secretKey, apiKey], stop: async () => { await client.disconnect(); await fake.stop(); } };
});
