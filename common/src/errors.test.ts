// Goal: the error table is total and consistent, and KvError exposes its code, mappings and RESP line as promised.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  isKvError, isKvErrorCode, KV_ERROR_CODES, KV_ERROR_GRPC_STATUS, KV_ERROR_RESP_PREFIX, KV_ERRORS, KvError,
  kvErrorFromCode,
} from './errors.js';
import type { KvErrorCode } from './errors.js';
import { GrpcStatus, grpcStatusName, isGrpcStatus } from './grpc-status.js';

describe('error table', () => {
  it('contains the codes the issue requires', () => {
    const required = [
      'NOT_LEADER', 'EPOCH_NOT_MATCH', 'KEY_NOT_IN_SHARD', 'SERVER_BUSY', 'TIMEOUT', 'UNAVAILABLE',
      'INVALID_ARGUMENT', 'VALUE_TOO_LARGE', 'KEY_TOO_LARGE', 'WRONG_TYPE', 'NOT_FOUND', 'PERMISSION_DENIED',
      'INTERNAL', 'ALREADY_EXISTS', 'CONDITION_FAILED', 'OVERFLOW', 'UNKNOWN_OUTCOME', 'CROSSSLOT',
      'PROTOCOL_ERROR', 'UNKNOWN_COMMAND', 'SHARD_NOT_FOUND', 'TABLE_NOT_FOUND', 'CANCELLED', 'CONFIG_INVALID',
      'DISK_FAILURE', 'CORRUPTION',
    ];
    for (const code of required) assert.ok(isKvErrorCode(code), code);
  });

  it('maps every code to a gRPC status and a RESP prefix, and nothing else', () => {
    assert.deepEqual(Object.keys(KV_ERROR_GRPC_STATUS).sort(), [...KV_ERROR_CODES].sort());
    assert.deepEqual(Object.keys(KV_ERROR_RESP_PREFIX).sort(), [...KV_ERROR_CODES].sort());
    for (const code of KV_ERROR_CODES) {
      assert.ok(isGrpcStatus(KV_ERROR_GRPC_STATUS[code]), code);
      assert.notEqual(KV_ERROR_GRPC_STATUS[code], GrpcStatus.OK, code);
      assert.match(KV_ERROR_RESP_PREFIX[code], /^[A-Z]+$/, code);
      assert.ok(KV_ERRORS[code].description.length > 0, code);
    }
  });

  it('rejects an incomplete mapping at compile time', () => {
    // @ts-expect-error a Record<KvErrorCode, …> that misses codes must not compile
    const incomplete: Record<KvErrorCode, number> = { NOT_LEADER: 14 };
    assert.ok(incomplete);
  });

  it('never lets a client auto-retry a write of unknown outcome', () => {
    assert.equal(KV_ERRORS.UNKNOWN_OUTCOME.retryable, false);
    assert.notEqual(KV_ERROR_RESP_PREFIX.UNKNOWN_OUTCOME, 'TRYAGAIN');
    assert.notEqual(KV_ERROR_GRPC_STATUS.UNKNOWN_OUTCOME, KV_ERROR_GRPC_STATUS.TIMEOUT);
    for (const code of KV_ERROR_CODES) {
      if (KV_ERROR_RESP_PREFIX[code] === 'TRYAGAIN') assert.ok(KV_ERRORS[code].retryable, code);
    }
  });

  it('uses the Redis prefixes for Redis errors', () => {
    assert.equal(KV_ERROR_RESP_PREFIX.WRONG_TYPE, 'WRONGTYPE');
    assert.equal(KV_ERROR_RESP_PREFIX.CROSSSLOT, 'CROSSSLOT');
    assert.equal(KV_ERROR_RESP_PREFIX.NOT_LEADER, 'TRYAGAIN');
    assert.equal(KV_ERROR_RESP_PREFIX.UNKNOWN_COMMAND, 'ERR');
  });

  it('restates the gRPC status numbers of the spec', () => {
    const expected = [
      'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
      'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
      'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
    ];
    expected.forEach((name, n) => {
      assert.equal(GrpcStatus[name as keyof typeof GrpcStatus], n);
      assert.equal(grpcStatusName(n as GrpcStatus), name);
    });
    assert.equal(isGrpcStatus(17), false);
  });
});

describe('KvError', () => {
  it('carries code, details, cause and derived properties', () => {
    const cause = new Error('socket closed');
    const e = new KvError('NOT_LEADER', 'not leader', {
      details: { leaderHint: { nodeId: 2 as never, peerId: 5 as never, address: '127.0.0.1:7201' } },
      cause,
    });
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'KvError');
    assert.equal(e.code, 'NOT_LEADER');
    assert.equal(e.retryable, true);
    assert.equal(e.grpcStatus, GrpcStatus.UNAVAILABLE);
    assert.equal(e.respPrefix, 'TRYAGAIN');
    assert.equal(e.details?.leaderHint?.address, '127.0.0.1:7201');
    assert.equal(e.cause, cause);
  });

  it('formats a one-line RESP error', () => {
    const e = new KvError('WRONG_TYPE', 'Operation against a key\r\nholding the wrong kind of value');
    assert.equal(e.toResp(), 'WRONGTYPE Operation against a key holding the wrong kind of value');
    assert.equal(new KvError('INTERNAL', '').toResp(), 'ERR');
  });

  it('refuses an unknown code', () => {
    assert.throws(() => new KvError('NOPE' as KvErrorCode, 'x'), TypeError);
  });
});

describe('isKvError and kvErrorFromCode', () => {
  it('recognises KvErrors, optionally by code', () => {
    const e = new KvError('TIMEOUT', 't');
    assert.ok(isKvError(e));
    assert.ok(isKvError(e, 'TIMEOUT'));
    assert.ok(!isKvError(e, 'NOT_FOUND'));
    assert.ok(!isKvError(new Error('x')));
    assert.ok(!isKvError({ code: 'TIMEOUT' }));
  });

  it('recognises a KvError from another copy of the package', () => {
    const foreign = Object.assign(new Error('x'), { name: 'KvError', code: 'SERVER_BUSY' });
    assert.ok(isKvError(foreign, 'SERVER_BUSY'));
  });

  it('rebuilds known codes and turns unknown ones into INTERNAL', () => {
    assert.equal(kvErrorFromCode('EPOCH_NOT_MATCH', 'stale', { details: { shard: { id: 1 } } }).code, 'EPOCH_NOT_MATCH');
    assert.equal(kvErrorFromCode('FROM_THE_FUTURE', 'x').code, 'INTERNAL');
  });
});

describe('README', () => {
  it('documents exactly the table in errors.ts', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| (yes|no) \| ([A-Z_]+) \((\d+)\) \| `([A-Z]+)` \|$/gm)];
    assert.deepEqual(rows.map((r) => r[1]), [...KV_ERROR_CODES]);
    for (const [, code, retryable, statusName, status, prefix] of rows) {
      const c = code as KvErrorCode;
      assert.equal(retryable === 'yes', KV_ERRORS[c].retryable, c);
      assert.equal(Number(status), KV_ERROR_GRPC_STATUS[c], c);
      assert.equal(statusName, grpcStatusName(KV_ERROR_GRPC_STATUS[c]), c);
      assert.equal(prefix, KV_ERROR_RESP_PREFIX[c], c);
    }
  });
});
