import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createIpAllowlist, parseSignatureHeader, secretMatches, signatureHeader, verifySignature } from '../../edge/auth.ts';

const OLD = 'old-secret-0123456789';
const NEW = 'new-secret-9876543210';
const BODY = '{"strategy":"s1","symbol":"AAPL","intent":"flat"}';
const NOW_MS = 1_700_000_000_000;
const T = NOW_MS / 1000;

const verify = (header: string | undefined, over: Partial<Parameters<typeof verifySignature>[0]> = {}) =>
  verifySignature({ header, rawBody: BODY, secrets: [OLD], nowMs: NOW_MS, maxSkewSec: 300, ...over });

describe('HMAC signature', () => {
  it('accepts a valid signature over t.body', () => {
    assert.deepEqual(verify(signatureHeader(OLD, T, BODY)), { ok: true, secretIndex: 0 });
  });

  it('accepts the same bytes given as a Buffer', () => {
    assert.equal(verify(signatureHeader(OLD, T, BODY), { rawBody: Buffer.from(BODY) }).ok, true);
  });

  it('refuses a signature made with another secret', () => {
    assert.deepEqual(verify(signatureHeader('wrong-secret-000000000', T, BODY)), { ok: false, reason: 'MISMATCH' });
  });

  it('refuses a body changed after signing', () => {
    assert.deepEqual(verify(signatureHeader(OLD, T, BODY), { rawBody: BODY.replace('flat', 'delta') }), { ok: false, reason: 'MISMATCH' });
  });

  it('refuses a timestamp that was not the one signed', () => {
    const forged = signatureHeader(OLD, T, BODY).replace(`t=${T}`, `t=${T + 1}`);
    assert.deepEqual(verify(forged), { ok: false, reason: 'MISMATCH' });
  });

  it('refuses stale and future timestamps beyond the skew, accepts them at the edge of it', () => {
    assert.deepEqual(verify(signatureHeader(OLD, T - 301, BODY)), { ok: false, reason: 'STALE' });
    assert.deepEqual(verify(signatureHeader(OLD, T + 301, BODY)), { ok: false, reason: 'STALE' });
    assert.equal(verify(signatureHeader(OLD, T - 300, BODY)).ok, true);
    assert.equal(verify(signatureHeader(OLD, T + 300, BODY)).ok, true);
  });

  it('accepts either active secret while rotating', () => {
    assert.deepEqual(verify(signatureHeader(NEW, T, BODY), { secrets: [OLD, NEW] }), { ok: true, secretIndex: 1 });
    assert.deepEqual(verify(signatureHeader(OLD, T, BODY), { secrets: [OLD, NEW] }), { ok: true, secretIndex: 0 });
    // Once the old secret is dropped from config, it stops working.
    assert.equal(verify(signatureHeader(OLD, T, BODY), { secrets: [NEW] }).ok, false);
  });

  it('accepts a header carrying one v1 per secret', () => {
    const v1 = signatureHeader(NEW, T, BODY).split(',')[1];
    assert.equal(verify(`${signatureHeader('unknown-secret-00000', T, BODY)},${v1}`, { secrets: [NEW] }).ok, true);
  });

  it('refuses missing and malformed headers', () => {
    assert.deepEqual(verify(undefined), { ok: false, reason: 'MISSING' });
    assert.deepEqual(verify(''), { ok: false, reason: 'MISSING' });
    const good = signatureHeader(OLD, T, BODY);
    const hex = good.split('v1=')[1];
    for (const bad of [
      'garbage',
      `v1=${hex}`, // no timestamp
      `t=${T}`, // no signature
      `t=${T},v1=${hex.slice(2)}`, // short hex
      `t=${T},v1=${'zz'.repeat(32)}`, // not hex
      `t=-${T},v1=${hex}`,
      `t=${T}.5,v1=${hex}`,
      `t=${T},t=${T},v1=${hex}`,
      `t=0x10,v1=${hex}`,
    ]) {
      assert.deepEqual(verify(bad), { ok: false, reason: 'MALFORMED' }, bad);
    }
    assert.equal(parseSignatureHeader(` t=${T} , v1=${hex} `)?.timestamp, T);
  });
});

describe('body secret', () => {
  it('matches only an active secret, whatever the lengths', () => {
    assert.equal(secretMatches(OLD, [OLD, NEW]), true);
    assert.equal(secretMatches(NEW, [OLD, NEW]), true);
    assert.equal(secretMatches(OLD.slice(0, -1), [OLD]), false);
    assert.equal(secretMatches(`${OLD}x`, [OLD]), false);
    assert.equal(secretMatches('', [OLD]), false);
    assert.equal(secretMatches(OLD, []), false);
  });
});

describe('IP allowlist', () => {
  it('matches addresses, ranges and IPv4-mapped IPv6', () => {
    const allowed = createIpAllowlist(['52.89.214.238', '10.0.0.0/8', '2001:db8::/32']);
    assert.equal(allowed('52.89.214.238'), true);
    assert.equal(allowed('::ffff:52.89.214.238'), true);
    assert.equal(allowed('10.20.30.40'), true);
    assert.equal(allowed('2001:db8::1'), true);
    assert.equal(allowed('52.89.214.239'), false);
    assert.equal(allowed('not-an-ip'), false);
  });
});
