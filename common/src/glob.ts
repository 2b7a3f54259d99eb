/**
 * Redis glob patterns (util.c `stringmatchlen`): `*`, `?`, `[abc]`, `[^a-z]`, `\x`
 * escapes, optionally case-insensitive. A port of Redis 7's algorithm, including its early
 * exit for longer matches and its nesting limit, so abusive patterns cost what they cost
 * Redis. The one matcher of the repository: the proxy (CONFIG GET, COMMAND LIST PATTERN,
 * ACL table patterns, CLIENT KILL) and the node's SCAN/KEYS/HSCAN MATCH all use it.
 */

/** Redis' protection against abusive patterns. */
const NESTING_MAX = 1000;

export function globMatch(pattern: Uint8Array | string, subject: Uint8Array | string, nocase = false): boolean {
  const p = typeof pattern === 'string' ? Buffer.from(pattern, 'utf8') : pattern;
  const s = typeof subject === 'string' ? Buffer.from(subject, 'utf8') : subject;
  const skip = { longer: false };
  return match(p, 0, s, 0, nocase, skip, 0);
}

/** True for the pattern `*`, which matches everything (callers skip matching then). */
export function globMatchesAll(pattern: Uint8Array): boolean {
  return pattern.length === 1 && pattern[0] === 0x2a;
}

function lower(c: number, nocase: boolean): number {
  return nocase && c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

interface Skip { longer: boolean }

function match(p: Uint8Array, pi: number, s: Uint8Array, si: number, nocase: boolean, skip: Skip, nesting: number): boolean {
  if (nesting > NESTING_MAX) return false;
  while (pi < p.length && si < s.length) {
    const c = p[pi]!;
    if (c === 0x2a) { // '*'
      while (pi + 1 < p.length && p[pi + 1] === 0x2a) pi++;
      if (pi + 1 === p.length) return true;
      while (si < s.length) {
        if (match(p, pi + 1, s, si, nocase, skip, nesting + 1)) return true;
        if (skip.longer) return false;
        si++;
      }
      skip.longer = true;
      return false;
    } else if (c === 0x3f) { // '?'
      si++;
    } else if (c === 0x5b) { // '['
      const r = matchClass(p, pi + 1, s[si]!, nocase);
      if (!r.matched) return false;
      pi = r.end;
      si++;
    } else {
      if (c === 0x5c && p.length - pi >= 2) pi++; // '\'
      if (lower(p[pi]!, nocase) !== lower(s[si]!, nocase)) return false;
      si++;
    }
    pi++;
    if (si === s.length) {
      while (pi < p.length && p[pi] === 0x2a) pi++;
      break;
    }
  }
  return pi === p.length && si === s.length;
}

/** A `[...]` class starting after `[`; `end` is the index of its `]` (or of the last byte). */
function matchClass(p: Uint8Array, pi: number, ch: number, nocase: boolean): { matched: boolean; end: number } {
  const not = p[pi] === 0x5e; // '^'
  if (not) pi++;
  let matched = false;
  for (;;) {
    const left = p.length - pi;
    if (left >= 2 && p[pi] === 0x5c) {
      pi++;
      if (p[pi] === ch) matched = true;
    } else if (left > 0 && p[pi] === 0x5d) { // ']'
      break;
    } else if (left === 0) {
      pi--;
      break;
    } else if (left >= 3 && p[pi + 1] === 0x2d) { // a-z
      let lo = lower(p[pi]!, nocase);
      let hi = lower(p[pi + 2]!, nocase);
      if (lo > hi) [lo, hi] = [hi, lo];
      const c = lower(ch, nocase);
      pi += 2;
      if (c >= lo && c <= hi) matched = true;
    } else if (lower(p[pi]!, nocase) === lower(ch, nocase)) {
      matched = true;
    }
    pi++;
  }
  return { matched: not ? !matched : matched, end: pi };
}
