// How this project's TypeScript entry points are started as child processes: Node runs the sources as
// they are by stripping types (22.18 and later; the project pins a current LTS in node_modules/.bin);
// an older Node needs tsx's loader, which is not a dependency any more.
export const TS_NODE_ARGS: readonly string[] = (process.features as { typescript?: unknown }).typescript ? [] : ['--import', 'tsx'];
