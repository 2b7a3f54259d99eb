// Goal: replay every testdata/*.txt interaction script against the real library and compare
// the printed behaviour with the expected output (REWRITE=1 regenerates expectations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatFile, parseFile } from './testing/datadriven.js';
import { InteractionEnv } from './testing/interaction-env.js';
import { runCommand } from './testing/interaction-handlers.js';

/** Compiled to dist/, so testdata is one level up from this file's directory. */
const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), '..', 'testdata');
const REWRITE = process.env['REWRITE'] === '1' || process.argv.includes('--rewrite');

for (const file of readdirSync(TESTDATA).filter((f) => f.endsWith('.txt')).sort()) {
  test(`interaction ${file}`, () => {
    const path = join(TESTDATA, file);
    const parsed = parseFile(readFileSync(path, 'utf8'), file);
    const env = new InteractionEnv();
    const outputs: string[] = [];
    for (const c of parsed.cases) {
      let out: string;
      try {
        runCommand(env, c.cmd, c.args);
        out = env.takeOutput();
      } catch (e) {
        out = env.takeOutput();
        if (!REWRITE) throw new Error(`${c.pos}: ${c.cmd} failed: ${String(e)}\noutput so far:\n${out}`, { cause: e });
        out = `${out === 'ok' ? '' : out + '\n'}PANIC: ${String(e)}`;
      }
      outputs.push(out);
      if (!REWRITE) assert.equal(out, c.expected, `${c.pos}: output of '${c.cmdLines.join(' ')}' differs`);
    }
    if (REWRITE) writeFileSync(path, formatFile(parsed, outputs));
  });
}
