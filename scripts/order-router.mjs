#!/usr/bin/env node
// Installed entry point: runs scripts/cli.ts through tsx.
import { register } from 'tsx/esm/api';
register();
await import('./cli.ts');
