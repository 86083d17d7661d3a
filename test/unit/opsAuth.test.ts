// Ops API tokens: what OPS_TOKENS accepts and refuses at start (never printing a token), and who a
// bearer header authenticates as.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOpsAuth, generateToken, parseOpsTokens, sha256, tokenWeakness } from '../../edge/ops/auth.ts';
import { mayAct } from '../../streams/control/model.ts';
import { ConfigError } from '../../streams/runtime/env.ts';

const ALICE = 'alice-admin-token-5f1c9a7e3b2d4c6e8a0b';
const BOB = 'bob-operator-token-9e8d7c6b5a4f3e2d1c0b';
const VIC = 'vic-viewer-token-0a1b2c3d4e5f6a7b8c9d0e';
const TOKENS = JSON.stringify([
  { name: 'alice', role: 'admin', token: ALICE },
  { name: 'bob', role: 'operator', token: BOB },
  { name: 'vic', role: 'viewer', token: VIC },
]);

/** The start-up error, checked never to contain the token it is about. */
function refusal(entries: unknown, token: string): string {
  try {
    parseOpsTokens(JSON.stringify(entries));
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.ok(!e.message.includes(token), `the error prints the token: ${e.message}`);
    return e.message;
  }
  assert.fail('accepted');
}

describe('OPS_TOKENS at start', () => {
  it('given three well-formed entries, when parsed, then each keeps only its name, role and digest', () => {
    const entries = parseOpsTokens(TOKENS);
    assert.deepEqual(entries.map((e) => [e.name, e.role]), [['alice', 'admin'], ['bob', 'operator'], ['vic', 'viewer']]);
    assert.ok(entries.every((e) => !Object.values(e).includes(ALICE) && e.digest.length === 32));
  });

  it('given nothing, then no token is configured', () => {
    assert.deepEqual(parseOpsTokens(undefined), []);
    assert.deepEqual(parseOpsTokens(' '), []);
  });

  it('given a token of 31 characters, then start is refused naming the entry, not the token', () => {
    const short = 'abcdefghijklmnopqrstuvwxyz01234';
    const message = refusal([{ name: 'alice', role: 'admin', token: ALICE }, { name: 'bob', role: 'operator', token: short }], short);
    assert.match(message, /OPS_TOKENS\[1\] \(bob\): token is too short/);
  });

  it('given a long token of few distinct characters, then it is refused as weak', () => {
    const weak = 'abab'.repeat(10);
    assert.match(refusal([{ name: 'carol', role: 'viewer', token: weak }], weak), /OPS_TOKENS\[0\] \(carol\): token is too weak/);
  });

  it('given an unknown role, a misspelt key, a duplicate name or a shared token, then start is refused naming the entry', () => {
    assert.match(refusal([{ name: 'dan', role: 'root', token: ALICE }], ALICE), /OPS_TOKENS\[0\] \(dan\): role:/);
    assert.match(refusal([{ name: 'dan', role: 'admin', token: ALICE, tokn: 'x' }], ALICE), /OPS_TOKENS\[0\] \(dan\): tokn:/);
    assert.match(refusal([{ name: 'dan', role: 'admin', token: ALICE }, { name: 'dan', role: 'viewer', token: BOB }], BOB), /OPS_TOKENS\[1\] \(dan\): name already used/);
    assert.match(refusal([{ name: 'dan', role: 'admin', token: ALICE }, { name: 'eve', role: 'viewer', token: ALICE }], ALICE), /OPS_TOKENS\[1\] \(eve\): token already used/);
  });

  it('given text that is not JSON or not an array, then the message does not quote it', () => {
    assert.throws(() => parseOpsTokens(`[{"token":"${ALICE}"`), (e: Error) => e.message === 'OPS_TOKENS: not valid JSON');
    assert.throws(() => parseOpsTokens(`{"token":"${ALICE}"}`), /expected a JSON array/);
  });

  it('a generated token passes the strength rules', () => {
    for (let i = 0; i < 50; i++) assert.equal(tokenWeakness(generateToken()), null);
  });
});

describe('bearer authentication', () => {
  const auth = createOpsAuth({ tokens: parseOpsTokens(TOKENS) });

  it('given a configured token, then the caller is its name and role', async () => {
    assert.deepEqual(await auth.authenticate(`Bearer ${ALICE}`), { name: 'alice', role: 'admin' });
    assert.deepEqual(await auth.authenticate(`bearer ${VIC}`), { name: 'vic', role: 'viewer' });
  });

  it('given no header, another scheme, a wrong or truncated token, then nobody', async () => {
    for (const header of [undefined, '', 'Bearer', `Basic ${ALICE}`, `Bearer ${ALICE.slice(0, -1)}`, `Bearer ${ALICE}x`, `Bearer  ${ALICE} extra`]) {
      assert.equal(await auth.authenticate(header), null, String(header));
    }
  });

  it('given a token only the table knows, then the lookup by digest answers', async () => {
    const stored = generateToken();
    const withTable = createOpsAuth({
      tokens: [],
      lookup: async (digest) => (digest.equals(sha256(stored)) ? { name: 'svc-dashboard', role: 'viewer' } : null),
    });
    assert.deepEqual(await withTable.authenticate(`Bearer ${stored}`), { name: 'svc-dashboard', role: 'viewer' });
    assert.equal(await withTable.authenticate(`Bearer ${ALICE}`), null);
  });

  it('roles nest: viewer reads; operator also halts; admin also sets limits', () => {
    assert.deepEqual(
      (['viewer', 'operator', 'admin'] as const).map((r) => [mayAct(r, 'viewer'), mayAct(r, 'operator'), mayAct(r, 'admin')]),
      [[true, false, false], [true, true, false], [true, true, true]],
    );
  });
});
