/**
 * Zod schema pieces every process's config reuses, so that an address, a size or a
 * duration is written and validated the same way everywhere. Each is a function returning
 * a fresh schema (callers may `.default()` or `.describe()` it freely). Error messages
 * follow config.ts's style: "must be …, got …".
 *
 * Option names carry their unit last (STYLE.md rule 6): `valueSeparationThresholdBytes:
 * byteSize()`, `electionTimeoutMs: durationMs()`.
 */
import { z } from 'zod';
import { KvError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function logLevel() {
  return z.enum(LOG_LEVELS);
}

/** A TCP port; 0 asks the OS for a free one. */
export function port() {
  return z.number().int().min(0).max(65535);
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

function describeInput(x: unknown): string {
  return typeof x === 'string' ? JSON.stringify(x) : String(x);
}

/**
 * Parses `host:port`: a DNS name, an IPv4 address or a bracketed IPv6 address (`[::1]:7100`),
 * and a port in 0..65535. Returns null if malformed.
 */
export function tryParseHostPort(text: string): HostPort | null {
  const m = /^(\[([^\]]+)\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  if (m === null) return null;
  const portNumber = Number(m[3]);
  if (portNumber > 65535) return null;
  const v6 = m[2];
  if (v6 !== undefined) return IPV6_CHARS.test(v6) && v6.includes(':') ? { host: v6, port: portNumber } : null;
  const host = m[1]!;
  const isName = host.length <= 253 && host.split('.').every((label) => HOST_LABEL.test(label));
  return IPV4.test(host) || isName ? { host, port: portNumber } : null;
}

/** Like `tryParseHostPort`, but throws `KvError('INVALID_ARGUMENT')`. */
export function parseHostPort(text: string): HostPort {
  const hp = tryParseHostPort(text);
  if (hp === null) throw new KvError('INVALID_ARGUMENT', `must be host:port, got ${JSON.stringify(text)}`);
  return hp;
}

/** Formats a `HostPort` back to `host:port`, bracketing IPv6 hosts. */
export function formatHostPort({ host, port: p }: HostPort): string {
  return host.includes(':') ? `[${host}]:${p}` : `${host}:${p}`;
}

/** A `host:port` address, kept as a string (gRPC binds and dials take it as is). */
export function hostPort() {
  return z.string().refine((s) => tryParseHostPort(s) !== null, {
    error: (iss) => `must be host:port (e.g. 127.0.0.1:7100 or [::1]:7100), got ${describeInput(iss.input)}`,
  });
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/**
 * Parses a byte size: a non-negative integer (bytes) or a number with a unit — B, KB, MB,
 * GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), case-insensitive,
 * e.g. `64MiB`, `1.5GB`, `4096`. Fractions of a byte are rounded down. Null if malformed.
 */
export function tryParseByteSize(input: number | string): number | null {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(input);
  if (m === null) return null;
  const unit = BYTE_UNITS[(m[2] ?? '').toLowerCase() || 'b'];
  if (unit === undefined) return null;
  const bytes = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** A byte size in config: a number of bytes or a string like `64MiB`; parses to bytes. */
export function byteSize() {
  return z.union([z.number(), z.string()]).transform((input, ctx) => {
    const bytes = tryParseByteSize(input);
    if (bytes !== null) return bytes;
    ctx.addIssue({ code: 'custom', input, message: `must be a byte size (e.g. 4096, 64KiB, 1GB), got ${describeInput(input)}` });
    return z.NEVER;
  });
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration to milliseconds: a non-negative number (milliseconds) or a string of
 * number-unit pairs with units ms, s, m, h, d — `250ms`, `5s`, `1m30s`, `1.5h`. A bare
 * number string is milliseconds. Rounded to whole milliseconds. Null if malformed.
 */
export function tryParseDurationMs(input: number | string): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input) : null;
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text));
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) return null;
  let ms = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    ms += Number(part[1]) * DURATION_UNITS_MS[part[2]!]!;
  }
  const rounded = Math.round(ms);
  return Number.isSafeInteger(rounded) ? rounded : null;
}

/** A duration in config: milliseconds as a number, or a string like `5s`; parses to milliseconds. */
export function durationMs() {
  return z.union([z.number(), z.string()]).transform((input, ctx) => {
    const ms = tryParseDurationMs(input);
    if (ms !== null) return ms;
    ctx.addIssue({ code: 'custom', input, message: `must be a duration (e.g. 500, 250ms, 5s, 1m30s), got ${describeInput(input)}` });
    return z.NEVER;
  });
}
