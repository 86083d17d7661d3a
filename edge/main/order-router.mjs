#!/usr/bin/env -S node --max-semi-space-size=8
// Installed entry point: Node (>= 22.18) runs the TypeScript sources as they are, by stripping types.
await import('./cli.ts');
