// A backtest's records in the analytics store, laid out exactly as the sink lays out live ones (same
// datasets, same columns, the same P&L fold on executions, manifests with sha256 sums), but under
// `<ANALYTICS_DIR>/_backtests/<run id>/`: the live views' globs never reach it (so live P&L does not
// change), `analytics-verify` skips folders starting with `_`, and `order-router pnl --run <id>`
// opens the same views over the run's folder.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DATASETS, executionsDataset, type Dataset, type RowContext } from '../../analytics/columns.ts';
import { emptyManifest } from '../../analytics/sink/manifest.ts';
import { createParquetWriter } from '../../analytics/sink/parquet.ts';
import { createPnlFold } from '../../analytics/pnlFold.ts';
import { writeBatch } from '../../analytics/sink/store.ts';
import type { ExecutionReport } from '../../schemas/types.ts';
import { outputLines, type OutputRecord } from './simulate.ts';

export const RUN_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const BACKTESTS_FOLDER = '_backtests';

export const runDir = (analyticsDir: string, runId: string): string => join(analyticsDir, BACKTESTS_FOLDER, runId);

const DATASET_OF: Record<string, OutputRecord['kind']> = { executions: 'execution', orders: 'order', 'risk-decisions': 'decision', signals: 'signal' };

export interface RunSummary {
  runId: string; strategy: string; account: string; from: string; to: string; source: string;
  /** `live`: limits and cost model folded from `control`; `default`: defaultControlConfig(). */
  controls: 'live' | 'default'; controlsApplied: number;
  outputSha256: string; stats: Record<string, number>;
}

/** Replaces the run's folder with these records: one Parquet file per dataset and day, a manifest each, output.jsonl and run.json. */
export async function storeRun(analyticsDir: string, summary: RunSummary, records: readonly OutputRecord[], log: Logger): Promise<string> {
  const root = runDir(analyticsDir, summary.runId);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const writer = await createParquetWriter();
  try {
    for (const dataset of DATASETS) {
      const kind = DATASET_OF[dataset.name];
      if (kind === undefined) continue;
      const recs = records.filter((r) => r.kind === kind).map((r) => r.value);
      if (recs.length === 0) continue;
      const rows: RowContext<unknown>[] = recs.map((rec, offset) => ({ rec, partition: 0, offset, pnl: null }));
      if (dataset === executionsDataset) {
        const effects = createPnlFold({ onRefused: (e) => log.warn({ executionId: e.executionId }, 'amendment without refExecutionId') })
          .applyBatch(recs as ExecutionReport[]);
        rows.forEach((r, i) => { r.pnl = effects[i]; });
      }
      await writeBatch({ root, writer, dataset: dataset as Dataset, manifest: emptyManifest(dataset.name, 0), rows, nextOffset: rows.length });
    }
  } finally {
    writer.close();
  }
  await writeFile(join(root, 'output.jsonl'), outputLines(records));
  await writeFile(join(root, 'run.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return root;
}
