// The shared connector suite against the local MetaApi-style MT5 bridge (connectors/mt5/fake.ts).
import { createMt5Client } from '../../connectors/mt5/client.ts';
import { parseMt5Config } from '../../connectors/mt5/config.ts';
import { createFakeMt5Bridge } from '../../connectors/mt5/fake.ts';
import { mt5SuiteControls } from '../../connectors/mt5/fakeControls.ts';
import { runConnectorSuite } from '../helpers/connectorSuite.ts';

const accountId = '2f1c9e7a-51b3-4d0e-9c4a-7e6d5b4a3c21';
const token = 'metaapi-token-eyJhbGciOiJSUzUxMiJ9-fake-0042';

runConnectorSuite('mt5', async ({ log }) => {
  const fake = createFakeMt5Bridge({ accountId, token });
  const url = await fake.start();
  const client = createMt5Client({
    config: parseMt5Config({ baseUrl: url, provisioningUrl: url, accountId, token, timeoutMs: 300, pollMs: 200, pollWindowMs: 600_000 }),
    log,
  });
  return {
    client, fake: mt5SuiteControls(fake), secrets: [token, accountId],
    async stop() { await client.disconnect(); await fake.stop(); },
  };
});
