// The fake bridge's MetaTrader 5 terminal: orders, deals and positions with the account's margin mode,
// symbols, prices, counters and the faults tests switch on. No HTTP here; server.ts renders it in
// MetaApi's JSON. Written from MetaApi's client API documentation (models MetatraderOrder,
// MetatraderDeal, MetatraderPosition, MetatraderAccountInformation, MetatraderSymbolSpecification,
// MetatraderTrade) and the MQL5 reference on netting and hedging accounts, never from connectors/mt5:
// - netting (ACCOUNT_MARGIN_MODE_RETAIL_NETTING / _EXCHANGE): one position per symbol; an opposite deal
//   reduces it (DEAL_ENTRY_OUT) or turns it over (DEAL_ENTRY_INOUT);
// - hedging (ACCOUNT_MARGIN_MODE_RETAIL_HEDGING): every market order opens its own position (position id
//   = the opening order's ticket); only POSITION_CLOSE_ID / POSITION_PARTIAL reduce one, by its id.

export type MarginMode = 'ACCOUNT_MARGIN_MODE_RETAIL_HEDGING' | 'ACCOUNT_MARGIN_MODE_RETAIL_NETTING' | 'ACCOUNT_MARGIN_MODE_EXCHANGE';
export type OrderState = 'ORDER_STATE_PLACED' | 'ORDER_STATE_PARTIAL' | 'ORDER_STATE_FILLED' | 'ORDER_STATE_CANCELED' | 'ORDER_STATE_STARTED';
/** Why an order or deal happened (ENUM_ORDER_REASON / ENUM_DEAL_REASON without the prefix): EXPERT for API trades, SL/TP for server closes. */
export type TradeReason = 'EXPERT' | 'SL' | 'TP';

export interface TermOrder {
  id: string; type: string; state: OrderState; magic: number; time: number; doneTime: number | null; symbol: string;
  openPrice: number | null; volume: number; currentVolume: number; comment: string;
  /** The position it opened, or the one it closes (POSITION_CLOSE_ID / POSITION_PARTIAL). */
  positionId: string | null;
  reason: TradeReason;
  /** Reads (open orders, history) list it from then on: the bridge's terminal sync lags the trade server. */
  visibleAt: number;
}
export interface TermDeal {
  id: string; type: string; entryType: 'DEAL_ENTRY_IN' | 'DEAL_ENTRY_OUT' | 'DEAL_ENTRY_INOUT'; symbol: string; magic: number; time: number;
  volume: number; price: number; commission: number; orderId: string; positionId: string; comment: string; visibleAt: number;
  reason: TradeReason;
  /** MetatraderDeal: on an MT5 closing deal, the position's last known levels. */
  stopLoss?: number; takeProfit?: number;
}
export interface TermPosition {
  id: string; type: 'POSITION_TYPE_BUY' | 'POSITION_TYPE_SELL'; symbol: string; magic: number; time: number; openPrice: number;
  volume: number; comment: string; visibleAt: number;
  /** Set by POSITION_MODIFY (sltp.ts); absent = no level. */
  stopLoss?: number; takeProfit?: number; updateTime?: number;
}
export interface TermSymbol {
  symbol: string; contractSize: number; volumeStep: number; minVolume: number; maxVolume: number; tickSize: number; digits: number;
  tradeMode: 'SYMBOL_TRADE_MODE_FULL' | 'SYMBOL_TRADE_MODE_DISABLED' | 'SYMBOL_TRADE_MODE_CLOSEONLY'; bid: number; ask: number; priceTime: number;
}

export interface TerminalFaults {
  /** Trades that execute but are never answered (the client times out). */
  dropTrades: number;
  /** The next trade answers this HTTP status; `created` says whether the trade executed anyway. */
  failTrade: { status: number; created: boolean } | null;
  /** The next trade answers 429 with metadata.recommendedRetryTime this many seconds ahead. */
  rateLimitTradeSec: number | null;
  /** The next trade answers this return code; `executed` says whether the server did it anyway (-11, 10012). */
  retcodeNext: { code: number; executed: boolean } | null;
  /** The terminal lost its broker link: trades answer 10031, the account record says DISCONNECTED_FROM_BROKER. */
  terminalDisconnected: boolean;
  outage: boolean;
  /** History by time range stops answering: the bridge's history sync stalled. */
  historyStalled: boolean;
  /** New orders, deals and positions show in reads only this long after the trade (terminal sync lag). */
  syncLagMs: number;
}

