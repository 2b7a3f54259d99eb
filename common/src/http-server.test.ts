// Goal: the status server serves /metrics and /healthz, answers 404/405 otherwise, and closes cleanly.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { isKvError } from './errors.js';
import { startHttpServer } from './http-server.js';
import type { HealthReport } from './http-server.js';
import { counter, createRegistry } from './metrics.js';

describe('startHttpServer', () => {
  it('serves metrics, health, extra routes and errors', async () => {
    const registry = createRegistry('node', { defaultMetrics: false });
    counter(registry, { name: 'test_requests_total', help: 'test' }).inc(2);
    let health: HealthReport = { healthy: true, checks: { disk: { healthy: true } } };
    const server = await startHttpServer({
      host: '127.0.0.1', port: 0, registry, health: () => health,
      handlers: { '/hello': (_req, res) => void res.end('hi') },
    });
    try {
      assert.ok(server.port > 0);
      const metrics = await fetch(`${server.url}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(await metrics.text(), /^shoal_test_requests_total\{process="node"\} 2$/m);

      const ok = await fetch(`${server.url}/healthz`);
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { status: 'ok', healthy: true, checks: { disk: { healthy: true } } });

      health = { healthy: false, checks: { raft: { healthy: false, detail: 'no leader' } } };
      const sick = await fetch(`${server.url}/healthz?verbose=1`);
      assert.equal(sick.status, 503);
      assert.equal(((await sick.json()) as { status: string }).status, 'unhealthy');

      assert.equal(await (await fetch(`${server.url}/hello`)).text(), 'hi');
      assert.equal((await fetch(`${server.url}/nope`)).status, 404);
      const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
      assert.equal((await fetch(`${server.url}/healthz`, { method: 'HEAD' })).status, 503);
    } finally {
      await server.close();
    }
  });

  it('reports a failing or slow health check as unhealthy', async () => {
    const registry = createRegistry('node', { defaultMetrics: false });
    const failing = await startHttpServer({ host: '127.0.0.1', port: 0, registry, health: () => { throw new Error('boom'); } });
    const slow = await startHttpServer({
      host: '127.0.0.1', port: 0, registry, healthTimeoutMs: 20,
      health: () => new Promise<HealthReport>(() => undefined),
    });
    try {
      assert.equal((await fetch(`${failing.url}/healthz`)).status, 503);
      assert.equal((await fetch(`${slow.url}/healthz`)).status, 503);
    } finally {
      await Promise.all([failing.close(), slow.close()]);
    }
  });

  it('closes despite keep-alive connections, and close is idempotent', async () => {
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, registry: createRegistry('node', { defaultMetrics: false }), health: () => ({ healthy: true }) });
    await fetch(`${server.url}/healthz`, { keepalive: true });
    await Promise.all([server.close(), server.close()]);
    await assert.rejects(fetch(`${server.url}/healthz`));
  });

  it('fails with UNAVAILABLE when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      await assert.rejects(
        startHttpServer({ host: '127.0.0.1', port, registry: createRegistry('node', { defaultMetrics: false }), health: () => ({ healthy: true }) }),
        (e: unknown) => isKvError(e, 'UNAVAILABLE'),
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('refuses handlers that would shadow /metrics or /healthz', async () => {
    await assert.rejects(
      startHttpServer({
        host: '127.0.0.1', port: 0, registry: createRegistry('node', { defaultMetrics: false }),
        health: () => ({ healthy: true }), handlers: { '/metrics': (_req, res) => void res.end() },
      }),
      (e: unknown) => isKvError(e, 'INVALID_ARGUMENT'),
    );
  });
});
