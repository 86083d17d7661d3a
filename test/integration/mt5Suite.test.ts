// The shared connector suite against the local MetaApi-style MT5 bridge (test/fakes/mt5/).
import { createMt5Client } from '../../connectors/mt5/client.ts';
import { parseMt5Config } from '../../connectors/mt5/config.ts';
import { commentToken } from '../../connectors/mt5/ids.ts';
import { mt5SuiteControls } from '../fakes/mt5/controls.ts';
import { createFakeMt5Bridge } from '../fakes/mt5/server.ts';
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
    // The bridge knows orders by comment only; the connector's comment for a client order id is its own scheme.
    client, fake: mt5SuiteControls(fake, commentToken), secrets: [token, accountId],
    async stop() { await client.disconnect(); await fake.stop(); },
  };
});
