/**
 * Renders docs/redis-commands.md from the command table, so the list of supported
 * commands can never drift from the code (commands-doc.test.ts fails when the file is
 * stale; `npm run docs:commands --workspace @shoal/proxy` rewrites it).
 */
import type { CommandSpec, CommandTable } from './commands/table.js';

const GROUP_ORDER = ['connection', 'server', 'generic', 'string', 'transactions', 'scripting'];

function row(spec: CommandSpec): string {
  const name = spec.parent === null ? spec.name.toUpperCase() : `${spec.parent.name.toUpperCase()} ${spec.name.toUpperCase()}`;
  const { first, last, step } = spec.keys;
  const keys = first === 0 ? '—' : `${first}, ${last}, ${step}`;
  const flags = [...spec.flags].join(', ') || '—';
  const cats = spec.categories.map((c) => `@${c}`).join(' ');
  const runs = spec.run.kind === 'backend' ? 'backend' : 'proxy';
  const notes = (spec.def.doc.shoalNotes ?? '').replace(/\|/g, '\\|');
  return `| \`${name}\` | ${spec.arity} | ${flags} | ${keys} | ${cats} | ${runs} | ${spec.def.doc.summary.replace(/\|/g, '\\|')} ${notes}`.trimEnd() + ' |';
}

export function renderCommandsDoc(table: CommandTable): string {
  const specs = table.allWithSubcommands().filter((s) => s.run.kind !== 'container' || s.run.handler !== undefined);
  const groups = [...new Set(specs.map((s) => s.def.doc.group))]
    .sort((a, b) => (GROUP_ORDER.indexOf(a) + 100 * Number(!GROUP_ORDER.includes(a))) - (GROUP_ORDER.indexOf(b) + 100 * Number(!GROUP_ORDER.includes(b))) || (a < b ? -1 : 1));
  const lines = [
    '# Redis commands supported by the Shoal proxy',
    '',
    '<!-- Generated from proxy/src/commands by `npm run docs:commands --workspace @shoal/proxy`; do not edit. -->',
    '',
    `${table.size} commands (${specs.length} entries with subcommands). Any other command answers`,
    '`-ERR unknown command \'<name>\', with args beginning with: …` exactly as Redis 7 does.',
    '',
    'Columns: arity as Redis counts it (N exactly, -N at least N, the name included); flags and',
    'ACL categories as `COMMAND INFO` reports them; key positions as first, last, step;',
    '*runs in*: `proxy` for commands the proxy answers itself, `backend` for data commands it',
    'forwards to the storage side for the selected table.',
  ];
  for (const g of groups) {
    lines.push('', `## ${g}`, '', '| command | arity | flags | keys | ACL categories | runs in | summary and Shoal notes |', '|---|---|---|---|---|---|---|');
    for (const s of specs.filter((x) => x.def.doc.group === g)) lines.push(row(s));
  }
  return `${lines.join('\n')}\n`;
}
