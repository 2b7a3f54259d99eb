/**
 * The commands of the interaction test scripts. Each handler prints into the env; see
 * testdata/README.md for the command reference.
 */
import type { Config } from '../config.js';
import { describeEntry, describeConfState } from '../describe.js';
import { MemoryStorage } from '../storage-memory.js';
import type { ConfChange, ConfChangeSingle, ConfState, LogIndex, PeerId, Rand } from '../types.js';
import { ConfChangeTransition, ConfChangeType, ReadOnlyOption } from '../types.js';
import { roleName } from '../raft.js';
import type { Arg } from './datadriven.js';
import { InteractionEnv, LOG_LEVELS, type LogLevel } from './interaction-env.js';

const encoder = new TextEncoder();

/** Always 0: the randomized election timeout equals electionTimeoutTicks, so scripts are exact. */
const ZERO_RAND: Rand = { intn: () => 0 };

type Handler = (env: InteractionEnv, args: readonly Arg[]) => void;

const HANDLERS: Record<string, Handler> = {
  'add-nodes': addNodes,
  campaign: (env, a) => { const r = env.node(firstInt(a)).raw.campaign(); if (!r.ok) env.print(`${r.code}: ${r.reason}`); },
  propose,
  'propose-conf-change': proposeConfChange,
  tick: (env, a) => tick(env, firstInt(a), intArg(a, 'n', 1)),
  'tick-heartbeat': (env, a) => { const n = env.node(firstInt(a)); tick(env, n.id, n.config.heartbeatIntervalTicks * intArg(a, 'n', 1)); },
  'tick-election': (env, a) => { const n = env.node(firstInt(a)); tick(env, n.id, n.config.electionTimeoutTicks * intArg(a, 'n', 1)); },
  'deliver-msgs': deliverMsgs,
  'process-ready': (env, a) => { for (const id of idsOrAll(env, a)) if (!env.processReady(id)) env.print(`> ${id} handling Ready\n  <empty Ready>`); },
  stabilize: (env, a) => env.stabilize(bareInts(a)),
  partition: (env, a) => { env.partition = a.filter((x) => x.key === '').map((x) => x.vals.map((v) => Number(v) as PeerId)); },
  heal: (env) => { env.partition = []; },
  'raft-log': raftLog,
  'raft-state': raftState,
  status,
  compact: (env, a) => { const [id, index] = bareInts(a); env.node(id!).storage.compact(index! as LogIndex); raftLog(env, [{ key: String(id), vals: [] }]); },
  'transfer-leadership': (env, a) => env.node(intArg(a, 'from', 0)).raw.transferLeader(intArg(a, 'to', 0) as PeerId),
  'read-index': (env, a) => env.node(firstInt(a)).raw.readIndex(encoder.encode(a[1]?.key ?? '')),
  'log-level': (env, a) => setLogLevel(env, a[0]?.key ?? ''),
  'report-unreachable': (env, a) => { const [id, to] = bareInts(a); env.node(id!).raw.reportUnreachable(to! as PeerId); },
  'report-snapshot': (env, a) => { const [id, to] = bareInts(a); env.node(id!).raw.reportSnapshot(to! as PeerId, boolArg(a, 'ok', true)); },
  restart: (env, a) => env.restart(firstInt(a)),
  'state-machine': (env, a) => { const n = env.node(firstInt(a)); env.print(`applied=${n.applied} [${n.sm.join(' ')}]`); },
};

export function runCommand(env: InteractionEnv, cmd: string, args: readonly Arg[]): void {
  const h = HANDLERS[cmd];
  if (h === undefined) throw new Error(`unknown command ${cmd}`);
  h(env, args);
}

