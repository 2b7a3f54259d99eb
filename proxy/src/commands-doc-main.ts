/**
 * Writes docs/redis-commands.md from the command table (`--check`: exit 1 if it is stale).
 * Usage: node proxy/dist/commands-doc-main.js [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCommandTable } from './commands/index.js';
import { renderCommandsDoc } from './commands-doc.js';

/** docs/redis-commands.md at the repository root, from proxy/dist/. */
export const COMMANDS_DOC_PATH = fileURLToPath(new URL('../../docs/redis-commands.md', import.meta.url));

function main(argv: readonly string[]): number {
  const text = renderCommandsDoc(createCommandTable());
  if (argv.includes('--check')) {
    let current: string;
    try {
      current = readFileSync(COMMANDS_DOC_PATH, 'utf8');
    } catch {
      current = '';
    }
    if (current === text) return 0;
    console.error(`${COMMANDS_DOC_PATH} is stale: run npm run docs:commands --workspace @shoal/proxy`);
    return 1;
  }
  writeFileSync(COMMANDS_DOC_PATH, text);
  console.log(`wrote ${COMMANDS_DOC_PATH}`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(main(process.argv.slice(2)));
