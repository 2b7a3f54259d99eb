/**
 * Redis' glob matching (util.c stringmatchlen) over bytes: `*`, `?`, `[abc]`, `[^a-z]`,
 * `\x` escapes; case-sensitive. A port of Redis 7's algorithm, including its early exit
 * (`skipLongerMatches`) and nesting limit, so abusive patterns cost what they cost Redis.
 */

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const BACKSLASH = 0x5c;
const DASH = 0x2d;
const NESTING_MAX = 1000;

export function globMatch(pattern: Uint8Array, s: Uint8Array): boolean {
  return match(pattern, 0, s, 0, { skipLonger: false }, 0);
}

/** True for the pattern `*`, which matches everything (callers skip matching then). */
export function matchesAll(pattern: Uint8Array): boolean {
  return pattern.length === 1 && pattern[0] === STAR;
}

function match(p: Uint8Array, pi: number, s: Uint8Array, si: number, st: { skipLonger: boolean }, nesting: number): boolean {
  if (nesting > NESTING_MAX) return false;
  let pLen = p.length - pi;
  let sLen = s.length - si;
  while (pLen > 0 && sLen > 0) {
    switch (p[pi]) {
      case STAR: {
        while (pLen > 1 && p[pi + 1] === STAR) {
          pi++;
          pLen--;
        }
        if (pLen === 1) return true;
        while (sLen > 0) {
          if (match(p, pi + 1, s, si, st, nesting + 1)) return true;
          if (st.skipLonger) return false;
          si++;
          sLen--;
        }
        st.skipLonger = true;
        return false;
      }
      case QUESTION:
        si++;
        sLen--;
        break;
      case OPEN: {
        pi++;
        pLen--;
        const not = p[pi] === CARET;
        if (not) {
          pi++;
          pLen--;
        }
        let matched = false;
        const c = s[si]!;
        for (;;) {
          if (pLen === 0) {
            pi--;
            pLen++;
            break;
          }
          const pc = p[pi]!;
          if (pc === BACKSLASH && pLen >= 2) {
            pi++;
            pLen--;
            if (p[pi] === c) matched = true;
          } else if (pc === CLOSE) {
            break;
          } else if (pLen >= 3 && p[pi + 1] === DASH) {
            let lo = pc;
            let hi = p[pi + 2]!;
            if (lo > hi) [lo, hi] = [hi, lo];
            pi += 2;
            pLen -= 2;
            if (c >= lo && c <= hi) matched = true;
          } else if (pc === c) {
            matched = true;
          }
          pi++;
          pLen--;
        }
        if (not) matched = !matched;
        if (!matched) return false;
        si++;
        sLen--;
        break;
      }
      case BACKSLASH:
        if (pLen >= 2) {
          pi++;
          pLen--;
        }
        if (p[pi] !== s[si]) return false;
        si++;
        sLen--;
        break;
      default:
        if (p[pi] !== s[si]) return false;
        si++;
        sLen--;
        break;
    }
    pi++;
    pLen--;
    if (sLen === 0) {
      while (pLen > 0 && p[pi] === STAR) {
        pi++;
        pLen--;
      }
      break;
    }
  }
  return pLen === 0 && sLen === 0;
}
