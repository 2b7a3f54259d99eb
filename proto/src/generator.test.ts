// Goal: scripts/gen.mjs handles every field shape and scalar type it claims to support
// (fixtures/fixture.proto, beyond what Shoal's own .proto files use): its output
// type-checks under the repository's strict settings and is wire-compatible with protobufjs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import protobuf from 'protobufjs';
import ts from 'typescript';
import type { MessageCodec } from './runtime.js';
import { PACKAGE_DIR } from './test-helpers.js';
import { assertWireCompatible } from './wire-check.js';

const FIXTURE_DIR = join(PACKAGE_DIR, 'fixtures');
// Inside dist/, so the generated `../runtime.js` import finds the compiled runtime.
const OUT_DIR = join(PACKAGE_DIR, 'dist', 'gen-fixture');
const OUT_TS = join(OUT_DIR, 'fixture.ts');

function generate(): void {
  rmSync(OUT_DIR, { recursive: true, force: true });
  const run = spawnSync(process.execPath, [join(PACKAGE_DIR, 'scripts', 'gen.mjs'), '--proto-dir', FIXTURE_DIR, '--out', OUT_DIR],
    { encoding: 'utf8' });
  assert.equal(run.status, 0, `gen.mjs failed:\n${run.stderr}`);
}

/** Type-checks the generated fixture with the repository's tsconfig.base.json. */
function typeCheck(): string[] {
  const configPath = join(PACKAGE_DIR, '..', 'tsconfig.base.json');
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, join(PACKAGE_DIR, '..'));
  const options = { ...parsed.options, noEmit: true, composite: false, incremental: false, declaration: false, declarationMap: false };
  const program = ts.createProgram([OUT_TS], options);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

async function load(): Promise<Record<string, unknown>> {
  const js = ts.transpileModule(readFileSync(OUT_TS, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  }).outputText;
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'fixture.js'), js);
  return (await import(pathToFileURL(join(OUT_DIR, 'fixture.js')).href)) as Record<string, unknown>;
}

function codec(mod: Record<string, unknown>, name: string): MessageCodec<unknown> {
  const c = mod[name];
  assert.ok(typeof c === 'object' && c !== null && 'typeName' in c, `${name} is not a codec`);
  return c as MessageCodec<unknown>;
}

test('the fixture generates, type-checks strictly and is wire-compatible with protobufjs', async () => {
  generate();
  assert.deepEqual(typeCheck(), []);
  const mod = await load();
  const root = new protobuf.Root();
  root.loadSync(join(FIXTURE_DIR, 'fixture.proto'));
  root.resolveAll();
  const names = ['Scalars', 'Repeated', 'Optionals', 'Maps', 'Outer', 'Outer_Inner', 'Nothing'];
  for (const name of names) {
    const c = codec(mod, name);
    assertWireCompatible(c, root.lookupType(c.typeName), 100);
  }

  // Enum naming: the shared prefix is stripped, a mixed set is kept, nested enums flattened.
  assert.deepEqual({ ...(mod['Color'] as object) }, { RED: 0, GREEN: 1, BLUE: 2 });
  assert.deepEqual({ ...(mod['Mixed'] as object) }, { ZERO: 0, MIXED_ONE: 1 });
  assert.deepEqual({ ...(mod['Outer_Inner_Kind'] as object) }, { A: 0, B: 1 });

  // [packed = false] is honoured on encode.
  const repeated = codec(mod, 'Repeated');
  const unpacked = repeated.encode(repeated.create({ rUnpacked: [1, 2] } as object)).finish();
  assert.equal(Buffer.from(unpacked).toString('hex'), '900101900102');

  // The service definition carries every streaming kind.
  const service = mod['EverythingService'] as Record<string, { path: string; requestStream: boolean; responseStream: boolean }>;
  assert.deepEqual(Object.entries(service).map(([k, m]) => [k, m.path, m.requestStream, m.responseStream]), [
    ['unary', '/shoal.fixture.Everything/Unary', false, false],
    ['serverStream', '/shoal.fixture.Everything/ServerStream', false, true],
    ['clientStream', '/shoal.fixture.Everything/ClientStream', true, false],
    ['bidi', '/shoal.fixture.Everything/Bidi', true, true],
  ]);
});
