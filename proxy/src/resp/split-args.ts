/**
 * Splits an inline command line into arguments exactly as Redis' `sdssplitargs` does, so
 * `telnet` and `redis-cli`-style input behaves the same here:
 *
 * - arguments are separated by C `isspace` characters (space, \t, \n, \v, \f, \r), but an
 *   unquoted argument ends only at space, \n, \r, \t or the end;
 * - "double quotes" understand \n \r \t \b \a, \xHH and \<any> escapes; 'single quotes'
 *   only \' ; a closing quote must be followed by a space or the end of the line;
 * - a quote may start in the middle of an argument (`a"b c"` is `ab c`);
 * - a NUL byte ends the line, as it ends the C string Redis parses.
 *
 * Returns null for unbalanced quotes (Redis: "unbalanced quotes in request").
 */

const BACKSLASH = 0x5c;
const DQUOTE = 0x22;
const SQUOTE = 0x27;

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

const ESCAPES: Readonly<Record<number, number>> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x61: 0x07 };

export function splitArgs(line: Uint8Array, from = 0, to = line.length): Buffer[] | null {
  // `at` reads like C reads the NUL-terminated copy Redis makes: 0 past the end.
  const at = (i: number): number => (i < to ? line[i]! : 0);
  const out: Buffer[] = [];
  let p = from;
  for (;;) {
    while (at(p) !== 0 && isSpace(at(p))) p++;
    if (at(p) === 0) return out;
    const token = readToken(p, at);
    if (token === null) return null;
    out.push(token.bytes);
    p = token.next;
  }
}

interface Token { readonly bytes: Buffer; readonly next: number }

/** One argument starting at `p` (not a space); the state machine of sdssplitargs. */
function readToken(start: number, at: (i: number) => number): Token | null {
  const cur: number[] = [];
  let p = start;
  let inDouble = false;
  let inSingle = false;
  let done = false;
  while (!done) {
    const c = at(p);
    if (inDouble) {
      if (c === BACKSLASH && at(p + 1) === 0x78 && hexValue(at(p + 2)) >= 0 && hexValue(at(p + 3)) >= 0) {
        cur.push(hexValue(at(p + 2)) * 16 + hexValue(at(p + 3)));
        p += 3;
      } else if (c === BACKSLASH && at(p + 1) !== 0) {
        p++;
        const e = at(p);
        cur.push(ESCAPES[e] ?? e);
      } else if (c === DQUOTE) {
        if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return null;
        done = true;
      } else if (c === 0) {
        return null;
      } else {
        cur.push(c);
      }
    } else if (inSingle) {
      if (c === BACKSLASH && at(p + 1) === SQUOTE) {
        p++;
        cur.push(SQUOTE);
      } else if (c === SQUOTE) {
        if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return null;
        done = true;
      } else if (c === 0) {
        return null;
      } else {
        cur.push(c);
      }
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0) {
      done = true;
    } else if (c === DQUOTE) {
      inDouble = true;
    } else if (c === SQUOTE) {
      inSingle = true;
    } else {
      cur.push(c);
    }
    if (at(p) !== 0) p++;
  }
  return { bytes: Buffer.from(cur), next: p };
}
