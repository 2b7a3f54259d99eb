/**
 * The CLI's connection to the metaserver group: one unary call at a time to service Admin
 * or Meta, following NOT_LEADER leader hints and failing over between the configured
 * members until the call's deadline. Admin RPCs are served by the leader only; a follower
 * answers NOT_LEADER with `leader_hint.address`, which is tried next.
 *
 * Unlike the SDK's MetaClient, writes here (CreateTable, SplitShard…) are retried only when
 * the member's answer proves nothing ran (NOT_LEADER, UNAVAILABLE before sending): an
 * operator command is not blindly re-sent after a timeout, the operator sees the error.
 */
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import type { MethodDefinition, ServiceError } from '@grpc/grpc-js';
import { KvError, kvErrorFromCode, nodeId, peerId, tryParseHostPort } from '@shoal/common';
import type { KvErrorCode, KvErrorDetails } from '@shoal/common';
import { admin, meta } from '@shoal/proto';
import type { common } from '@shoal/proto';

export const DEFAULT_METASERVERS = ['127.0.0.1:7100', '127.0.0.1:7101', '127.0.0.1:7102'] as const;
/** Deadline of one CLI command's RPC (all attempts together), unless --timeout says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Most metaserver addresses kept (configured plus learned from hints). */
const META_ADDRESSES_MAX = 16;
/** Pause between rounds over every member, so a cluster electing a leader is not hammered. */
const ROUND_PAUSE_MS = 200;

/** Every Shoal response carries an ErrorDetail in field 1. */
interface WithError {
  readonly error?: common.ErrorDetail | undefined;
}

type Outcome<Res> =
  | { readonly ok: true; readonly res: Res }
  | { readonly ok: false; readonly error: KvError; readonly sent: boolean };

export interface AdminClientOptions {
  /** host:port of metaserver members; at least one. */
  readonly metaservers: readonly string[];
  /** Deadline of each call (every attempt and leader hint together). */
  readonly timeoutMs: number;
}

/** Parses `--meta a,b,c` / SHOAL_METASERVERS; a bad address is an INVALID_ARGUMENT naming the option. */
export function parseMetaservers(text: string | undefined, option: string): string[] {
  if (text === undefined || text.trim() === '') return [...DEFAULT_METASERVERS];
  const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const a of list) {
    if (tryParseHostPort(a) === null) {
      throw new KvError('INVALID_ARGUMENT', `${option}: "${a}" is not host:port`, { details: { option } });
    }
  }
  if (list.length === 0) throw new KvError('INVALID_ARGUMENT', `${option}: no metaserver address`, { details: { option } });
  return list;
}

export class AdminClient {
  private readonly addresses: string[];
  private readonly clients = new Map<string, Client>();

  constructor(private readonly options: AdminClientOptions) {
    if (options.metaservers.length === 0) throw new KvError('INVALID_ARGUMENT', 'no metaserver address', { details: { option: 'meta' } });
    if (!(options.timeoutMs > 0)) throw new KvError('INVALID_ARGUMENT', 'timeout must be positive', { details: { option: 'timeout' } });
    this.addresses = [...options.metaservers];
  }

  /** The member that answered last (the leader after an Admin call), else the first configured. */
  preferred(): string {
    return this.addresses[0]!;
  }

  admin<K extends keyof typeof admin.AdminService>(name: K, req: AdminReq<K>): Promise<AdminRes<K>> {
    const m = admin.AdminService[name] as unknown as MethodDefinition<AdminReq<K>, AdminRes<K>>;
    return this.call(m, req);
  }

  meta<K extends MetaUnary>(name: K, req: MetaReq<K>): Promise<MetaRes<K>> {
    const m = meta.MetaService[name] as unknown as MethodDefinition<MetaReq<K>, MetaRes<K>>;
    return this.call(m, req);
  }

