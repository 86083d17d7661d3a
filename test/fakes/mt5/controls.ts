// The fake bridge behind the shared connector suite's controls (test/helpers/connectorSuite.ts). The
// bridge has no push stream: "silent" is the bridge's history sync stalling (the time-range history the
// poll reads stops answering). MT5 signs nothing, so there is no clock-skew error. The bridge knows no
// client order id, only the comment a trade carried: which comment a client order id travels as is the
// connector's own scheme, so the test passes it in (`commentOf`) and the fake stays out of it.
import type { FakeVenueControls } from '../../helpers/connectorSuiteTypes.ts';
import type { FakeMt5Bridge } from './server.ts';

export function mt5SuiteControls(fake: FakeMt5Bridge, commentOf: (clientOrderId: string) => string): FakeVenueControls {
  const { term } = fake;
  const eurusd = () => [...term.symbols.values()].find((s) => s.symbol.startsWith('EURUSD'))!;
  const orderOf = (cid: string) => {
    const o = fake.ordersWithComment(commentOf(cid)).at(-1);
    if (!o) throw new Error(`fake mt5: no order for ${cid}`);
    return o;
  };
  return {
    symbol: 'EURUSD',
    quantity: 10_000,
    async restingBuyPrice() { return 1.0512; },
    async timeoutNextSubmit() { term.faults.dropTrades += 1; },
    async failNextSubmit(status, created) { term.faults.failTrade = { status, created }; },
    async rateLimitNextSubmit(seconds) { term.faults.rateLimitTradeSec = seconds; },
    async rateLimitViolations() { return term.counters.rateLimitViolations; },
    clockSkewNextSubmit: null,
    async setOutage(on) { term.faults.outage = on; },
    async setStreamSilent(on) { term.faults.historyStalled = on; },
    async ordersCreated(cid) { return fake.ordersWithComment(commentOf(cid)).length; },
    async submitsReceived(cid) { return fake.submitsWithComment(commentOf(cid)); },
    async fill(cid, quantity) {
      const deal = fake.fill(orderOf(cid), quantity / eurusd().contractSize);
      return { ref: deal.id, price: deal.price };
    },
    async repeatLastEvent(cid) {
      const deal = term.dealsOf(orderOf(cid).id).at(-1);
      if (deal) fake.repeatDeal(deal.id);
    },
    async correctFill(_cid, ref, price) { fake.amendDeal(ref, { price }); },
    async bustFill(_cid, ref) { fake.cancelDeal(ref); },
  };
}
