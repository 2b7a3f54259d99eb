/**
 * gRPC status codes, as numbers, per the gRPC specification (doc/statuscodes.md).
 *
 * `common` must not depend on @grpc/grpc-js, so the values are restated here. They are
 * wire constants and never change; grpc-js's `status` enum has the same numbers, so a
 * `GrpcStatus` can be passed wherever grpc-js expects a `status`.
 */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusName = keyof typeof GrpcStatus;
export type GrpcStatus = (typeof GrpcStatus)[GrpcStatusName];

const GRPC_STATUS_NAMES: readonly GrpcStatusName[] = Object.keys(GrpcStatus) as GrpcStatusName[];

/** True if `n` is one of the 17 status numbers the gRPC spec defines. */
export function isGrpcStatus(n: unknown): n is GrpcStatus {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < GRPC_STATUS_NAMES.length;
}

/** The spec name of a status number, e.g. 14 → 'UNAVAILABLE'. */
export function grpcStatusName(status: GrpcStatus): GrpcStatusName {
  const name = GRPC_STATUS_NAMES[status];
  if (name === undefined) throw new RangeError(`not a gRPC status: ${String(status)}`);
  return name;
}
