/**
 * Shared by this package's tests (not exported from index.ts): every generated codec by
 * type name, and the ways tests reach the .proto sources.
 */
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as admin from './gen/admin.js';
import * as common from './gen/common.js';
import * as kv from './gen/kv.js';
import * as meta from './gen/meta.js';
import * as raft from './gen/raft.js';
import type { MessageCodec } from './runtime.js';

/** The proto/ package directory (tests run from proto/dist/). */
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

export function protoFiles(): string[] {
  return readdirSync(PACKAGE_DIR).filter((f) => f.endsWith('.proto')).sort().map((f) => join(PACKAGE_DIR, f));
}

function isCodec(x: unknown): x is MessageCodec<unknown> {
  return typeof x === 'object' && x !== null && 'typeName' in x && 'decode' in x && 'encode' in x;
}

/** Every generated message codec, keyed by its protobuf type name. */
export function allCodecs(): Map<string, MessageCodec<unknown>> {
  const codecs = new Map<string, MessageCodec<unknown>>();
  for (const mod of [admin, common, kv, meta, raft]) {
    for (const value of Object.values(mod)) {
      if (isCodec(value)) codecs.set(value.typeName, value);
    }
  }
  return codecs;
}
