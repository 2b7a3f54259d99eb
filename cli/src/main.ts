#!/usr/bin/env node
// Entry point of the `shoal` binary.
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { defaultActions } from './actions.js';

let exitCode = 0;
const program = buildProgram(
  defaultActions,
  (code) => {
    exitCode = code;
  },
  process.argv,
);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Usage errors were already printed by commander; help and version exit 0.
    exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    throw err;
  }
}
process.exitCode = exitCode;
