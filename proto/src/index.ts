/**
 * @shoal/proto — the wire contract of Shoal: protobuf messages and gRPC services,
 * generated as static TypeScript from proto/*.proto by proto/scripts/gen.mjs.
 *
 * One namespace per .proto file, so names stay unambiguous (`kv.GetRequest`,
 * `raft.Message`, `meta.Operator`, `command.RaftCommand`). Each message `X` is both an
 * interface (the decoded shape) and a codec constant (`X.encode`, `X.decode`,
 * `X.create`); each service `S` gives `SService` (grpc-js ServiceDefinition), `SServer`
 * (implementation interface) and `SClient` (typed client constructor). See README.md for
 * the type mapping.
 */
export * as common from './gen/common.js';
export * as kv from './gen/kv.js';
export * as raft from './gen/raft.js';
export * as meta from './gen/meta.js';
export * as admin from './gen/admin.js';
export * as command from './gen/command.js';
export * as metacmd from './gen/metacmd.js';
export {
  DECODE_DEPTH_MAX,
  EMPTY_BYTES,
  ProtoError,
  Reader,
  Writer,
  encodeMessage,
} from './runtime.js';
export type { MessageCodec, ProtoErrorCode } from './runtime.js';
