// The fake gateway behind the shared connector suite's controls (test/helpers/connectorSuite.ts).
// IBKR has no clock-skew error (the gateway signs nothing), and no bust message: a busted execution
// simply stops being listed by /iserver/account/trades.
import type { FakeVenueControls } from '../../helpers/connectorSuiteTypes.ts';
import type { FakeIbkrGateway } from './fake.ts';

export function ibkrSuiteControls(fake: FakeIbkrGateway): FakeVenueControls {
  const { state } = fake;
  return {
    symbol: 'AAPL',
    quantity: 10,
    async restingBuyPrice() { return 150.25; },
    async timeoutNextSubmit() { state.faults.dropSubmits += 1; },
    async failNextSubmit(status, created) { state.faults.failSubmit = { status, created }; },
    async rateLimitNextSubmit(seconds) { state.faults.rateLimitSubmitSec = seconds; },
    async rateLimitViolations() { return state.counters.rateLimitViolations; },
    clockSkewNextSubmit: null,
    async setOutage(on) { fake.setOutage(on); },
    async setStreamSilent(on) { state.faults.silentStream = on; },
    async ordersCreated(cid) { return state.byCoid(cid) ? 1 : 0; },
    async submitsReceived(cid) { return state.submits.get(cid) ?? 0; },
    async fill(cid, quantity) {
      const trade = fake.fill(cid, quantity);
      return { ref: trade.executionId, price: trade.price };
    },
    async repeatLastEvent(cid) { fake.repeatLastEvent(cid); },
    async correctFill(_cid, ref, price) { fake.correctTrade(ref, { price }); },
    async bustFill(_cid, ref) { fake.bustTrade(ref); },
  };
}
