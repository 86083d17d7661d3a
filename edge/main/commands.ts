// order-router command line (entry: cli.ts). `start` runs the pipeline (all components, or --only some of them);
// `paper-venue` runs the paper venue as its own process.
// Each command loads only what it runs: a restarted component must not wait for the DuckDB bindings
// of the analytics commands (seconds on a busy machine) before it starts.
import * as nodeModule from 'node:module';
import { parseArgs } from 'node:util';
import { COMPONENTS, OPTIONAL_COMPONENTS, startPipeline, type Component } from './pipeline.ts';
import { ConfigError } from '../../streams/runtime/env.ts';

async function usage(): Promise<string> {
  const [{ AUDIT_USAGE }, { ANALYTICS_USAGE }, { OPS_TOKEN_USAGE }, { SHADOW_USAGE }, { VENUE_CHECK_USAGE }, { BACKTEST_USAGE }] = await Promise.all([
    import('../../streams/audit/args.ts'), import('../../analytics/query/cli.ts'), import('../ops/tokenCommand.ts'), import('../../streams/shadow/command.ts'),
    import('./venueCheck.ts'), import('../backtest/args.ts'),
  ]);
  return `usage:
  order-router start [--only ${[...COMPONENTS, ...OPTIONAL_COMPONENTS].join(',')}]   run the pipeline (default: every component but strategies)
  order-router paper-venue                          run the paper venue (PAPER_VENUE_PORT, default 7070)
${AUDIT_USAGE}
${ANALYTICS_USAGE}
${OPS_TOKEN_USAGE}
${SHADOW_USAGE}
${VENUE_CHECK_USAGE}
${BACKTEST_USAGE}`;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'start': {
      const { values } = parseArgs({ args: rest, options: { only: { type: 'string' } } });
      const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
      const known: readonly string[] = [...COMPONENTS, ...OPTIONAL_COMPONENTS];
      const bad = only?.filter((c) => !known.includes(c));
      if (bad?.length) throw new ConfigError(`--only: unknown component ${bad.join(', ')} (expected ${known.join(', ')})`);
      const pipeline = await startPipeline({ components: only as Component[] | undefined });
      onSignal(() => pipeline.stop());
      // Node writes its compile cache (cli.ts) at exit; written now too, so that a component later killed
      // leaves it for its successor.
      (nodeModule as { flushCompileCache?: () => void }).flushCompileCache?.();
      return;
    }
    case 'paper-venue': {
      await import('../../connectors/paper/main.ts');
      return;
    }
    case 'replay':
    case 'audit': {
      const { runAuditCommand } = await import('../../streams/audit/commands.ts');
      process.exitCode = await runAuditCommand(command, rest);
      return;
    }
    case 'pnl':
    case 'query':
    case 'analytics-verify':
    case 'analytics-sql': {
      const { runAnalyticsCommand } = await import('../../analytics/query/cli.ts');
      process.exitCode = await runAnalyticsCommand(command, rest);
      return;
    }
    case 'ops-token': {
      const { runOpsTokenCommand } = await import('../ops/tokenCommand.ts');
      process.exitCode = await runOpsTokenCommand(rest);
      return;
    }
    case 'shadow-report': {
      const { runShadowReport } = await import('../../streams/shadow/command.ts');
      process.exitCode = await runShadowReport(rest);
      return;
    }
    case 'venue-check': {
      const { runVenueCheckCommand } = await import('./venueCheck.ts');
      process.exitCode = await runVenueCheckCommand(rest);
      return;
    }
    case 'backtest': {
      const { runBacktestCommand } = await import('../backtest/command.ts');
      process.exitCode = await runBacktestCommand(rest);
      return;
    }
    default:
      console.error(await usage());
      process.exitCode = 2;
  }
}

/** Graceful shutdown: stop taking work, finish in-flight, flush, commit, leave the group. */
function onSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

main().catch((e: unknown) => {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(1);
});
