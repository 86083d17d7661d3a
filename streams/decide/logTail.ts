// The risk gate's tail (streams/runtime/tail.ts) with a barrier for taking over a partition: what the
// previous owner committed must be known before deciding, and while another member's transaction is
// still open the wait can last, so the caller keeps its group membership alive meanwhile.
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { startTail } from '../runtime/tail.ts';

export interface LogTail {
  /** Every record the topics held when the tail started has been handed over. */
  caughtUp: Promise<void>;
  /** Resolves once every record committed to `topics` before the call has been handed over. */
  barrier(topics: string[], onWait?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

const WAIT_TICK_MS = 500;

export async function startLogTail(
  kafka: Kafka, topics: string[], onMessage: (topic: string, message: KafkaMessage) => Promise<void> | void, log: Logger,
): Promise<LogTail> {
  const tail = await startTail(kafka, topics, (topic, m) => onMessage(topic, m));
  return {
    caughtUp: tail.caughtUp,
    async barrier(barrierTopics, onWait) {
      const done = tail.sync(barrierTopics);
      const started = Date.now();
      for (;;) {
        const tick = new Promise<'tick'>((r) => setTimeout(() => r('tick'), WAIT_TICK_MS).unref());
        if ((await Promise.race([done.then(() => 'done' as const), tick])) === 'done') return;
        // Another member's open transaction holds the stable offset back until it commits, aborts or
        // is fenced; meanwhile the caller keeps its group membership alive.
        await onWait?.();
        if (Date.now() - started > 10_000) log.warn({ topics: barrierTopics, waitedMs: Date.now() - started }, 'still waiting for the state to catch up');
      }
    },
    stop: () => tail.stop(),
  };
}
