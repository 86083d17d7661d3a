// The IBKR session and order-reading rules that the gateway documents, against a scripted gateway
// (no sockets): the configured account is selected on a multi-account login, and the first live-orders
// answer of a session is never the list.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseIbkrConfig } from '../../connectors/ibkr/config.ts';
import type { IbkrHttp, IbkrRequest, IbkrResponse } from '../../connectors/ibkr/http.ts';
import { createIbkrOrders } from '../../connectors/ibkr/orders.ts';
import { createIbkrSession } from '../../connectors/ibkr/session.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../connectors/ibkr/fixtures/${name}`, import.meta.url), 'utf8'));
const config = (accountId: string) => parseIbkrConfig({ accountId, ordersPacingMs: 0, tradesPacingMs: 0 });

/** A gateway answering from a table of `METHOD path` → answer; every request is recorded. */
function scripted(answers: Record<string, (req: IbkrRequest) => unknown>): IbkrHttp & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    async request(req: IbkrRequest): Promise<IbkrResponse> {
      const key = `${req.method} ${req.path.split('?')[0]}`;
      seen.push(key);
      const answer = answers[key];
      if (!answer) throw new Error(`unscripted ${key}`);
      return { status: 200, json: answer(req) };
    },
    onSessionLost() {},
  };
}

const authenticated = () => ({ authenticated: true, connected: true, competing: false, message: '' });

describe('ibkr session: the configured account', () => {
  it('selects the configured account when the login starts on another one, and starts a new epoch', async () => {
    let selected = 'U1234567';
    const http = scripted({
      'GET /iserver/auth/status': authenticated,
      'GET /iserver/accounts': () => ({ ...(fixture('accountsMulti.json') as object), selectedAccount: selected }),
      'POST /iserver/account': (req) => { selected = (req.body as { acctId: string }).acctId; return fixture('switchAccount.json'); },
    });
    const session = createIbkrSession(config('U2234567'), http, undefined);
    await session.probe();
    assert.equal(selected, 'U2234567');
    assert.deepEqual(http.seen, ['GET /iserver/auth/status', 'GET /iserver/accounts', 'POST /iserver/account']);
    assert.ok(session.isUp());
    assert.equal(session.epoch(), 2, 'one for the switch, one for the session');
  });

  it('does not switch a login that is already on the configured account', async () => {
    const http = scripted({ 'GET /iserver/auth/status': authenticated, 'GET /iserver/accounts': () => fixture('accountsMulti.json') });
    const session = createIbkrSession(config('U1234567'), http, undefined);
    await session.probe();
    assert.deepEqual(http.seen, ['GET /iserver/auth/status', 'GET /iserver/accounts']);
  });

  it('fails, retriable, when the gateway does not select the account', async () => {
    const http = scripted({
      'GET /iserver/auth/status': authenticated,
      'GET /iserver/accounts': () => fixture('accountsMulti.json'),
      'POST /iserver/account': () => ({ success: 'Account switch failed' }),
    });
    const session = createIbkrSession(config('U2234567'), http, undefined);
    await assert.rejects(session.probe(), (e: Error & { code?: string; retriable?: boolean }) => e.code === 'VENUE_UNAVAILABLE' && e.retriable === true);
    assert.equal(session.isUp(), false);
  });

  it('refuses a login that does not hold the configured account', async () => {
    const http = scripted({ 'GET /iserver/auth/status': authenticated, 'GET /iserver/accounts': () => fixture('accountsMulti.json') });
    const session = createIbkrSession(config('U9999999'), http, undefined);
    await assert.rejects(session.probe(), (e: Error & { code?: string }) => e.code === 'VENUE_REJECTED' && !e.message.includes('U1234567'));
  });

  it('reads the websocket session from /tickle', async () => {
    const http = scripted({ 'POST /tickle': () => fixture('tickle.json') });
    assert.equal(await createIbkrSession(config('U1234567'), http, undefined).sessionId(), 'bb665d0f55b6289d70bc1c8bc6e6a1b3');
  });
});

describe('ibkr live orders: the first answer of a session', () => {
  it('asks again after the empty first answer, and again in each new epoch', async () => {
    let calls = 0;
    let started = false;
    const http = scripted({
      'GET /iserver/account/orders': () => {
        calls += 1;
        if (!started) { started = true; return { orders: [], snapshot: true }; }
        return fixture('liveOrders.json');
      },
      'GET /iserver/account/order/status/1799796559': () => fixture('orderStatusPartial.json'),
      'GET /iserver/account/trades': () => fixture('trades.json'),
    });
    let epoch = 1;
    const orders = createIbkrOrders(config('DU1234567'), http, undefined, () => 0, () => epoch);
    const found = await orders.lookup('or-7f3a91c2', 0);
    assert.equal(found?.filledQty, 40);
    assert.equal(calls, 2);
    epoch = 2; // a new session: its subscription starts over
    started = false;
    assert.equal((await orders.openOrders()).length > 0, true);
    assert.equal(calls, 4);
  });
});
