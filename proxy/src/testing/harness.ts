/**
 * Starts a real proxy on a free loopback port with the test-only in-memory backend, for
 * the TCP tests. `close()` shuts both down.
 */
import type { z } from 'zod';
import { MemoryBackend } from '../backend-memory.js';
import type { MemoryBackendOptions } from '../backend-memory.js';
import { proxyConfigSchema } from '../config.js';
import { ProxyServer } from '../server.js';
import type { ProxyServerOptions } from '../server.js';
import { RespTestClient } from './resp-client.js';

export type ConfigInput = Partial<z.input<typeof proxyConfigSchema>>;

export interface TestProxy {
  readonly server: ProxyServer;
  readonly backend: MemoryBackend;
  readonly port: number;
  connect(): Promise<RespTestClient>;
  close(): Promise<void>;
}

export async function startProxy(config: ConfigInput = {}, backend: MemoryBackendOptions = {},
  extra: Partial<Omit<ProxyServerOptions, 'config' | 'backend'>> = {}): Promise<TestProxy> {
  const parsed = proxyConfigSchema.parse({ metaservers: ['127.0.0.1:7100'], listen: '127.0.0.1:0', ...config });
  const mem = new MemoryBackend(backend);
  const server = new ProxyServer({ config: parsed, backend: mem, ...extra });
  await server.listen();
  const clients: RespTestClient[] = [];
  return {
    server,
    backend: mem,
    port: server.port,
    async connect() {
      const c = await RespTestClient.connect(server.port);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}