const round = (v: number) => Math.round(v * 1e8) / 1e8;

export const DEFAULT_SYMBOLS: readonly Omit<TermSymbol, 'priceTime'>[] = [
  { symbol: 'EURUSD', contractSize: 100_000, volumeStep: 0.01, minVolume: 0.01, maxVolume: 500, tickSize: 0.00001, digits: 5, tradeMode: 'SYMBOL_TRADE_MODE_FULL', bid: 1.0842, ask: 1.0843 },
  { symbol: 'AAPL', contractSize: 1, volumeStep: 1, minVolume: 1, maxVolume: 10_000, tickSize: 0.01, digits: 2, tradeMode: 'SYMBOL_TRADE_MODE_FULL', bid: 190.1, ask: 190.12 },
  { symbol: 'MSFT', contractSize: 1, volumeStep: 1, minVolume: 1, maxVolume: 10_000, tickSize: 0.01, digits: 2, tradeMode: 'SYMBOL_TRADE_MODE_FULL', bid: 421.4, ask: 421.5 },
  { symbol: 'BTCUSD', contractSize: 1, volumeStep: 0.01, minVolume: 0.01, maxVolume: 100, tickSize: 0.01, digits: 2, tradeMode: 'SYMBOL_TRADE_MODE_FULL', bid: 64_990, ask: 65_000 },
];

