// Goal: the chaos failpoints parse and format their spec, refuse bad ones naming the
// option (and leave the previous state), heal with an empty spec, and skew only the wall
// clock (Date.now), never the monotonic one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKvError } from '@shoal/common';
import { Failpoints, formatFailpoints, parseFailpoints } from './failpoints.js';

test('a spec round-trips through parse and format', () => {
  const spec = 'drop-to=2+3,drop-from=3,wal-fsync-error,wal-write-error,clock-skew-ms=-5000';
  const s = parseFailpoints(spec);
  assert.deepEqual(s.dropTo, [2, 3]);
  assert.deepEqual(s.dropFrom, [3]);
  assert.equal(s.walFsyncError, true);
  assert.equal(s.clockSkewMs, -5000);
  assert.equal(formatFailpoints(s), spec);
  assert.equal(formatFailpoints(parseFailpoints('')), '');
});

test('bad specs are refused with CONFIG_INVALID naming failpoints, and change nothing', () => {
  const fp = new Failpoints('drop-to=2');
  for (const bad of ['drop-to', 'drop-to=0', 'drop-to=a', 'clock-skew-ms=1.5', 'clock-skew-ms=999999999', 'disk-on-fire']) {
    assert.throws(() => fp.set(bad), (e) => isKvError(e, 'CONFIG_INVALID') && e.details?.option === 'failpoints', bad);
  }
  assert.equal(fp.dropsTo(2), true);
  fp.set('');
  assert.equal(fp.dropsTo(2), false);
});

test('drop-to and drop-from are one-way each; the WAL hooks read the current state', () => {
  const fp = new Failpoints('drop-to=2');
  assert.equal(fp.dropsTo(2), true);
  assert.equal(fp.dropsFrom(2), false);
  const wal = fp.wal();
  assert.equal(wal.fsyncError(), false);
  fp.set('wal-fsync-error');
  assert.equal(wal.fsyncError(), true);
  assert.equal(wal.writeError(), false);
});

test('clock-skew-ms moves Date.now but not performance.now', () => {
  const fp = new Failpoints();
  const wall0 = Date.now();
  const mono0 = performance.now();
  fp.set('clock-skew-ms=60000');
  try {
    assert.ok(Date.now() - wall0 >= 59_000, 'wall clock skewed forward');
    assert.ok(performance.now() - mono0 < 5_000, 'monotonic clock untouched');
  } finally {
    fp.set('');
  }
  assert.ok(Math.abs(Date.now() - wall0) < 5_000, 'healed');
});
