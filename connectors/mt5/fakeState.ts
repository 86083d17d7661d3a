// The fake bridge's terminal: orders by ticket, deals, counters and the faults tests switch on. No
// HTTP here; fake.ts renders these as the bridge's JSON.
import type { Mt5OrderState } from './parse.ts';

export interface FakeMt5Order {
  id: string;
  type: string;
  state: Mt5OrderState;
  magic: number;
  time: number;
  doneTime: number | null;
  symbol: string;
  openPrice: number | null;
  volume: number;
  currentVolume: number;
  comment: string;
}

export interface FakeMt5Deal {
  id: string;
  type: string;
  symbol: string;
  magic: number;
  time: number;
  volume: number;
  price: number;
  commission: number;
  orderId: string;
  comment: string;
}

export interface FakeMt5Faults {
  /** Trades that are executed but never answered (the client times out). */
  dropTrades: number;
  /** The next trade answers this HTTP status; `created` says whether the order exists anyway. */
  failTrade: { status: number; created: boolean } | null;
  /** The next trade answers 429 with metadata.recommendedRetryTime this many seconds ahead. */
  rateLimitTradeSec: number | null;
  /** The next trade fails with this MT5 return code (10004 requote, 10019 no money …); nothing is created. */
  retcodeNext: number | null;
  /** The terminal lost its broker link: trades answer 10031, the account record says DISCONNECTED_FROM_BROKER. */
  terminalDisconnected: boolean;
  /** Every request answers 503. */
  outage: boolean;
  /** History by time range (what the poll reads) stops answering: the bridge's history sync stalled. */
  historyStalled: boolean;
}

export const REFERENCE_PRICES: Readonly<Record<string, number>> = { EURUSD: 1.0843, AAPL: 190.12, MSFT: 421.5, BTCUSD: 65_000 };
export const VOLUME_STEP: Readonly<Record<string, number>> = { EURUSD: 0.01, AAPL: 1, MSFT: 1, BTCUSD: 0.01 };

export function createFakeMt5State(clock: () => number, suffix: string) {
  const orders = new Map<string, FakeMt5Order>();
  const deals: FakeMt5Deal[] = [];
  const repeats: FakeMt5Deal[] = []; // deals the history lists a second time
  const submits = new Map<string, number>(); // trade requests per comment
  const counters = { ordersCreated: 0, requests: 0, rateLimitViolations: 0 };
  const faults: FakeMt5Faults = {
    dropTrades: 0, failTrade: null, rateLimitTradeSec: null, retcodeNext: null, terminalDisconnected: false, outage: false, historyStalled: false,
  };
  let nextTicket = 47_138_322;
  let nextDeal = 33_230_099;
  const bare = (symbol: string) => (suffix && symbol.endsWith(suffix) ? symbol.slice(0, -suffix.length) : symbol);

  const isOpen = (o: FakeMt5Order) => o.state === 'ORDER_STATE_PLACED' || o.state === 'ORDER_STATE_PARTIAL' || o.state === 'ORDER_STATE_STARTED';
  const round = (v: number) => Math.round(v * 1e8) / 1e8;

  function place(req: { type: string; symbol: string; volume: number; openPrice: number | null; comment: string; magic: number }): FakeMt5Order {
    const order: FakeMt5Order = {
      id: String(nextTicket++), type: req.type, state: 'ORDER_STATE_PLACED', magic: req.magic, time: clock(), doneTime: null,
      symbol: req.symbol, openPrice: req.openPrice, volume: req.volume, currentVolume: req.volume, comment: req.comment,
    };
    orders.set(order.id, order);
    counters.ordersCreated += 1;
    if (req.type === 'ORDER_TYPE_BUY' || req.type === 'ORDER_TYPE_SELL') fill(order, req.volume, REFERENCE_PRICES[bare(req.symbol)] ?? 100);
    return order;
  }

  function fill(order: FakeMt5Order, lots: number, price: number): FakeMt5Deal {
    const volume = round(Math.min(lots, order.currentVolume));
    if (volume <= 0) throw new Error(`order ${order.id} has nothing left to fill`);
    const deal: FakeMt5Deal = {
      id: String(nextDeal++), type: order.type.includes('SELL') ? 'DEAL_TYPE_SELL' : 'DEAL_TYPE_BUY', symbol: order.symbol, magic: order.magic,
      time: clock(), volume, price, commission: -Math.round(volume * 3.5 * 100) / 100, orderId: order.id, comment: order.comment,
    };
    deals.push(deal);
    order.currentVolume = round(order.currentVolume - volume);
    order.state = order.currentVolume <= 0 ? 'ORDER_STATE_FILLED' : 'ORDER_STATE_PARTIAL';
    if (order.state === 'ORDER_STATE_FILLED') order.doneTime = clock();
    return deal;
  }

  function cancel(order: FakeMt5Order): boolean {
    if (!isOpen(order)) return false;
    order.state = 'ORDER_STATE_CANCELED';
    order.doneTime = clock();
    return true;
  }

  const dealsOf = (orderId: string) => [...deals, ...repeats].filter((d) => d.orderId === orderId);

  return { orders, deals, repeats, submits, counters, faults, place, fill, cancel, isOpen, dealsOf, bare };
}

export type FakeMt5State = ReturnType<typeof createFakeMt5State>;
