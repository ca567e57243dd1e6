#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader, so no build step stands between a change and the CLI.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
