// The shared connector suite against a local server speaking Alpaca's wire format (connectors/alpaca/fake.ts).
import { createAlpacaClient } from '../../connectors/alpaca/client.ts';
import { parseAlpacaConfig } from '../../connectors/alpaca/config.ts';
import { startAlpacaFake } from '../../connectors/alpaca/fake.ts';
import { runConnectorSuite } from '../helpers/connectorSuite.ts';

const keyId = 'PKTEST7Q2V9XKEYID0001';
const secretKey = 'alpaca-secret-9f8e7d6c5b4a3f2e1d0c9b8a';

runConnectorSuite('alpaca', async ({ log }) => {
  const fake = await startAlpacaFake({ keyId, secretKey });
  const client = createAlpacaClient(parseAlpacaConfig({
    baseUrl: fake.url, keyId, secretKey, timeoutMs: 300, reconnectMs: 100, maxReconnectMs: 500, pingMs: 300,
  }), { log });
  return { client, fake: fake.controls, secrets: [secretKey, keyId], stop: async () => { await client.disconnect(); await fake.stop(); } };
});
