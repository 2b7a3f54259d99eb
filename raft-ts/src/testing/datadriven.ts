/**
 * A small data-driven test file format, after cockroachdb/datadriven (used by etcd-raft):
 *
 *   # comment
 *   command arg key=value key=(a,b) \
 *     continued-arg
 *   ----
 *   expected output
 *   <blank line>
 *
 * Output that itself contains blank lines is fenced by a doubled separator:
 * "----\n----\n<output>\n----\n----". Files can be rewritten from actual output.
 */

export interface Arg {
  /** `key` of key=value, or the bare token; '' for a bare parenthesized list. */
  readonly key: string;
  readonly vals: readonly string[];
}

export interface TestCase {
  /** "file:line" of the command, for failure messages. */
  readonly pos: string;
  /** Comment and blank lines before the command, kept verbatim on rewrite. */
  readonly preamble: readonly string[];
  readonly cmdLines: readonly string[];
  readonly cmd: string;
  readonly args: readonly Arg[];
  readonly input: readonly string[];
  readonly expected: string;
}

export interface ParsedFile {
  readonly cases: readonly TestCase[];
  readonly trailer: readonly string[];
}

const SEP = '----';

export function parseFile(text: string, name: string): ParsedFile {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const cases: TestCase[] = [];
  let i = 0;
  let preamble: string[] = [];
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      i++;
      continue;
    }
    const pos = `${name}:${i + 1}`;
    const cmdLines: string[] = [line];
    while (cmdLines[cmdLines.length - 1]!.endsWith('\\') && i + 1 < lines.length) cmdLines.push(lines[++i]!);
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== SEP) input.push(lines[i++]!);
    if (i >= lines.length) throw new Error(`${pos}: missing ${SEP} after command`);
    i++;
    const out: string[] = [];
    if (lines[i] === SEP) {
      i++;
      while (i < lines.length && !(lines[i] === SEP && lines[i + 1] === SEP)) out.push(lines[i++]!);
      if (i >= lines.length) throw new Error(`${pos}: unterminated ${SEP}${SEP} block`);
      i += 2;
    } else {
      while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!);
    }
    if (i < lines.length && lines[i]!.trim() === '') i++; // the case's terminating blank line
    const joined = cmdLines.map((l) => l.replace(/\\$/, '')).join(' ');
    const { cmd, args } = parseCommand(joined, pos);
    cases.push({ pos, preamble, cmdLines, cmd, args, input, expected: out.join('\n') });
    preamble = [];
  }
  return { cases, trailer: preamble };
}

/** Re-serializes a file with `outputs[i]` as the expected output of case i. */
export function formatFile(f: ParsedFile, outputs: readonly string[]): string {
  const parts: string[] = [];
  f.cases.forEach((c, idx) => {
    const out = outputs[idx] ?? c.expected;
    parts.push(...c.preamble, ...c.cmdLines, ...c.input, SEP);
    if (out.split('\n').some((l) => l.trim() === '')) parts.push(SEP, out, SEP, SEP);
    else parts.push(out);
    parts.push('');
  });
  if (f.trailer.length > 0) parts.push(...f.trailer);
  else parts.pop(); // no blank line after the last case
  return parts.join('\n') + '\n';
}

function parseCommand(line: string, pos: string): { cmd: string; args: Arg[] } {
  const toks = tokenize(line, pos);
  const cmd = toks.shift();
  if (cmd === undefined) throw new Error(`${pos}: empty command`);
  return { cmd, args: toks.map(parseArg) };
}

function parseArg(tok: string): Arg {
  const eq = tok.indexOf('=');
  if (tok.startsWith('(')) return { key: '', vals: splitList(tok) };
  if (eq < 0) return { key: unquote(tok), vals: [] };
  const key = tok.slice(0, eq);
  const v = tok.slice(eq + 1);
  return { key, vals: v.startsWith('(') ? splitList(v) : [unquote(v)] };
}

function splitList(v: string): string[] {
  const inner = v.replace(/^\(/, '').replace(/\)$/, '').trim();
  return inner === '' ? [] : inner.split(/[,\s]+/).map(unquote);
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? (JSON.parse(s) as string) : s;
}

/** Splits on whitespace outside parentheses and double quotes. */
function tokenize(line: string, pos: string): string[] {
  const toks: string[] = [];
  let cur = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      cur += ch;
      if (ch === '\\') cur += line[++i] ?? '';
      else if (ch === '"') quoted = false;
    } else if (ch === '"') {
      quoted = true;
      cur += ch;
    } else if (ch === '(') {
      depth++;
      cur += ch;
    } else if (ch === ')') {
      depth--;
      cur += ch;
    } else if (/\s/.test(ch) && depth === 0) {
      if (cur !== '') toks.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (quoted || depth !== 0) throw new Error(`${pos}: unbalanced quotes or parentheses`);
  if (cur !== '') toks.push(cur);
  return toks;
}
