// Topic names and the Avro record each carries: a contract every folder shares, so it sits at the bottom.
// A prefix (TOPIC_PREFIX) lets tests and parallel environments share one broker without sharing data.
// Creating the topics (partitions, retention, durability) is streams/runtime/topics.ts.

export const TOPIC = {
  signals: 'signals',
  riskDecisions: 'risk-decisions',
  orders: 'orders',
  ordersShadow: 'orders-shadow',
  executions: 'executions',
  quotes: 'quotes',
  control: 'control',
  deadLetters: 'dead-letters',
  cancelRequests: 'cancel-requests',
  instruments: 'instruments',
} as const;

export type TopicKey = keyof typeof TOPIC;
export type Topics = { readonly [K in TopicKey]: string };

/** Avro record name carried by each topic (subject `<topic>-value`). */
export const TOPIC_SCHEMA: { readonly [K in TopicKey]: string } = {
  signals: 'Signal', riskDecisions: 'RiskDecision', orders: 'Order', ordersShadow: 'Order',
  executions: 'ExecutionReport', quotes: 'Quote', control: 'Control', deadLetters: 'DeadLetter',
  cancelRequests: 'CancelRequest', instruments: 'Instrument',
};

export function topicNames(prefix = ''): Topics {
  const out = {} as Record<TopicKey, string>;
  for (const k of Object.keys(TOPIC) as TopicKey[]) out[k] = prefix + TOPIC[k];
  return Object.freeze(out);
}
