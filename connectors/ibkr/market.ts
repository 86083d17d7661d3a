// Market data and instrument rules from the gateway, through the same paced door as everything else.
// Quotes: GET /iserver/marketdata/snapshot for the conids asked (the first request for a conid in a
// session only starts its stream and answers no prices: those symbols get no quote until the next
// call). Rules: POST /iserver/contract/rules per contract, read on start and daily by the caller.
import type { VenueQuote } from '../venue.ts';
import type { IbkrConfig } from './config.ts';
import { IbkrError } from './errors.ts';
import type { IbkrHttp } from './http.ts';
import { instrumentFromRules, quoteFromSnapshot, SNAPSHOT_FIELDS, type IbkrInstrument } from './marketParse.ts';
import { placeErrorKind } from './parse.ts';
import { listedSymbols, toVenue } from './symbols.ts';

export interface IbkrMarket {
  /** Best bid/ask for the symbols that have real-time, fresh data now; the others are left out. */
  quotes(symbols: string[]): Promise<VenueQuote[]>;
  /** The gateway's rules for the symbols (all listed ones when absent); unreadable ones are left out. */
  instruments(symbols?: string[]): Promise<IbkrInstrument[]>;
}

/** `accountsFirst`: the gateway wants GET /iserver/accounts read in this session first (session.ts). */
export function createIbkrMarket(config: IbkrConfig, http: IbkrHttp, clock: () => number, accountsFirst: () => Promise<void>): IbkrMarket {
  return {
    async quotes(symbols) {
      const conids = [...new Set(symbols.flatMap((s) => { const c = toVenue(s); return c ? [c.conid] : []; }))];
      if (conids.length === 0) return [];
      const ask = () => http.request({
        operation: 'quotes', method: 'GET', path: `/iserver/marketdata/snapshot?conids=${conids.join(',')}&fields=${SNAPSHOT_FIELDS.join(',')}`,
        pacing: { key: 'snapshot', ms: config.quotesPacingMs },
      });
      let res = await ask();
      const error = res.json && typeof res.json === 'object' && 'error' in res.json ? String((res.json as { error: unknown }).error) : null;
      if (error !== null && placeErrorKind(error) === 'accountsFirst') {
        await accountsFirst();
        res = await ask();
      }
      if (!Array.isArray(res.json)) {
        if (res.status >= 400) throw new IbkrError('VENUE_REJECTED', 'ibkr quotes: market data refused', { operation: 'quotes', status: res.status });
        throw new IbkrError('VENUE_BAD_RESPONSE', 'ibkr quotes: unreadable answer', { operation: 'quotes', status: res.status });
      }
      const now = clock();
      return res.json.flatMap((row) => { const q = quoteFromSnapshot(row, now, config.quoteStaleMs); return q ? [q] : []; });
    },
    async instruments(symbols) {
      const out: IbkrInstrument[] = [];
      for (const symbol of symbols ?? listedSymbols()) {
        const contract = toVenue(symbol);
        if (!contract) continue;
        const res = await http.request({ operation: 'contractRules', method: 'POST', path: '/iserver/contract/rules', body: { conid: contract.conid, isBuy: true } });
        const instrument = res.status < 400 ? instrumentFromRules(symbol, contract, res.json, config.accountId) : null;
        if (instrument) out.push(instrument);
      }
      return out;
    },
  };
}
