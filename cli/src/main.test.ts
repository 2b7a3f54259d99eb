// Checks the `shoal` binary's contract: --help lists the subcommands later issues fill, a bad
// config exits 2 with one stderr line naming the option and why, and usage errors exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
  for (const cmd of ['node', 'metaserver', 'proxy', 'dev', 'cluster', 'table', 'shard', 'nodes', 'bulk-load', 'backup', 'restore', 'binlog']) {
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
