// The control writer of a connector runtime: it writes the venue's trading state (HALTED / ACTIVE) to
// `control` and remembers the latest venue record seen there, its own or the desk's. A write that
// fails is kept and written again by `retryUnwritten` (called from the runtime's timer), because a
// halt that never reaches the router is no halt.
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Codec } from '../schemas/codec.ts';
import type { Control } from '../schemas/types.ts';
import { controlMessage } from '../streams/control/publisher.ts';
import { venueStateControl } from './breaker.ts';
import { message } from './venueGate.ts';

export interface ControlWriterOptions {
  venue: string; producer: Producer; codec: Codec; topic: string; log: Logger;
  clock: () => number; hlc: () => number;
}

export type ControlWriter = ReturnType<typeof createControlWriter>;

export function createControlWriter(o: ControlWriterOptions) {
  let latest: Control | null = null;
  let unwritten: { to: 'HALTED' | 'ACTIVE'; reason: string } | null = null;

  async function write(to: 'HALTED' | 'ACTIVE', reason: string): Promise<void> {
    const c = venueStateControl(o.venue, to, reason, randomUUID(), o.clock(), o.hlc());
    try {
      await o.producer.send({ topic: o.topic, acks: -1, messages: [controlMessage(o.codec, o.topic, c)] });
      latest = c;
      unwritten = null;
    } catch (e) {
      // A halt that never reaches the router is no halt: the timer writes it again.
      unwritten = { to, reason };
      o.log.error({ err: message(e), to }, 'venue trading state not written to control; will retry');
    }
  }

  return {
    write,
    /** Writes again the last state that failed to reach `control`, if any. */
    async retryUnwritten(): Promise<void> { if (unwritten) await write(unwritten.to, unwritten.reason); },
    /** The latest venue trading-state record on `control` (read by the runtime's control tail, or written here). */
    latest: (): Control | null => latest,
    /** What the control tail read for this venue's key. */
    observe(c: Control): void { latest = c; },
  };
}