  /** Asks one member directly, without hints or failover (for per-member health). */
  async ask<Req, Res extends WithError>(address: string, method: MethodDefinition<Req, Res>, req: Req, timeoutMs: number): Promise<Res> {
    const out = await this.unary(address, method, req, Date.now() + timeoutMs);
    if (!out.ok) throw out.error;
    if (out.res.error !== undefined) throw fromDetail(out.res.error);
    return out.res;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private async call<Req, Res extends WithError>(method: MethodDefinition<Req, Res>, req: Req): Promise<Res> {
    const deadline = Date.now() + this.options.timeoutMs;
    let last: KvError | undefined;
    while (Date.now() < deadline) {
      const tried = new Set<string>();
      let next: string | undefined = this.preferred();
      while (next !== undefined && Date.now() < deadline) {
        const address: string = next;
        tried.add(address);
        const out: Outcome<Res> = await this.unary(address, method, req, deadline);
        if (out.ok && out.res.error === undefined) {
          this.learn(address, true);
          return out.res;
        }
        const e: KvError = out.ok ? fromDetail(out.res.error!) : out.error;
        // A member's own answer other than NOT_LEADER / UNAVAILABLE is final (TABLE_NOT_FOUND…);
        // a transport failure after the request left may have executed it: report, do not resend.
        if (out.ok ? !(e.code === 'NOT_LEADER' || e.code === 'UNAVAILABLE') : out.sent || e.code === 'NOT_SUPPORTED') throw e;
        last = e;
        const hint: string | undefined = e.code === 'NOT_LEADER' ? e.details?.leaderHint?.address : undefined;
        if (hint !== undefined && hint !== '') this.learn(hint, false);
        next = hint !== undefined && hint !== '' && !tried.has(hint) ? hint : this.addresses.find((a) => !tried.has(a));
      }
      if (Date.now() + ROUND_PAUSE_MS >= deadline) break;
      await new Promise((r) => setTimeout(r, ROUND_PAUSE_MS));
    }
    throw new KvError('UNAVAILABLE', `no metaserver leader of ${this.addresses.join(', ')} answered ${method.path} ` +
      `within ${this.options.timeoutMs} ms` + (last === undefined ? '' : ` (last error: ${last.code}: ${last.message})`), { cause: last });
  }

  private learn(address: string, first: boolean): void {
    const i = this.addresses.indexOf(address);
    if (i >= 0) this.addresses.splice(i, 1);
    else if (this.addresses.length >= META_ADDRESSES_MAX) return;
    if (first) this.addresses.unshift(address);
    else this.addresses.push(address);
  }

  private client(address: string): Client {
    let c = this.clients.get(address);
    if (c === undefined) {
      c = new Client(address, credentials.createInsecure());
      this.clients.set(address, c);
    }
    return c;
  }

  private unary<Req, Res>(address: string, method: MethodDefinition<Req, Res>, req: Req, deadlineMs: number): Promise<Outcome<Res>> {
    return new Promise((resolve) => {
      this.client(address).makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, req,
        new Metadata(), { deadline: new Date(deadlineMs) }, (err: ServiceError | null, res?: Res) => {
          if (err === null && res !== undefined) resolve({ ok: true, res });
          else resolve(transportFailure(err, address, method.path));
        });
    });
  }
}

const GRPC_TO_KV: Partial<Record<status, KvErrorCode>> = {
  [status.DEADLINE_EXCEEDED]: 'TIMEOUT',
  [status.UNAVAILABLE]: 'UNAVAILABLE',
  [status.UNIMPLEMENTED]: 'NOT_SUPPORTED',
  [status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [status.CANCELLED]: 'UNAVAILABLE',
};

function transportFailure<Res>(err: ServiceError | null, address: string, path: string): Outcome<Res> {
  if (err === null) return { ok: false, error: new KvError('INTERNAL', `${address} ${path}: empty response`), sent: true };
  const code = GRPC_TO_KV[err.code as status] ?? 'INTERNAL';
  // "No connection established": grpc-js never handed the request to a server.
  const sent = !(err.code === status.UNIMPLEMENTED || (err.code === status.UNAVAILABLE && err.details.startsWith('No connection established')));
  const details = err.details.replace(/\s*Resolution note:\s*$/, '');
  return { ok: false, error: new KvError(code, `${address} ${path}: ${details}`, { cause: err }), sent };
}

function fromDetail(d: common.ErrorDetail): KvError {
  const details: { -readonly [K in keyof KvErrorDetails]: KvErrorDetails[K] } = {};
  const h = d.leaderHint;
  if (h !== undefined && h.address !== '') details.leaderHint = { nodeId: nodeId(h.nodeId), peerId: peerId(h.peerId), address: h.address };
  if (d.option !== '') details.option = d.option;
  return kvErrorFromCode(d.code, d.message === '' ? d.code : d.message, { details });
}

type Svc<S> = { [K in keyof S]: S[K] extends MethodDefinition<infer Q, infer R> ? { q: Q; r: R } : never };
type AdminReq<K extends keyof typeof admin.AdminService> = Svc<typeof admin.AdminService>[K]['q'];
type AdminRes<K extends keyof typeof admin.AdminService> = Svc<typeof admin.AdminService>[K]['r'] & WithError;
type MetaUnary = 'getRoutes' | 'getNodes' | 'listTables' | 'getTable' | 'getClusterInfo';
type MetaReq<K extends MetaUnary> = Svc<typeof meta.MetaService>[K]['q'];
type MetaRes<K extends MetaUnary> = Svc<typeof meta.MetaService>[K]['r'] & WithError;
