/**
 * The proxy's settings under their Redis names, for CONFIG GET and CONFIG SET.
 *
 * `RuntimeSettings` holds the values that may change while the proxy runs (CONFIG SET
 * applies to this proxy process only; other proxies and the cluster are untouched).
 * `CONFIG_PARAMS` lists every parameter CONFIG GET answers: the per-proxy ones are
 * settable; the rest report what Shoal does (and CONFIG SET explains why it cannot change
 * them here), so tools that read `save`, `appendonly` or `databases` get sensible answers.
 */
import type { ProxyConfig } from './config.js';
import type { ParserLimits } from './resp/parser.js';

export class RuntimeSettings {
  idleTimeoutMs: number;
  maxClients: number;
  slowlogLogSlowerThanUs: number;
  slowlogMaxLen: number;
  /** Shared by every connection's parser: a change applies to the next request read. */
  readonly limits: { -readonly [K in keyof ParserLimits]: ParserLimits[K] };

  constructor(readonly config: ProxyConfig) {
    this.idleTimeoutMs = config.idleTimeoutMs;
    this.maxClients = config.maxClients;
    this.slowlogLogSlowerThanUs = config.slowlogLogSlowerThanUs;
    this.slowlogMaxLen = config.slowlogMaxLen;
    this.limits = {
      bulkBytesMax: config.bulkBytesMax,
      multibulkLengthMax: config.multibulkLengthMax,
      inlineBytesMax: config.inlineBytesMax,
      bufferBytesMax: config.clientBufferBytesMax,
    };
  }
}

interface Settable {
  /** Parses a CONFIG SET value: the value to apply, or the reason it is refused. */
  parse(text: string): { ok: true; value: number } | { ok: false; reason: string };
  apply(s: RuntimeSettings, value: number): void;
}

export interface ConfigParam {
  /** Redis name, lower case. */
  readonly name: string;
  get(s: RuntimeSettings): string;
  /** Absent: CONFIG SET refuses with `fixed`. */
  readonly set?: Settable;
  /** Why CONFIG SET cannot change it on a proxy. */
  readonly fixed?: string;
}

const LLONG_MAX = Number.MAX_SAFE_INTEGER;

function integer(min: number, max: number, apply: (s: RuntimeSettings, v: number) => void): Settable {
  return {
    parse(text) {
      if (!/^-?\d+$/.test(text)) return { ok: false, reason: 'argument couldn\'t be parsed into an integer' };
      const v = Number(text);
      if (!Number.isSafeInteger(v) || v < min || v > max) {
        return { ok: false, reason: `argument must be between ${min} and ${max === LLONG_MAX ? '9223372036854775807' : max} inclusive` };
      }
      return { ok: true, value: v };
    },
    apply,
  };
}

const MEMORY_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };

/** A byte size like Redis' memtoull: `1048576`, `1mb`, `512m`, `1gb`. */
function memory(min: number, apply: (s: RuntimeSettings, v: number) => void): Settable {
  return {
    parse(text) {
      const m = /^(\d+)([a-z]*)$/i.exec(text);
      const unit = m === null ? undefined : MEMORY_UNITS[m[2]!.toLowerCase()];
      if (m === null || unit === undefined) return { ok: false, reason: 'argument must be a memory value' };
      const v = Number(m[1]) * unit;
      if (!Number.isSafeInteger(v) || v < min) return { ok: false, reason: `argument must be between ${min} and 9223372036854775807 inclusive` };
      return { ok: true, value: v };
    },
    apply,
  };
}

const fixed = (name: string, value: string | ((s: RuntimeSettings) => string), why: string): ConfigParam => ({
  name, get: typeof value === 'string' ? () => value : value, fixed: why,
});

const CLUSTER_WIDE = 'a cluster-wide setting of Shoal, not settable through a proxy';
const NOT_APPLICABLE = 'not applicable to Shoal (durability comes from Raft replication)';
const PROXY_CONFIG = 'set in the proxy\'s config file (restart to change)';

export const CONFIG_PARAMS: readonly ConfigParam[] = [
  { name: 'timeout', get: (s) => String(Math.floor(s.idleTimeoutMs / 1000)), set: integer(0, LLONG_MAX, (s, v) => { s.idleTimeoutMs = v * 1000; }) },
  { name: 'maxclients', get: (s) => String(s.maxClients), set: integer(1, LLONG_MAX, (s, v) => { s.maxClients = v; }) },
  { name: 'slowlog-log-slower-than', get: (s) => String(s.slowlogLogSlowerThanUs), set: integer(-1, LLONG_MAX, (s, v) => { s.slowlogLogSlowerThanUs = v; }) },
  { name: 'slowlog-max-len', get: (s) => String(s.slowlogMaxLen), set: integer(0, LLONG_MAX, (s, v) => { s.slowlogMaxLen = v; }) },
  { name: 'proto-max-bulk-len', get: (s) => String(s.limits.bulkBytesMax), set: memory(1024 * 1024, (s, v) => { s.limits.bulkBytesMax = v; }) },
  { name: 'client-query-buffer-limit', get: (s) => String(s.limits.bufferBytesMax), set: memory(1024 * 1024, (s, v) => { s.limits.bufferBytesMax = v; }) },
  fixed('databases', (s) => String(s.config.databases.length), `${PROXY_CONFIG}: databases maps db indexes to tables`),
  fixed('port', (s) => s.config.listen.split(':').pop() ?? '', PROXY_CONFIG),
  fixed('bind', (s) => s.config.listen.slice(0, s.config.listen.lastIndexOf(':')).replace(/^\[|\]$/g, ''), PROXY_CONFIG),
  fixed('requirepass', '', `${PROXY_CONFIG} (requirePass / users); never shown`),
  fixed('save', '', NOT_APPLICABLE),
  fixed('appendonly', 'yes', NOT_APPLICABLE),
  fixed('appendfsync', 'always', NOT_APPLICABLE),
  fixed('maxmemory', '0', CLUSTER_WIDE),
  fixed('maxmemory-policy', 'noeviction', CLUSTER_WIDE),
  fixed('cluster-enabled', 'no', 'the proxy routes keys itself and presents the cluster as one standalone server'),
  fixed('notify-keyspace-events', '', CLUSTER_WIDE),
  fixed('io-threads', '1', PROXY_CONFIG),
  fixed('hz', '10', PROXY_CONFIG),
  fixed('tcp-keepalive', '300', PROXY_CONFIG),
  fixed('protected-mode', 'no', PROXY_CONFIG),
  fixed('lua-time-limit', '5000', 'scripting is not supported'),
  fixed('busy-reply-threshold', '5000', 'scripting is not supported'),
  fixed('replica-read-only', 'yes', CLUSTER_WIDE),
  fixed('min-replicas-to-write', '0', CLUSTER_WIDE),
];

export function configParam(name: string): ConfigParam | undefined {
  const lower = name.toLowerCase();
  return CONFIG_PARAMS.find((p) => p.name === lower);
}