export function createTerminal(o: { clock: () => number; suffix: string; marginMode: MarginMode }) {
  const { clock } = o;
  const symbols = new Map<string, TermSymbol>(DEFAULT_SYMBOLS.map((s) => [`${s.symbol}${o.suffix}`, { ...s, symbol: `${s.symbol}${o.suffix}`, priceTime: clock() }]));
  const orders = new Map<string, TermOrder>();
  const deals: TermDeal[] = [];
  const repeats: TermDeal[] = [];
  const positions = new Map<string, TermPosition>();
  const submits = new Map<string, number>(); // trade requests per comment
  const counters = { requests: 0, rateLimitViolations: 0, historyRequests: 0, tradeRequests: 0, positionModifies: 0 };
  const faults: TerminalFaults = {
    dropTrades: 0, failTrade: null, rateLimitTradeSec: null, retcodeNext: null, terminalDisconnected: false, outage: false, historyStalled: false, syncLagMs: 0,
  };
  const account = { marginMode: o.marginMode };
  let nextTicket = 47_138_322;
  let nextDeal = 33_230_099;

  const visible = (x: { visibleAt: number }) => x.visibleAt <= clock();
  const isOpen = (x: TermOrder) => x.state === 'ORDER_STATE_PLACED' || x.state === 'ORDER_STATE_PARTIAL' || x.state === 'ORDER_STATE_STARTED';
  const sellSide = (type: string) => type.includes('SELL');

  /** A deal of `volume` lots for `order`, moving positions by the account's margin mode. */
  function deal(order: TermOrder, volume: number, price: number): TermDeal {
    const sell = sellSide(order.type);
    let entryType: TermDeal['entryType'] = 'DEAL_ENTRY_IN';
    let positionId = order.id;
    let levels: Pick<TermDeal, 'stopLoss' | 'takeProfit'> = {};
    if (order.positionId !== null) {
      // A close by position id (both margin modes).
      const p = positions.get(order.positionId)!;
      levels = { stopLoss: p.stopLoss, takeProfit: p.takeProfit };
      entryType = 'DEAL_ENTRY_OUT';
      positionId = p.id;
      p.volume = round(p.volume - volume);
      if (p.volume <= 0) positions.delete(p.id);
    } else if (account.marginMode !== 'ACCOUNT_MARGIN_MODE_RETAIL_HEDGING') {
      const p = [...positions.values()].find((x) => x.symbol === order.symbol);
      if (!p) positions.set(order.id, { id: order.id, type: sell ? 'POSITION_TYPE_SELL' : 'POSITION_TYPE_BUY', symbol: order.symbol, magic: order.magic, time: clock(), openPrice: price, volume, comment: order.comment, visibleAt: clock() + faults.syncLagMs });
      else if ((p.type === 'POSITION_TYPE_SELL') === sell) { positionId = p.id; p.volume = round(p.volume + volume); }
      else {
        positionId = p.id;
        levels = { stopLoss: p.stopLoss, takeProfit: p.takeProfit };
        const left = round(p.volume - volume);
        entryType = left < 0 ? 'DEAL_ENTRY_INOUT' : 'DEAL_ENTRY_OUT';
        if (left === 0) positions.delete(p.id);
        else if (left > 0) p.volume = left;
        // A turned-over position's levels would sit on the wrong side: the order brings none, so none are left.
        else Object.assign(p, { type: sell ? 'POSITION_TYPE_SELL' : 'POSITION_TYPE_BUY', volume: -left, openPrice: price, stopLoss: undefined, takeProfit: undefined });
      }
    } else {
      positions.set(order.id, { id: order.id, type: sell ? 'POSITION_TYPE_SELL' : 'POSITION_TYPE_BUY', symbol: order.symbol, magic: order.magic, time: clock(), openPrice: price, volume, comment: order.comment, visibleAt: clock() + faults.syncLagMs });
    }
    const d: TermDeal = {
      id: String(nextDeal++), type: sell ? 'DEAL_TYPE_SELL' : 'DEAL_TYPE_BUY', entryType, symbol: order.symbol, magic: order.magic, time: clock(),
      volume, price, commission: -Math.round(volume * 3.5 * 100) / 100, orderId: order.id, positionId, comment: order.comment, visibleAt: clock() + faults.syncLagMs,
      reason: order.reason, ...(entryType === 'DEAL_ENTRY_IN' ? {} : levels),
    };
    deals.push(d);
    order.currentVolume = round(order.currentVolume - volume);
    order.state = order.currentVolume <= 0 ? 'ORDER_STATE_FILLED' : 'ORDER_STATE_PARTIAL';
    if (order.state === 'ORDER_STATE_FILLED') order.doneTime = clock();
    return d;
  }

  function newOrder(req: { type: string; symbol: string; volume: number; openPrice: number | null; comment: string; magic: number; positionId: string | null; reason: TradeReason }): TermOrder {
    const order: TermOrder = {
      id: String(nextTicket++), type: req.type, state: 'ORDER_STATE_PLACED', magic: req.magic, time: clock(), doneTime: null, symbol: req.symbol,
      openPrice: req.openPrice, volume: req.volume, currentVolume: req.volume, comment: req.comment, positionId: req.positionId, reason: req.reason,
      visibleAt: clock() + faults.syncLagMs,
    };
    orders.set(order.id, order);
    return order;
  }

  /** A market order executes at once at the touch; a pending one rests. */
  function place(req: { type: string; symbol: string; volume: number; openPrice: number | null; comment: string; magic: number }): TermOrder {
    const order = newOrder({ ...req, positionId: null, reason: 'EXPERT' });
    const s = symbols.get(req.symbol)!;
    if (req.type === 'ORDER_TYPE_BUY' || req.type === 'ORDER_TYPE_SELL') deal(order, req.volume, req.type === 'ORDER_TYPE_BUY' ? s.ask : s.bid);
    return order;
  }

  /** POSITION_CLOSE_ID (volume = the whole position), POSITION_PARTIAL or the server's SL/TP close: an opposite market order bound to the position. */
  function close(position: TermPosition, volume: number, comment: string, magic: number, reason: TradeReason = 'EXPERT'): TermOrder {
    const s = symbols.get(position.symbol)!;
    const type = position.type === 'POSITION_TYPE_BUY' ? 'ORDER_TYPE_SELL' : 'ORDER_TYPE_BUY';
    const order = newOrder({ type, symbol: position.symbol, volume, openPrice: null, comment, magic, positionId: position.id, reason });
    deal(order, volume, type === 'ORDER_TYPE_BUY' ? s.ask : s.bid);
    return order;
  }

  function fill(order: TermOrder, lots: number, price: number): TermDeal {
    const volume = round(Math.min(lots, order.currentVolume));
    if (volume <= 0) throw new Error(`order ${order.id} has nothing left to fill`);
    return deal(order, volume, price);
  }

  function cancel(order: TermOrder): boolean {
    if (!isOpen(order)) return false;
    order.state = 'ORDER_STATE_CANCELED';
    order.doneTime = clock();
    return true;
  }

  const dealsOf = (orderId: string) => [...deals, ...repeats].filter((d) => d.orderId === orderId);

  return { account, symbols, orders, deals, repeats, positions, submits, counters, faults, place, close, fill, cancel, isOpen, visible, dealsOf };
}

export type Terminal = ReturnType<typeof createTerminal>;
