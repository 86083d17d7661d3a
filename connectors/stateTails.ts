// What a connector runtime reads before it takes orders, and keeps reading while it runs: `orders` and
// `executions` for its venue (the starting point of every diff, kept current so that a partition taken
// over from another instance is diffed against what that instance wrote), and `control` (the venue's
// trading state, and its orders of unknown outcome, which a restarted connector must never send again).
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../schemas/codec.ts';
import type { Topics } from '../schemas/topics.ts';
import type { Control } from '../schemas/types.ts';
import { startTail, type Tail } from '../streams/runtime/tail.ts';
import { venueControlKey } from './breaker.ts';
import type { OrderLedger } from './ledger.ts';

// The order path does not wait on the `orders` + `executions` tail (the loop hands each order over
// itself, and this instance's own reports are applied at commit), so it may gather records a while.
const STATE_TAIL_WINDOW_MS = 50;

export interface StateTailsOptions {
  kafka: Kafka; codec: Codec; topics: Topics; venue: string;
  ledger: OrderLedger;
  /** An order first read may release venue events parked while it was unknown. */
  flushParked(cid: string): void;
  /** The venue's trading-state record (key TRADING_STATE|VENUE|venue). */
  onVenueState(c: Control): void;
  /** This venue's ORDER_OUTCOME records. */
  outcomes: { owned(key: string): boolean; observe(c: Control): void; forget(key: string): void };
}

/** Both tails, each read to its end before this resolves. */
export async function startStateTails(o: StateTailsOptions): Promise<{ state: Tail; control: Tail }> {
  const { ledger, venue } = o;
  const state = await startTail(o.kafka, [o.topics.orders, o.topics.executions], async (topic, m, partition) => {
    if (topic === o.topics.orders) {
      const ord = await o.codec.decode('Order', m.value!);
      if (ord.venue !== venue) return;
      if (ledger.noteOrder(ord, partition)) o.flushParked(ord.clientOrderId);
      return;
    }
    const e = await o.codec.decode('ExecutionReport', m.value!);
    if (e.venue === venue) ledger.applyRecorded(e);
  }, { coalesceMs: STATE_TAIL_WINDOW_MS });
  try {
    await state.caughtUp;
    const control = await startTail(o.kafka, [o.topics.control], async (_t, m) => {
      const key = m.key?.toString() ?? '';
      if (key === venueControlKey(venue) && m.value) o.onVenueState(await o.codec.decode('Control', m.value));
      else if (o.outcomes.owned(key) && m.value) o.outcomes.observe(await o.codec.decode('Control', m.value));
      else if (o.outcomes.owned(key)) o.outcomes.forget(key); // a marker's tombstone
    });
    await control.caughtUp;
    return { state, control };
  } catch (e) {
    await state.stop().catch(() => {});
    throw e;
  }
}

/** `tail.sync(topics)`, waited for at most `ms`: past it (or on a failure) the caller goes on with what was read, warned. */
export function syncWithin(tail: Tail, topics: string[], ms: number, log: Pick<Logger, 'warn'>): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => { log.warn({ topics }, 'not read up to now within the wait; going on with what was read'); resolve(); }, ms);
    tail.sync(topics).catch((e: unknown) => log.warn({ err: e instanceof Error ? e.message : String(e), topics }, 'not re-read')).finally(() => { clearTimeout(t); resolve(); });
  });
}
