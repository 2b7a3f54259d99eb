/**
 * Prometheus metrics (prom-client) with Shoal's naming rules enforced at creation.
 *
 * Each process owns one `Registry` from `createRegistry`: Node.js process metrics
 * included, every series labelled `process="<name>"`. Metrics are made through `counter`,
 * `gauge` and `histogram`, which add the `shoal_` prefix and assert the naming rules
 * (STYLE.md rule 6, Prometheus conventions): snake_case, base units (seconds, bytes) last,
 * counters ending in `_total`. A bad name is a programmer error and throws at start-up.
 *
 *   const appliedTotal = counter(registry, { name: 'raft_entries_applied_total', help: '…', labelNames: ['table'] });
 *   const fsyncSeconds = histogram(registry, { name: 'wal_fsync_seconds', help: '…' });
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from 'prom-client';
import { assert } from './assert.js';

export type { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRIC_PREFIX = 'shoal_';

/** Allowed last words of a histogram name: what one observation is measured in. */
export const HISTOGRAM_UNITS = ['seconds', 'bytes', 'ratio', 'entries', 'keys', 'messages', 'requests', 'items', 'ops'] as const;

/** Latency buckets in seconds: 100µs … 10s, roughly ×2.5 apart. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Size buckets in bytes: 64 B … 64 MiB, ×4 apart. */
export const SIZE_BUCKETS_BYTES: readonly number[] = Array.from({ length: 11 }, (_, i) => 64 * 4 ** i);

const NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
const NON_BASE_UNITS = /_(ms|milliseconds|us|microseconds|ns|nanoseconds|minutes|hours|kb|mb|gb|kib|mib|gib)(_total)?$/;

export interface RegistryOptions {
  /** Include Node.js process metrics (CPU, memory, event loop lag, GC); default true. */
  readonly defaultMetrics?: boolean;
}

export function createRegistry(processName: string, options: RegistryOptions = {}): Registry {
  assert(/^[a-z][a-z0-9-]*$/.test(processName), () => `bad process name ${JSON.stringify(processName)}`);
  const registry = new Registry();
  registry.setDefaultLabels({ process: processName });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

function checkName(name: string): void {
  assert(NAME.test(name), () => `metric name must be snake_case: ${name}`);
  assert(!name.startsWith(METRIC_PREFIX), () => `metric name must not repeat the ${METRIC_PREFIX} prefix: ${name}`);
  assert(!NON_BASE_UNITS.test(name), () => `metric name must use base units (seconds, bytes): ${name}`);
}

interface MetricOptions<T extends string> {
  /** Without the `shoal_` prefix. */
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly T[];
}

export function counter<T extends string = never>(
  registry: Registry, options: MetricOptions<T> & Pick<CounterConfiguration<T>, 'collect'>,
): Counter<T> {
  checkName(options.name);
  assert(options.name.endsWith('_total'), () => `counter name must end in _total: ${options.name}`);
  return new Counter<T>({ ...options, labelNames: options.labelNames ?? [], name: METRIC_PREFIX + options.name, registers: [registry] });
}

export function gauge<T extends string = never>(
  registry: Registry, options: MetricOptions<T> & Pick<GaugeConfiguration<T>, 'collect'>,
): Gauge<T> {
  checkName(options.name);
  assert(!options.name.endsWith('_total'), () => `gauge name must not end in _total: ${options.name}`);
  return new Gauge<T>({ ...options, labelNames: options.labelNames ?? [], name: METRIC_PREFIX + options.name, registers: [registry] });
}

export function histogram<T extends string = never>(
  registry: Registry, options: MetricOptions<T> & { readonly buckets?: readonly number[] } & Pick<HistogramConfiguration<T>, 'collect'>,
): Histogram<T> {
  checkName(options.name);
  const unit = HISTOGRAM_UNITS.find((u) => options.name.endsWith(`_${u}`));
  assert(unit !== undefined, () => `histogram name must end in a unit (${HISTOGRAM_UNITS.join(', ')}): ${options.name}`);
  const { buckets: given, ...rest } = options;
  const buckets = given ?? (unit === 'seconds' ? LATENCY_BUCKETS_SECONDS : unit === 'bytes' ? SIZE_BUCKETS_BYTES : undefined);
  return new Histogram<T>({
    ...rest,
    labelNames: options.labelNames ?? [],
    name: METRIC_PREFIX + options.name,
    registers: [registry],
    ...(buckets === undefined ? {} : { buckets: [...buckets] }),
  });
}
