// Mean reversion: sells `size` when the mid stretches `band` standard deviations above its rolling
// mean, buys when it stretches below, and goes flat when it comes back to the mean. A timer checks
// once a minute that the position it holds is the one it meant to hold (an order the gate denied
// leaves it short of its target), and asks for the target again if not.
import { defineStrategy } from '../api.ts';

const SYMBOL = 'MSFT';
const WINDOW = 30;
const BAND = 1.5;
const SIZE = 5;

interface State { mids: number[]; target: number; lastMid: number | null }

export default defineStrategy<State>({
  id: 'meanrev-2',
  symbols: [SYMBOL],
  timerMs: 60_000,
  init: () => ({ mids: [], target: 0, lastMid: null }),
  onQuote(q, ctx) {
    const s = ctx.state;
    const mid = (q.bid + q.ask) / 2;
    s.lastMid = mid;
    s.mids.push(mid);
    if (s.mids.length > WINDOW) s.mids.shift();
    if (s.mids.length < WINDOW) return;
    const avg = s.mids.reduce((a, b) => a + b, 0) / WINDOW;
    const sd = Math.sqrt(s.mids.reduce((a, b) => a + (b - avg) ** 2, 0) / WINDOW);
    if (sd === 0) return;
    const z = (mid - avg) / sd;
    const target = z > BAND ? -SIZE : z < -BAND ? SIZE : Math.sign(z) !== Math.sign(s.target) ? 0 : s.target;
    if (target === s.target) return;
    s.target = target;
    ctx.submit({ symbol: SYMBOL, intent: 'target', target, price: mid });
  },
  onTimer(_now, ctx) {
    const s = ctx.state;
    if (s.lastMid === null || ctx.position(SYMBOL) === s.target) return;
    ctx.log('position off target; asking again', { position: ctx.position(SYMBOL), target: s.target });
    ctx.submit({ symbol: SYMBOL, intent: 'target', target: s.target, price: s.lastMid });
  },
});
