// MT5 history by time range comes in pages of at most 1,000 rows ("Read deals by time range",
// "Read history orders by time range": offset/limit). An account with more history than one page
// (other EAs, manual trades) must not hide our orders and deals on the later pages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMt5Client, type Mt5Client } from '../../connectors/mt5/client.ts';
import { parseMt5Config } from '../../connectors/mt5/config.ts';
import { commentToken } from '../../connectors/mt5/ids.ts';
import type { VenueEvent, VenueOrderRequest } from '../../connectors/venue.ts';
import { createFakeMt5Bridge, type FakeMt5Bridge } from '../fakes/mt5/server.ts';

const TOKEN = 'mt5-bridge-token-history-0001';
const ACCOUNT = '5e6f7a8b-hist-4c9d-8e0f-1a2b3c4d5e6f';

const limit = (clientOrderId: string): VenueOrderRequest => ({
  clientOrderId, symbol: 'EURUSD', side: 'BUY', quantity: 10_000, orderType: 'LIMIT', limitPrice: 1.05, timeInForce: 'GTC',
});

describe('mt5 history beyond one page', () => {
  let fake: FakeMt5Bridge;
  let url: string;
  const clients: Mt5Client[] = [];
  const make = (pollMs = 60_000) => {
    const c = createMt5Client({ config: parseMt5Config({ baseUrl: url, provisioningUrl: url, accountId: ACCOUNT, token: TOKEN, timeoutMs: 3_000, pollMs, pollWindowMs: 3_600_000 }) });
    clients.push(c);
    return c;
  };

  before(async () => {
    fake = createFakeMt5Bridge({ accountId: ACCOUNT, token: TOKEN });
    url = await fake.start();
    fake.seedForeign(1_200); // someone else's 1,200 filled orders and deals, older than ours
  });
  after(async () => {
    for (const c of clients) await c.disconnect();
    await fake.stop();
  });

  it('finds a fill on the second page of deals through the poll', async () => {
    const client = make(300);
    await client.connect();
    const events: VenueEvent[] = [];
    const stop = client.onEvent((e) => events.push(e));
    try {
      await client.submit(limit('mt-hist-poll-1'));
      fake.fill(fake.ordersWithComment(commentToken('mt-hist-poll-1'))[0], 0.1, 1.05);
      const deadline = Date.now() + 8_000;
      let filled: VenueEvent | undefined;
      while (!filled && Date.now() < deadline) {
        await sleep(100);
        filled = events.find((e) => e.kind === 'order' && e.order.clientOrderId === 'mt-hist-poll-1' && e.order.status === 'FILLED' && e.order.fills.length === 1);
      }
      assert.ok(filled, 'the poll saw the fill listed after 1,000 other deals');
    } finally {
      stop();
    }
  });

  it('finds an order by comment on the second page of history before sending it again', async () => {
    const first = make();
    await first.connect();
    const placed = await first.submit({ ...limit('mt-hist-find-1'), orderType: 'MARKET', limitPrice: null });
    assert.equal(placed.status, 'FILLED');
    // Another process that never heard of the order (no ticket) must find it in history, not send it again.
    const other = make();
    await other.connect();
    const again = await other.submit({ ...limit('mt-hist-find-1'), orderType: 'MARKET', limitPrice: null });
    assert.equal(again.venueOrderId, placed.venueOrderId);
    assert.equal(fake.ordersWithComment(commentToken('mt-hist-find-1')).length, 1);
  });
});
