// The submitter and a venue whose look-up is not conclusive for a while after a send (Binance's unknown
// window): an order taken over from another instance (created before this instance's assignment, never
// sent by it) is announced with mayHaveBeenSent before it is looked up, so the client keeps looking until
// the previous owner's send can no longer appear; an order of this instance's own is not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createOrderLedger } from '../../connectors/ledger.ts';
import { createOrderSubmitter } from '../../connectors/orderSubmitter.ts';
import type { VenueClient, VenueOrderState } from '../../connectors/venue.ts';
import { createVenueGate } from '../../connectors/venueGate.ts';
import type { Order } from '../../schemas/types.ts';

const order: Order = {
  orderId: 'o-1', clientOrderId: 'c1', signalId: 's-1', decisionId: 'd-1', account: 'A', strategy: 'st', symbol: 'BTCUSDT', venue: 'binance',
  side: 'BUY', quantity: 1, orderType: 'MARKET', limitPrice: null, timeInForce: 'IOC', stopPrice: null, trailAmount: null, trailPercent: null, takeProfit: null, stopLoss: null, parentOrderId: null, exitRole: null, ocoGroup: null, signalPrice: null, arrivalMid: null, createdAt: 0, hlc: 0,
};

function setup(assignedAt: number) {
  const calls: string[] = [];
  const acked = (cid: string): VenueOrderState => ({ clientOrderId: cid, venueOrderId: 'V1', symbol: 'BTCUSDT', side: 'BUY', quantity: 1, status: 'NEW', filledQty: 0, fills: [], rejectReason: null, venueTime: 5 });
  const client = {
    venue: 'binance', unknownOutcomeWindowMs: 10_000,
    mayHaveBeenSent(cid: string, at: number) { calls.push(`mayHaveBeenSent ${cid} ${at}`); },
    async lookup(cid: string) { calls.push(`lookup ${cid}`); return null; },
    async submit(req: { clientOrderId: string }) { calls.push(`submit ${req.clientOrderId}`); return acked(req.clientOrderId); },
  } as unknown as VenueClient;
  const gate = createVenueGate({ venue: 'binance', clock: () => 0, breaker: { failuresToOpen: 3, minFailureSpanMs: 0, probeIntervalMs: 1, maxProbeIntervalMs: 1 }, onHalt() {}, onResume() {} });
  const submitter = createOrderSubmitter({
    client, gate, log: pino({ level: 'silent' }), clock: () => 1_000, stamp: () => ({ recordedAt: 1_000, hlc: () => 1 }), ledger: createOrderLedger(),
    flushParked() {}, isUnknown: () => false, instruments: () => null, assignedAt: () => assignedAt, attempts: 3, backoffMs: 1, maxBackoffMs: 1,
  });
  return { submitter, calls };
}

describe('order submitter: orders taken over from another instance', () => {
  it('tells the client the previous owner may have sent it, before the look-up', async () => {
    const { submitter, calls } = setup(500);
    await submitter.handleOrder({ ...order, createdAt: 400 });
    assert.deepEqual(calls, ['mayHaveBeenSent c1 500', 'lookup c1', 'submit c1']);
  });

  it('says nothing for an order created after the assignment (its own to send)', async () => {
    const { submitter, calls } = setup(500);
    await submitter.handleOrder({ ...order, createdAt: 600 });
    assert.deepEqual(calls, ['submit c1']);
  });
});
