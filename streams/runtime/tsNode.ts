// How this project's entry points are started as child processes. Node runs the TypeScript sources as
// they are by stripping types (22.18 and later; the project pins a current LTS in node_modules/.bin);
// an older Node needs tsx's loader, which is not a dependency any more. The young generation is capped at
// 8 MB per semi-space (V8's default grows to 16 MB or more): 2 MB kept each process 10 to 30 MB smaller
// but cost the pipeline 17 to 20 % more CPU per alert at 1,000 alerts/s in scavenges; 8 MB keeps most of
// the CPU and most of the memory (README, Performance). The same flag is in `npm start` and the
// `order-router` bin.
export const TS_NODE_ARGS: readonly string[] = [
  '--max-semi-space-size=8',
  ...((process.features as { typescript?: unknown }).typescript ? [] : ['--import', 'tsx']),
];
