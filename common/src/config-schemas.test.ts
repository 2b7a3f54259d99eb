// Goal: the shared schema pieces accept the documented forms of addresses, sizes and durations and reject the rest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKvError } from './errors.js';
import {
  byteSize, durationMs, formatHostPort, hostPort, logLevel, parseHostPort, port, tryParseByteSize,
  tryParseDurationMs, tryParseHostPort,
} from './config-schemas.js';

describe('host:port', () => {
  it('accepts names, IPv4 and bracketed IPv6', () => {
    assert.deepEqual(tryParseHostPort('127.0.0.1:7100'), { host: '127.0.0.1', port: 7100 });
    assert.deepEqual(tryParseHostPort('node-1.shoal.local:0'), { host: 'node-1.shoal.local', port: 0 });
    assert.deepEqual(tryParseHostPort('[::1]:65535'), { host: '::1', port: 65535 });
    assert.equal(formatHostPort({ host: '::1', port: 1 }), '[::1]:1');
    assert.equal(formatHostPort(parseHostPort('localhost:6380')), 'localhost:6380');
  });

  it('rejects malformed addresses', () => {
    for (const bad of ['', 'localhost', ':80', 'host:', 'host:65536', '::1:80', '[zz]:1', 'a b:1', '-x:1', 'h:1:2']) {
      assert.equal(tryParseHostPort(bad), null, bad);
    }
    assert.throws(() => parseHostPort('nope'), (e: unknown) => isKvError(e, 'INVALID_ARGUMENT'));
    assert.equal(hostPort().safeParse('x').success, false);
    assert.equal(hostPort().safeParse('x:1').success, true);
  });
});

describe('byte sizes', () => {
  it('parse SI and IEC units', () => {
    assert.equal(tryParseByteSize(4096), 4096);
    assert.equal(tryParseByteSize('4096'), 4096);
    assert.equal(tryParseByteSize('64KiB'), 65536);
    assert.equal(tryParseByteSize('1.5 GB'), 1.5e9);
    assert.equal(tryParseByteSize('2mib'), 2 * 2 ** 20);
    assert.equal(byteSize().parse('1TiB'), 2 ** 40);
  });

  it('reject negative, fractional-byte numbers and unknown units', () => {
    for (const bad of [-1, 1.5, '1 parsec', '-3KB', 'KB', '']) assert.equal(tryParseByteSize(bad), null, String(bad));
    assert.equal(byteSize().safeParse('lots').success, false);
  });
});

describe('durations', () => {
  it('parse milliseconds and unit strings', () => {
    assert.equal(tryParseDurationMs(250), 250);
    assert.equal(tryParseDurationMs('250'), 250);
    assert.equal(tryParseDurationMs('250ms'), 250);
    assert.equal(tryParseDurationMs('5s'), 5000);
    assert.equal(tryParseDurationMs('1m30s'), 90_000);
    assert.equal(tryParseDurationMs('1.5h'), 5_400_000);
    assert.equal(durationMs().parse('2d'), 172_800_000);
  });

  it('reject malformed durations', () => {
    for (const bad of [-1, '5 parsecs', 's', '1x', '', '-5s']) assert.equal(tryParseDurationMs(bad), null, String(bad));
  });
});

describe('small schemas', () => {
  it('bound ports and log levels', () => {
    assert.equal(port().safeParse(0).success, true);
    assert.equal(port().safeParse(65536).success, false);
    assert.equal(logLevel().safeParse('debug').success, true);
    assert.equal(logLevel().safeParse('verbose').success, false);
  });
});