function addNodes(env: InteractionEnv, a: readonly Arg[]): void {
  const n = firstInt(a);
  const cs: ConfState = {
    voters: listArg(a, 'voters'), learners: listArg(a, 'learners'), votersOutgoing: [], learnersNext: [], autoLeave: false,
  };
  const index = intArg(a, 'index', 0) as LogIndex;
  const content = listOrEmpty(a, 'content');
  for (let i = 0; i < n; i++) {
    const id = (env.nodes.length + 1) as PeerId;
    let storage: MemoryStorage;
    if (index > 0) {
      storage = new MemoryStorage();
      storage.applySnapshot(InteractionEnv.snapshotFor(index, cs, content));
    } else {
      storage = new MemoryStorage(cs);
    }
    const config: Config = {
      id, electionTimeoutTicks: 3, heartbeatIntervalTicks: 1, storage, rand: ZERO_RAND,
      applied: index,
      messageBytesMax: intArg(a, 'max-msg-bytes', 1 << 20),
      inflightMessagesMax: intArg(a, 'max-inflight', 256),
      inflightBytesMax: intArg(a, 'max-inflight-bytes', 0),
      uncommittedBytesMax: intArg(a, 'max-uncommitted-bytes', 0),
      proposalBytesMax: intArg(a, 'max-proposal-bytes', 0),
      committedBytesPerReadyMax: intArg(a, 'max-committed-bytes-per-ready', 0),
      checkQuorum: boolArg(a, 'checkquorum', false),
      preVote: boolArg(a, 'prevote', false),
      readOnlyOption: strArg(a, 'read-only', 'safe') === 'lease' ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
      disableProposalForwarding: boolArg(a, 'disable-forwarding', false),
      stepDownOnRemoval: boolArg(a, 'step-down-on-removal', false),
      logger: env.loggerFor(),
    };
    env.addNode(config, storage, index > 0 ? cs : storage.initialState().confState, index, [...content],
      boolArg(a, 'app-snapshots', true));
  }
}

function propose(env: InteractionEnv, a: readonly Arg[]): void {
  const id = firstInt(a);
  const repeat = intArg(a, 'repeat', 1);
  const datas = a.slice(1).filter((x) => x.vals.length === 0).map((x) => x.key);
  for (let r = 0; r < repeat; r++) {
    for (const d of datas) {
      const res = env.node(id).raw.propose(encoder.encode(d));
      if (!res.ok) env.print(`${res.code}: ${res.reason}`);
    }
  }
}

function proposeConfChange(env: InteractionEnv, a: readonly Arg[]): void {
  const id = firstInt(a);
  const t = strArg(a, 'transition', 'auto');
  const transition = t === 'explicit' ? ConfChangeTransition.JointExplicit
    : t === 'implicit' ? ConfChangeTransition.JointImplicit : ConfChangeTransition.Auto;
  const changes: ConfChangeSingle[] = [];
  for (const x of a.slice(1)) {
    if (x.vals.length > 0) continue;
    const m = /^([vlr])(\d+)$/.exec(x.key);
    if (m === null) throw new Error(`bad conf change token ${x.key} (want v<id>, l<id> or r<id>)`);
    const type = m[1] === 'v' ? ConfChangeType.AddNode : m[1] === 'l' ? ConfChangeType.AddLearnerNode : ConfChangeType.RemoveNode;
    changes.push({ type, peerId: Number(m[2]) as PeerId });
  }
  const cc: ConfChange = { transition, changes, context: new Uint8Array(0) };
  const res = env.node(id).raw.proposeConfChange(cc);
  if (!res.ok) env.print(`${res.code}: ${res.reason}`);
}

function tick(env: InteractionEnv, id: number, n: number): void {
  for (let i = 0; i < n; i++) env.node(id).raw.tick();
}

function deliverMsgs(env: InteractionEnv, a: readonly Arg[]): void {
  const drop = new Set(listArg(a, 'drop'));
  const type = a.find((x) => x.key === 'type')?.vals[0] ?? null;
  // Targets: the listed ids, or everyone; messages to `drop` ids are discarded.
  const ids = bareInts(a);
  if (!env.deliverMsgs(ids.length > 0 ? [...ids, ...drop] : [], drop, type)) env.print('no messages');
}

