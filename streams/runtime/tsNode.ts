// How this project's entry points are started as child processes. Node runs the TypeScript sources as
// they are by stripping types (22.18 and later; the project pins a current LTS in node_modules/.bin);
// an older Node needs tsx's loader, which is not a dependency any more. A young generation of 2 MB per
// semi-space (V8's default grows to 16 MB or more) keeps each component process 20 to 40 MB smaller at
// no CPU cost measured by `npm run bench` (the same flag is in `npm start` and the `order-router` bin).
export const TS_NODE_ARGS: readonly string[] = [
  '--max-semi-space-size=2',
  ...((process.features as { typescript?: unknown }).typescript ? [] : ['--import', 'tsx']),
];
