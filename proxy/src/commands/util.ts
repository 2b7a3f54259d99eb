/** Small helpers shared by command handlers: argument words, integers, help text, error bytes. */
import { parseInteger } from '../resp/numbers.js';
import { array, simple } from '../resp/reply.js';
import type { ErrorReply, Reply } from '../resp/reply.js';
import { asciiLower } from './table.js';

/** Whether an argument equals a keyword, ignoring ASCII case (strcasecmp). */
export function isWord(arg: Uint8Array | undefined, word: string): boolean {
  return arg !== undefined && arg.length === word.length && asciiLower(arg) === word;
}

/** An integer argument as Redis' getLongLongFromObject reads it, or null. */
export function intArg(arg: Uint8Array | undefined): number | null {
  return arg === undefined ? null : parseInteger(arg);
}

/** `-ERR <text>` where parts may be a client's raw bytes, echoed unchanged as Redis does. */
export function errWith(...parts: (string | Uint8Array)[]): ErrorReply {
  const bytes = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)));
  return { type: 'error', value: Buffer.concat([Buffer.from('ERR '), ...bytes]) };
}

/** A `<NAME> HELP` reply: Redis' heading line, the lines given, then the HELP line. */
export function helpReply(container: string, lines: readonly string[]): Reply {
  const name = container.toUpperCase();
  return array([
    simple(`${name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`),
    ...lines.map((l) => simple(l)),
    simple('HELP'),
    simple('    Print this help.'),
  ]);
}

/** Printable ASCII without spaces: Redis' rule for client names and CLIENT SETINFO values. */
export function isPrintableWord(b: Uint8Array): boolean {
  for (const c of b) if (c < 0x21 || c > 0x7e) return false;
  return true;
}