function raftLog(env: InteractionEnv, a: readonly Arg[]): void {
  const s = env.node(firstInt(a)).storage;
  const first = s.firstIndex();
  const last = s.lastIndex();
  if (last < first) {
    env.print(`log is empty: first index=${first}, last index=${last}`);
    return;
  }
  const ents = s.entries(first, (last + 1) as LogIndex, 0);
  if (typeof ents === 'string') throw new Error(`raft-log: ${ents}`);
  for (const e of ents) env.print(describeEntry(e));
}

function raftState(env: InteractionEnv): void {
  for (const n of env.nodes) {
    const st = n.raw.status();
    const cs = st.config;
    const kind = cs.voters.includes(n.id) || cs.votersOutgoing.includes(n.id) ? 'Voter'
      : cs.learners.includes(n.id) ? 'Learner' : 'Non-Voter';
    env.print(`${n.id}: ${roleName(st.softState.role)} (${kind}) Term:${st.hardState.term} Lead:${st.softState.lead}`);
  }
}

function status(env: InteractionEnv, a: readonly Arg[]): void {
  const n = env.node(firstInt(a));
  const st = n.raw.status();
  env.print(`${n.id}: ${roleName(st.softState.role)} term=${st.hardState.term} lead=${st.softState.lead} `
    + `commit=${st.hardState.commit} applied=${st.applied} last=${st.lastIndex} idle=${n.raw.isIdle()}`
    + (st.leadTransferee !== 0 ? ` transferee=${st.leadTransferee}` : ''));
  env.print(`config: ${describeConfState(st.config)}`);
  if (st.progress === null) return;
  for (const [id, p] of st.progress) {
    let s = `${id}: ${p.state} match=${p.match} next=${p.next}`;
    if (p.isLearner) s += ' learner';
    if (p.msgAppFlowPaused || p.state === 'snapshot') s += ' paused';
    if (p.pendingSnapshot > 0) s += ` pendingSnap=${p.pendingSnapshot}`;
    if (!p.recentActive) s += ' inactive';
    if (p.inflightCount > 0) s += ` inflight=${p.inflightCount}/${p.inflightBytes}B`;
    env.print(s);
  }
}

function setLogLevel(env: InteractionEnv, level: string): void {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`bad log level ${level}`);
  env.logLevel = level as LogLevel;
}

// ---- argument helpers ----

function firstInt(a: readonly Arg[]): number {
  const v = Number(a[0]?.key);
  if (!Number.isInteger(v)) throw new Error(`expected a node id as first argument`);
  return v;
}

function bareInts(a: readonly Arg[]): number[] {
  return a.filter((x) => x.vals.length === 0 && /^\d+$/.test(x.key)).map((x) => Number(x.key));
}

function idsOrAll(env: InteractionEnv, a: readonly Arg[]): number[] {
  const ids = bareInts(a);
  return ids.length > 0 ? ids : env.nodes.map((n) => n.id);
}

function listArg(a: readonly Arg[], key: string): PeerId[] {
  return listOrEmpty(a, key).map((v) => Number(v) as PeerId);
}

function listOrEmpty(a: readonly Arg[], key: string): string[] {
  return [...(a.find((x) => x.key === key)?.vals ?? [])];
}

function intArg(a: readonly Arg[], key: string, def: number): number {
  const v = a.find((x) => x.key === key)?.vals[0];
  return v === undefined ? def : Number(v);
}

function strArg(a: readonly Arg[], key: string, def: string): string {
  return a.find((x) => x.key === key)?.vals[0] ?? def;
}

function boolArg(a: readonly Arg[], key: string, def: boolean): boolean {
  const v = a.find((x) => x.key === key)?.vals[0];
  return v === undefined ? def : v === 'true';
}
