// The shared connector suite against a local server speaking Alpaca's wire format (test/fakes/alpaca/).
import { createAlpacaClient } from '../../connectors/alpaca/client.ts';
import { parseAlpacaConfig } from '../../connectors/alpaca/config.ts';
import { startAlpacaFake } from '../fakes/alpaca/server.ts';
import { runConnectorSuite } from '../helpers/connectorSuite.ts';

const keyId = 'PKTEST7Q2V9XKEYID0001';
const secretKey = 'alpaca-secret-9f8e7d6c5b4a3f2e1d0c9b8a';

runConnectorSuite('alpaca', async ({ log }) => {
  const fake = await startAlpacaFake({ keyId, secretKey });
  const client = createAlpacaClient(parseAlpacaConfig({
    // The suite reconciles every 800 ms and expects amendments within seconds: the activity window is re-read each round.
    baseUrl: fake.url, keyId, secretKey, timeoutMs: 300, reconnectMs: 100, maxReconnectMs: 500, pingMs: 300, activityRescanMs: 1,
  }), { log });
  return { client, fake: fake.controls, secrets: [secretKey, keyId], stop: async () => { await client.disconnect(); await fake.stop(); } };
});
