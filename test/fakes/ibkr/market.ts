// The fake gateway's market data and contract rules, per the Web API v1.0 reference:
// - GET /iserver/marketdata/snapshot?conids=…&fields=…: needs /iserver/accounts read first in the
//   session; the first request for a conid is a pre-flight that starts the stream and answers the
//   identifiers only; later requests carry the fields asked for (as strings).
// - POST /iserver/contract/rules {conid, isBuy}: the order rules of a contract, price increments as
//   `incrementRules` [{lowerEdge, increment}], `sizeIncrement`, and `error` null.
import type { FastifyInstance } from 'fastify';
import { REFERENCE_PRICES, type FakeIbkrState } from './fakeState.ts';
import { snapshotRow, TICKERS } from './wire.ts';

const TICK: Readonly<Record<number, number>> = { 265598: 0.01, 272093: 0.01, 12087792: 0.00005 };

export function registerFakeIbkrMarket(app: FastifyInstance, state: FakeIbkrState, clock: () => number) {
  const market = {
    snapshots: 0, rulesRequests: 0,
    /** Overrides a conid's mid (REFERENCE_PRICES otherwise). */
    mids: new Map<number, number>(),
    /** Field 6509: 'RpB' real time; 'DpB' delayed, 'ZpB' frozen. */
    availability: 'RpB',
    /** `_updated` of every row when set (a feed that stopped); the clock otherwise. */
    frozenAt: null as number | null,
  };

  app.get<{ Querystring: { conids?: string; fields?: string } }>('/v1/api/iserver/marketdata/snapshot', async (req, reply) => {
    if (!state.session.accountsQueried) return reply.code(400).send({ error: 'Please query /accounts first' });
    const conids = (req.query.conids ?? '').split(',').map(Number).filter((c) => Number.isInteger(c) && c > 0);
    if (conids.length === 0) return reply.code(400).send({ error: 'conids required' });
    market.snapshots += 1;
    return conids.map((c) => {
      const started = state.session.marketStarted;
      const withData = started.has(c) && TICKERS[c] !== undefined;
      started.add(c);
      return snapshotRow(c, market.mids.get(c) ?? REFERENCE_PRICES[c] ?? 100, TICK[c] ?? 0.01, withData, market.frozenAt ?? clock(), market.availability);
    });
  });

  app.post<{ Body: { conid?: number; isBuy?: boolean } }>('/v1/api/iserver/contract/rules', async (req, reply) => {
    const conid = Number(req.body?.conid);
    market.rulesRequests += 1;
    const t = TICKERS[conid];
    if (!t) return reply.code(400).send({ error: `Contract ${req.body?.conid ?? ''} not found` });
    const cash = t.secType === 'CASH';
    return {
      algoEligible: true, overnightEligible: !cash, costReport: false, canTradeAcctIds: [...state.accounts], error: null,
      orderTypes: ['limit', 'market', 'stop', 'stop_limit', 'trailing_stop'], ibAlgoTypes: [], fraqTypes: [], forceOrderPreview: false,
      cqtTypes: ['limit', 'market'], orderDefaults: { LMT: { LP: String(REFERENCE_PRICES[conid]) } }, orderTypesOutside: ['limit'],
      defaultSize: cash ? 25_000 : 100, cashSize: 0, sizeIncrement: cash ? 1_000 : 1, tifTypes: ['IOC/MARKET,LIMIT', 'GTC/o,a', 'DAY/o,a'],
      tifDefaults: { TIF: 'DAY', SIZE: cash ? '25,000.00' : '100.00' }, limitPrice: REFERENCE_PRICES[conid], stopprice: REFERENCE_PRICES[conid],
      orderOrigination: null, preview: true, displaySize: null, fraqInt: 0, cashCcy: 'USD', cashQtyIncr: 500, priceMagnifier: null,
      negativeCapable: false, incrementType: 1, incrementRules: [{ lowerEdge: 0, increment: TICK[conid] }], hasSecondary: true,
      modTypes: [], increment: TICK[conid], incrementDigits: cash ? 5 : 2,
    };
  });

  return market;
}
