import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { EXIT_FATAL, EXIT_OK, runService } from './service-main.js';
import type { RunningService } from './service-main.js';

function fakeService(): RunningService & { stopped: number; failFatal(): void } {
  let failFatal: () => void = () => undefined;
  const fatal = new Promise<void>((resolve) => { failFatal = resolve; });
  const s = {
    stopped: 0,
    fatal,
    failFatal: () => failFatal(),
    stop: () => { s.stopped++; return Promise.resolve(); },
    logger: { info: () => undefined, error: () => undefined },
  };
  return s;
}

const silentExit = (): void => undefined;

test('a signal stops a running service and exits 0', async () => {
  const signals = new EventEmitter();
  const svc = fakeService();
  const run = runService({ name: 't', start: () => Promise.resolve(svc), shutdownTimeoutMs: 1000, signals: signals as never, exit: silentExit });
  await new Promise((r) => setImmediate(r));
  signals.emit('SIGTERM', 'SIGTERM');
  assert.equal(await run, EXIT_OK);
  assert.equal(svc.stopped, 1);
  assert.equal(signals.listenerCount('SIGTERM'), 0);
});

test('a signal during start is not lost: the service stops as soon as it started', async () => {
  const signals = new EventEmitter();
  const svc = fakeService();
  let finishStart: () => void = () => undefined;
  const run = runService({
    name: 't', start: () => new Promise<typeof svc>((resolve) => { finishStart = () => resolve(svc); }), shutdownTimeoutMs: 1000, signals: signals as never, exit: silentExit,
  });
  signals.emit('SIGINT', 'SIGINT');
  finishStart();
  assert.equal(await run, EXIT_OK);
  assert.equal(svc.stopped, 1);
});

test('a fatal storage failure stops the service and exits 1', async () => {
  const signals = new EventEmitter();
  const svc = fakeService();
  const run = runService({ name: 't', start: () => Promise.resolve(svc), shutdownTimeoutMs: 1000, signals: signals as never, exit: silentExit });
  svc.failFatal();
  assert.equal(await run, EXIT_FATAL);
  assert.equal(svc.stopped, 1);
});

test('a start that fails exits 1 without stopping anything', async () => {
  const signals = new EventEmitter();
  const original = console.error;
  const lines: string[] = [];
  console.error = (line: string) => { lines.push(line); };
  try {
    const code = await runService({ name: 'shoal t', start: () => Promise.reject(new Error('disk gone')), shutdownTimeoutMs: 1000, signals: signals as never, exit: silentExit });
    assert.equal(code, EXIT_FATAL);
  } finally {
    console.error = original;
  }
  assert.deepEqual(lines, ['shoal t: cannot start: disk gone']);
});
