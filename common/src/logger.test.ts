// Goal: createLogger writes JSON lines carrying process and nodeId, honours the level, and can write to a new file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KvError } from './errors.js';
import { createLogger } from './logger.js';

function capture(): { stream: { write(line: string): void }; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  return {
    stream: { write: (line: string) => void chunks.push(line) },
    lines: () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('binds process and nodeId and uses level names', () => {
    const out = capture();
    const log = createLogger({ name: 'node', level: 'info', nodeId: 3, destination: out.stream });
    log.info({ shardId: 9 }, 'applied');
    const [line] = out.lines();
    assert.equal(line?.['process'], 'node');
    assert.equal(line?.['nodeId'], 3);
    assert.equal(line?.['level'], 'info');
    assert.equal(line?.['shardId'], 9);
    assert.equal(line?.['msg'], 'applied');
    assert.match(String(line?.['time']), /^\d{4}-\d\d-\d\dT/);
  });

  it('drops lines below the level and keeps child bindings', () => {
    const out = capture();
    const log = createLogger({ name: 'proxy', level: 'warn', destination: out.stream });
    log.info('hidden');
    log.child({ component: 'resp' }).warn('shown');
    const lines = out.lines();
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.['component'], 'resp');
    assert.equal(lines[0]?.['process'], 'proxy');
    assert.equal('nodeId' in (lines[0] ?? {}), false);
  });

  it('serializes a KvError with its code and cause', () => {
    const out = capture();
    const log = createLogger({ name: 'node', level: 'info', destination: out.stream });
    log.error({ err: new KvError('DISK_FAILURE', 'fsync failed', { cause: new Error('EIO') }) }, 'wal');
    const err = out.lines()[0]?.['err'] as Record<string, unknown>;
    assert.equal(err['code'], 'DISK_FAILURE');
    assert.equal(err['type'], 'KvError');
    assert.ok(err['cause'] !== undefined);
  });

  it('writes synchronously to a file, creating its directory', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'shoal-log-test-')), 'nested', 'dir', 'node.log');
    const log = createLogger({ name: 'metaserver', level: 'debug', file: path });
    log.debug('one');
    log.info('two');
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => l['msg']), ['one', 'two']);
    assert.equal(lines[0]?.['process'], 'metaserver');
  });
});
