// The shared connector suite against the local IBKR Client Portal gateway (test/fakes/ibkr/fake.ts).
import { createIbkrClient } from '../../connectors/ibkr/client.ts';
import { parseIbkrConfig } from '../../connectors/ibkr/config.ts';
import { createFakeIbkrGateway } from '../fakes/ibkr/fake.ts';
import { ibkrSuiteControls } from '../fakes/ibkr/fakeControls.ts';
import { runConnectorSuite } from '../helpers/connectorSuite.ts';

const accountId = 'DU5550123';
const sessionCookie = 'ibkr-session-cookie-3e8a1f09c2d4';

runConnectorSuite('ibkr', async ({ log }) => {
  const fake = createFakeIbkrGateway({ accountId, heartbeatMs: 300 });
  const baseUrl = await fake.start();
  const client = createIbkrClient({
    config: parseIbkrConfig({
      baseUrl, accountId, sessionCookie, timeoutMs: 300, reconnectMs: 100, streamIdleMs: 1_000, pollMs: 300, tickleMs: 1_000,
      ordersPacingMs: 50, tradesPacingMs: 50, requestsPerSecond: 50,
    }),
    log,
  });
  return {
    client, fake: ibkrSuiteControls(fake), secrets: [accountId, sessionCookie],
    async stop() { await client.disconnect(); await fake.stop(); },
  };
});
