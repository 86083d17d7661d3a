// Ingest: how many alerts/s the edge turns into acknowledged (acks=all) `signals` records, with the
// load generated from a separate process over keep-alive connections.
import { benchPipeline, runLoad } from './path.ts';

export interface IngestResult { seconds: number; connections: number; sent: number; accepted: number; perSec: number; errors: Record<string, number> }

export async function benchIngest(seconds: number, connections: number): Promise<IngestResult> {
  const b = await benchPipeline('ingest', ['edge']);
  try {
    const load = await runLoad({
      url: `${b.pipeline.edgeUrl}/webhooks/tradingview`, rate: 0, count: 0, seconds, connections, runId: `ingest-${Date.now().toString(36)}`,
      strategies: Array.from({ length: 6 }, (_, i) => ({ id: `bench-${i}`, secret: 'bench-secret-0123456789abcdef' })), symbols: ['AAPL', 'MSFT'],
    });
    return { seconds, connections, sent: load.sent, accepted: load.ok, perSec: Math.round(load.ok / (load.elapsedMs / 1000)), errors: load.other };
  } finally {
    await b.stop();
  }
}
