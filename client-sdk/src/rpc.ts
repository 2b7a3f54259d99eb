/**
 * One unary gRPC call and the translation of its outcome into Shoal's error model.
 *
 * A call's failure is a value, not an exception (STYLE.md rule 5), and says whether the
 * request may have executed: once the request has been handed to gRPC, a transport error
 * (deadline, lost connection) leaves its effect unknown. The executor turns that into
 * UNKNOWN_OUTCOME for writes; only UNIMPLEMENTED proves the server ran nothing.
 */
import { Metadata, status } from '@grpc/grpc-js';
import type { Client, MethodDefinition, ServiceError } from '@grpc/grpc-js';
import { KvError, kvErrorFromCode, nodeId, peerId } from '@shoal/common';
import type { KvErrorCode, KvErrorDetails } from '@shoal/common';
import type { common } from '@shoal/proto';
import type { Deadline } from './timing.js';

/** The outcome of one RPC attempt. */
export type RpcOutcome<Res> =
  | { readonly ok: true; readonly res: Res }
  | { readonly ok: false; readonly error: KvError; readonly mayHaveExecuted: boolean };

/** Every Shoal response message carries an `ErrorDetail` in field 1. */
export interface WithError {
  readonly error?: common.ErrorDetail | undefined;
}

/** Sends `req` and waits for the response, the deadline, or `signal` (which cancels the call). */
export function unary<Req, Res>(
  client: Client, method: MethodDefinition<Req, Res>, req: Req, deadline: Deadline, signal: AbortSignal,
): Promise<RpcOutcome<Res>> {
  return new Promise((resolve) => {
    let cancelledByUs = false;
    const onAbort = (): void => {
      cancelledByUs = true;
      call.cancel();
    };
    const call = client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, req,
      new Metadata(), { deadline: deadline.toDate() }, (err: ServiceError | null, res?: Res) => {
        signal.removeEventListener('abort', onAbort);
        if (err !== null || res === undefined) {
          const e = err ?? grpcError(status.INTERNAL, 'empty response');
          resolve({ ok: false, error: fromGrpcError(e, cancelledByUs, method.path), mayHaveExecuted: !neverSent(e) });
        } else {
          resolve({ ok: true, res });
        }
      });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * True if the failure proves the server ran nothing: UNIMPLEMENTED (no such method there),
 * or grpc-js failing the call because no connection could be picked for it — it then
 * says "No connection established" (load-balancer-pick-first), the request never left the
 * client. That is a match on grpc-js's text, so it only ever errs on the safe side: if the
 * text changes, such failures count as "may have executed" (UNKNOWN_OUTCOME for writes),
 * never the other way round.
 */
function neverSent(e: ServiceError): boolean {
  if (e.code === status.UNIMPLEMENTED) return true;
  return e.code === status.UNAVAILABLE && e.details.startsWith('No connection established');
}

function grpcError(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

const GRPC_TO_KV: Partial<Record<status, KvErrorCode>> = {
  [status.DEADLINE_EXCEEDED]: 'TIMEOUT',
  [status.UNAVAILABLE]: 'UNAVAILABLE',
  [status.UNIMPLEMENTED]: 'NOT_SUPPORTED',
  [status.RESOURCE_EXHAUSTED]: 'REQUEST_TOO_LARGE',
  [status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [status.PERMISSION_DENIED]: 'PERMISSION_DENIED',
};

/**
 * A transport-level failure as a `KvError`. CANCELLED that we did not ask for is a lost
 * connection (the server went away mid-call), so UNAVAILABLE.
 */
export function fromGrpcError(e: ServiceError, cancelledByUs: boolean, path: string): KvError {
  let code: KvErrorCode;
  if (e.code === status.CANCELLED) code = cancelledByUs ? 'CANCELLED' : 'UNAVAILABLE';
  else code = GRPC_TO_KV[e.code as status] ?? 'INTERNAL';
  return new KvError(code, `${path}: gRPC ${status[e.code] ?? e.code}: ${e.details}`, { cause: e });
}

/** The `KvError` an `ErrorDetail` of a response stands for. */
export function fromDetail(d: common.ErrorDetail): KvError {
  const details: { -readonly [K in keyof KvErrorDetails]: KvErrorDetails[K] } = {};
  const h = d.leaderHint;
  if (h !== undefined && (h.peerId !== 0 || h.address !== '')) {
    details.leaderHint = { nodeId: nodeId(h.nodeId), peerId: peerId(h.peerId), address: h.address };
  }
  if (d.currentShard !== undefined) details.shard = d.currentShard;
  if (d.option !== '') details.option = d.option;
  if (d.retryAfterMs > 0) details.retryAfterMs = d.retryAfterMs;
  return kvErrorFromCode(d.code, d.message === '' ? d.code : d.message, { details });
}
