// The edge's configuration: loaded from the environment with the schema's defaults, frozen, and refused
// at start with a message that names the bad field and never echoes a secret.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEdgeConfig, parseEdgeConfig } from '../../edge/config.ts';

const TV_SECRET = 'tv-secret-0123456789abcdef';
const OLD_SECRET = 'sig-old-secret-00000000';
const NEW_SECRET = 'sig-new-secret-11111111';

describe('config', () => {
  const strategies = JSON.stringify([{ id: 'tv-trend', account: 'acc-1', secrets: [TV_SECRET] }]);
  const fails = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail('expected the config to be refused');
  };

  it('loads from the environment with the schema defaults, frozen', () => {
    const c = loadEdgeConfig({ ORDER_ROUTER_STRATEGIES: strategies, EDGE_ALLOWED_IPS: '52.89.214.238, 34.212.75.30' });
    assert.deepEqual([c.port, c.host, c.bodyLimit, c.maxClockSkewSec, c.trustProxy], [8080, '127.0.0.1', 16 * 1024, 300, false]);
    assert.deepEqual(c.allowedIps, ['52.89.214.238', '34.212.75.30']);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.strategies[0].secrets));
    assert.equal(loadEdgeConfig({ ORDER_ROUTER_STRATEGIES: strategies, EDGE_PORT: '9000', EDGE_BODY_LIMIT: '4096' }).port, 9000);
  });

  it('names the bad field and never echoes a secret', () => {
    assert.match(fails(() => loadEdgeConfig({ ORDER_ROUTER_STRATEGIES: strategies, EDGE_PORT: 'eighty' })), /port \(EDGE_PORT\)/);
    assert.match(fails(() => loadEdgeConfig({ ORDER_ROUTER_STRATEGIES: strategies, EDGE_ALLOWED_IPS: '1.2.3' })), /allowedIps\.0/);
    assert.match(fails(() => loadEdgeConfig({})), /strategies/);
    const short = fails(() => loadEdgeConfig({ ORDER_ROUTER_STRATEGIES: '[{"id":"a","account":"x","secrets":["short-secret"]}]' }));
    assert.match(short, /strategies\.0\.secrets\.0/);
    assert.ok(!short.includes('short-secret'));
    const broken = fails(() => loadEdgeConfig({ ORDER_ROUTER_STRATEGIES: `[{"secrets":["${TV_SECRET}"]` }));
    assert.match(broken, /not valid JSON/);
    assert.ok(!broken.includes(TV_SECRET));
    const three = JSON.stringify([{ id: 'a', account: 'x', secrets: [TV_SECRET, OLD_SECRET, NEW_SECRET] }]);
    assert.match(fails(() => loadEdgeConfig({ ORDER_ROUTER_STRATEGIES: three })), /strategies\.0\.secrets/);
    assert.match(fails(() => parseEdgeConfig({ strategies: JSON.parse(strategies), tls: { key: 'k', cert: 'c', requireClientCert: true } })), /tls\.ca/);
  });
});
