// Checks the `shoal` binary's contract: --help lists the subcommands later issues fill, a bad
// config exits 2 with one stderr line naming the option and why, usage errors exit 2, and an
// admin command that cannot do its job exits 1 with one line naming the cause.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');

function shoal(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SHOAL_')));
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help lists every subcommand', () => {
  const r = shoal('--help');
  assert.equal(r.status, 0);
  for (const cmd of ['node', 'metaserver', 'proxy', 'dev', 'cluster', 'table', 'shard', 'operator', 'bulk-load', 'backup', 'restore', 'binlog']) {
    assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, 'm'), `--help does not list ${cmd}`);
  }
});

test('a bad flag value exits 2 with one line naming the option and the reason', () => {
  const r = shoal('node', '--node-id', '1', '--data-dir', '/tmp/shoal-x', '--raft-log-sync', 'sometimes');
  assert.equal(r.status, 2);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /raftLogSync/);
  assert.match(lines[0]!, /--raft-log-sync/);
  assert.match(lines[0]!, /sometimes/);
});

test('a malformed config file exits 2 naming the bad option', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-cli-'));
  const file = join(dir, 'metaserver.yaml');
  writeFileSync(file, 'id: 1\ndataDir: /tmp/m\nlisten: "127.0.0.1:notaport"\n');
  const r = shoal('metaserver', '--config', file);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^invalid config: listen \(from .*metaserver\.yaml\)/);
});

test('unparseable YAML, a missing required option and an unknown option each exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-cli-'));
  const file = join(dir, 'proxy.yaml');
  writeFileSync(file, 'metaservers: [127.0.0.1:7100\n');
  for (const args of [['proxy', '--config', file], ['proxy'], ['proxy', '--metaservers', '127.0.0.1:7100', '--bogus-option', '1']]) {
    const r = shoal(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^invalid config: /);
  }
});

test('an unknown subcommand is a usage error (exit 2)', () => {
  const r = shoal('no-such-command');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command/);
});

test('an admin command with a bad argument exits 1 naming it, before contacting anyone', () => {
  const r = shoal('shard', 'force-reduce', '7', '--keep', '1,x', '--yes', '--meta', '127.0.0.1:1');
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^shoal shard force-reduce: INVALID_ARGUMENT: --keep: "x" is not a positive integer id/);
});

test('operator cancel takes one positive operator id, named in the error before contacting anyone', () => {
  const bad = shoal('operator', 'cancel', 'x1', '--meta', '127.0.0.1:1');
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.trimEnd().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /^shoal operator cancel: INVALID_ARGUMENT: operatorId: "x1" is not a positive integer id/);
  const missing = shoal('operator', 'cancel');
  assert.equal(missing.status, 2, 'a missing argument is a usage error');
  assert.match(missing.stderr, /missing required argument 'operatorId'/);
});

test('an admin command that reaches no metaserver exits 1 with UNAVAILABLE within its --timeout', () => {
  const started = Date.now();
  const r = shoal('node', 'list', '--meta', '127.0.0.1:1,127.0.0.1:2', '--timeout', '1s');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^shoal node list: UNAVAILABLE: no metaserver leader of 127\.0\.0\.1:1, 127\.0\.0\.1:2 answered/);
  assert.ok(Date.now() - started < 20_000, 'the deadline bounds the retries');
});

test('SHOAL_METASERVERS is read when --meta is absent, and a bad entry names the variable', () => {
  const env = { ...process.env, SHOAL_METASERVERS: 'nohost' };
  const r = spawnSync(process.execPath, [MAIN, 'cluster', 'status'], { encoding: 'utf8', env, timeout: 30_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /INVALID_ARGUMENT: SHOAL_METASERVERS: "nohost" is not host:port/);
});

test('shoal dev refuses bad options with exit 1 naming them', () => {
  for (const [flag, value] of [['--metaservers', '2'], ['--nodes', '0'], ['--base-port', '80']] as const) {
    const r = shoal('dev', flag, value, '--data-dir', join(tmpdir(), 'shoal-dev-never-started'));
    assert.equal(r.status, 1, `${flag} ${value}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^shoal dev: ${flag}: `));
  }
});

test('shoal dev refuses to start over a port something else holds, naming it', async () => {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  const dataDir = mkdtempSync(join(tmpdir(), 'shoal-dev-'));
  try {
    // Asynchronous spawn: the listening server above must keep answering meanwhile.
    const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [MAIN, 'dev', '--metaservers', '1', '--nodes', '1', '--base-port', String(port), '--data-dir', dataDir],
        { timeout: 30_000 }, (err, _stdout, stderr) => resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr }));
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`port ${port} \\(meta1 gRPC\\) on 127\\.0\\.0\\.1 is in use`));
  } finally {
    srv.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
