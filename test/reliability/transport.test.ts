// Transport security is configuration: Kafka TLS (KAFKA_SSL, KAFKA_SSL_CA_FILE) and SASL (PLAIN,
// SCRAM-SHA-256/512) reach the kafkajs client; Postgres TLS comes from DATABASE_URL (sslmode,
// sslrootcert), read by node-postgres.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parsePgUrl } from 'pg-connection-string';
import { ConfigError, loadRuntimeEnv } from '../../streams/runtime/env.ts';
import { kafkaConfig } from '../../streams/runtime/kafka.ts';
import { createLogger } from '../../streams/runtime/log.ts';

const log = createLogger('test', 'silent');
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

describe('Kafka transport security from the environment', () => {
  it('is plaintext and unauthenticated by default', () => {
    const c = kafkaConfig(loadRuntimeEnv({}), 'x', log);
    assert.equal(c.ssl, undefined);
    assert.equal(c.sasl, undefined);
  });

  it('turns on TLS with the system CAs, or with a CA bundle from a file', () => {
    assert.equal(kafkaConfig(loadRuntimeEnv({ KAFKA_SSL: 'true' }), 'x', log).ssl, true);
    const dir = mkdtempSync(join(tmpdir(), 'chaos-ca-'));
    writeFileSync(join(dir, 'ca.pem'), CA);
    assert.deepEqual(kafkaConfig(loadRuntimeEnv({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'ca.pem') }), 'x', log).ssl, { ca: [CA] });
  });

  it('passes SASL PLAIN and SCRAM credentials', () => {
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const c = kafkaConfig(loadRuntimeEnv({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'router', KAFKA_SASL_PASSWORD: 's3cret-pass' }), 'x', log);
      assert.deepEqual(c.sasl, { mechanism, username: 'router', password: 's3cret-pass' });
      assert.equal(c.ssl, true);
    }
  });

  it('refuses a SASL mechanism without credentials, naming the variable and not the value', () => {
    assert.throws(() => loadRuntimeEnv({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'router' }), (e: unknown) =>
      e instanceof ConfigError && e.message.includes('KAFKA_SASL_PASSWORD') && !e.message.includes('router'));
    assert.throws(() => loadRuntimeEnv({ KAFKA_SASL_MECHANISM: 'gssapi' }), ConfigError);
    assert.throws(() => loadRuntimeEnv({ KAFKA_SSL: 'yes' }), /KAFKA_SSL/);
  });
});

describe('Postgres transport security from DATABASE_URL', () => {
  it('asks node-postgres for TLS with sslmode, and for a verified server with sslrootcert', () => {
    const env = loadRuntimeEnv({ DATABASE_URL: 'postgres://router:pw@db.internal:5432/order_router?sslmode=require' });
    const parsed = parsePgUrl(env.DATABASE_URL);
    assert.ok(parsed.ssl, 'ssl requested');
    const dir = mkdtempSync(join(tmpdir(), 'chaos-pgca-'));
    writeFileSync(join(dir, 'root.crt'), CA);
    const verified = parsePgUrl(`postgres://router:pw@db.internal/order_router?sslmode=verify-full&sslrootcert=${join(dir, 'root.crt')}`);
    assert.equal((verified.ssl as { ca?: string }).ca, CA, 'the CA bundle is loaded');
    assert.notEqual((verified.ssl as { rejectUnauthorized?: boolean }).rejectUnauthorized, false, 'the server certificate is verified');
    assert.equal(parsePgUrl('postgres://router@db.internal/order_router').ssl, undefined, 'plaintext unless asked');
  });
});
