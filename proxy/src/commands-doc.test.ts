// Goal: docs/redis-commands.md is exactly what the command table generates, so the published list of supported commands cannot go stale.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createCommandTable } from './commands/index.js';
import { COMMANDS_DOC_PATH } from './commands-doc-main.js';
import { renderCommandsDoc } from './commands-doc.js';

describe('docs/redis-commands.md', () => {
  it('matches the command table (regenerate with: npm run docs:commands --workspace @shoal/proxy)', () => {
    const expected = renderCommandsDoc(createCommandTable());
    const actual = readFileSync(COMMANDS_DOC_PATH, 'utf8');
    assert.equal(actual, expected, 'docs/redis-commands.md is stale: run npm run docs:commands --workspace @shoal/proxy');
  });

  it('lists every command and subcommand with a handler', () => {
    const text = renderCommandsDoc(createCommandTable());
    for (const name of ['`GET`', '`CLIENT LIST`', '`CONFIG SET`', '`COMMAND`', '`HELLO`', '`FUNCTION FLUSH`', '`EXEC`']) {
      assert.ok(text.includes(`| ${name} |`), name);
    }
    assert.ok(!text.includes('| `CLIENT` |'), 'a container without a bare form is not a row of its own');
  });
});
