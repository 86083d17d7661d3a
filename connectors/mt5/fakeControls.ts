// The fake bridge behind the shared connector suite's controls (test/helpers/connectorSuite.ts). The
// bridge has no push stream: "silent" is the bridge's history sync stalling (the time-range history the
// poll reads stops answering), which is what a polled connector sees when its source goes quiet. MT5
// signs nothing, so there is no clock-skew error.
import type { FakeVenueControls } from '../../test/helpers/connectorSuite.ts';
import type { FakeMt5Bridge } from './fake.ts';
import { toVenue } from './symbols.ts';

export function mt5SuiteControls(fake: FakeMt5Bridge): FakeVenueControls {
  const { state } = fake;
  const contractSize = toVenue('EURUSD')!.contractSize;
  return {
    symbol: 'EURUSD',
    quantity: 10_000,
    async restingBuyPrice() { return 1.0512; },
    async timeoutNextSubmit() { state.faults.dropTrades += 1; },
    async failNextSubmit(status, created) { state.faults.failTrade = { status, created }; },
    async rateLimitNextSubmit(seconds) { state.faults.rateLimitTradeSec = seconds; },
    async rateLimitViolations() { return state.counters.rateLimitViolations; },
    clockSkewNextSubmit: null,
    async setOutage(on) { state.faults.outage = on; },
    async setStreamSilent(on) { state.faults.historyStalled = on; },
    async ordersCreated(cid) { return fake.ordersCreated(cid); },
    async submitsReceived(cid) { return fake.submitsReceived(cid); },
    async fill(cid, quantity) {
      const deal = fake.fill(cid, quantity / contractSize);
      return { ref: deal.id, price: deal.price };
    },
    async repeatLastEvent(cid) {
      const deal = fake.lastDealOf(cid);
      if (deal) fake.repeatDeal(deal.id);
    },
    async correctFill(_cid, ref, price) { fake.amendDeal(ref, { price }); },
    async bustFill(_cid, ref) { fake.cancelDeal(ref); },
  };
}
