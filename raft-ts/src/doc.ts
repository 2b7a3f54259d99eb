/**
 * # raft-ts — overview and the caller's obligations
 *
 * raft-ts is a deterministic Raft state machine in the style of etcd-io/raft. It does
 * no I/O, has no clock and no timers, and draws randomness only from `Config.rand`: the
 * same inputs always produce the same outputs, so a seeded simulator can replay any run.
 * The host supplies storage (`Storage`, e.g. `MemoryStorage`), the transport, and time
 * (by calling `tick()` at a fixed interval).
 *
 * ## Driving a RawNode
 *
 * ```ts
 * const node = new RawNode(config);       // validates config, restores from storage
 * // on every timer tick:     node.tick();
 * // on every peer message:   node.step(msg);
 * // to write:                node.propose(data) / node.proposeBatch(datas)
 * // then, whenever node.hasReady():
 * const rd = node.ready();
 * ```
 *
 * For every Ready the host MUST, in this order:
 *
 * 1. Persist: if `rd.snapshot`, install it in storage (`applySnapshot`); then append
 *    `rd.entries` (this truncates any conflicting suffix); then save `rd.hardState` if
 *    set. If `rd.mustSync`, make all of that durable (fsync) before step 2 — a vote or
 *    an acknowledged entry that is lost in a crash breaks Raft's safety. Storage must
 *    serve the appended entries right away, even before they are durable.
 * 2. Send `rd.messages` (any order, may drop; raft retries). Never before step 1: e.g.
 *    a MsgAppResp acknowledges entries that must already be durable.
 * 3. Apply: if `rd.snapshot`, restore the state machine from it; then apply
 *    `rd.committedEntries` in order. For each `EntryType.ConfChange` entry, decode it
 *    (`decodeConfChange`) and call `applyConfChange(cc)`, keeping the returned
 *    ConfState with the applied state (snapshots must carry it). Serve each
 *    `rd.readStates` read once the applied index reaches its `index`.
 * 4. Call `advance()`. Do not call `ready()` again before that.
 *
 * Steps 1–3 may be batched across many groups (group commit): persist and fsync all
 * groups' Readies, then send all their messages, then apply, then advance each group.
 *
 * On restart pass `Config.applied` (the state machine's durable applied index) so
 * entries up to it are not delivered again; raft restores term, vote, commit, log and
 * membership from `storage.initialState()` and the stored snapshot.
 *
 * Log compaction: after the state machine has durably applied index i and a snapshot
 * covering i exists (`createSnapshot`), the host may `compact(i)`. Never compact past
 * the latest snapshot: a follower that needs a compacted entry is sent that snapshot.
 * When the leader sends a MsgSnap, the transport streams it and MUST call
 * `reportSnapshot(id, ok)` when done: a lost snapshot otherwise leaves that follower
 * waiting until leadership changes. Call `reportUnreachable(id)` on send failures.
 *
 * Bootstrapping: every initial member starts with the same ConfState in its storage
 * (index 0); a replica added later starts with an empty one. A peer that knows no
 * membership refuses appends from index 0, so the leader always sends it a snapshot
 * first — if the log was never compacted, the bootstrap snapshot at index 0 — and the
 * peer then replays the log on top of that membership. Hosts must therefore keep the
 * bootstrap ConfState (or a later snapshot) available from `storage.snapshot()`.
 *
 * ## Sizes and limits
 *
 * Entry size for `messageBytesMax`, `inflightBytesMax` and `committedBytesPerReadyMax`
 * is `data.length + 16` (fixed overhead for index/term/type), and at least one entry is
 * always sent or delivered so an oversized entry cannot wedge replication.
 * `uncommittedBytesMax` counts payload bytes of uncommitted Normal entries on the leader;
 * a proposal that would exceed it is dropped with `{ ok:false, code:'PROPOSAL_DROPPED' }`
 * (unless nothing is uncommitted, so one large entry can always get through; ConfChange
 * entries are exempt so membership can always be repaired). `proposalBytesMax` caps one
 * entry's payload. Every limit is checked by `validateConfig`, which throws a
 * `RaftConfigError` whose `option` names the bad key.
 *
 * ## Elections
 *
 * Followers campaign after a randomized election timeout in [e, 2e) ticks. With
 * `preVote`, a candidate first asks whether it could win (PreVote, without bumping its
 * term), so a partitioned node that rejoins does not disrupt the group. With
 * `checkQuorum`, a leader steps down if it has not heard from a quorum within an
 * election timeout, and followers that heard from a leader within the election timeout
 * ignore vote requests (the leader's lease).
 *
 * ## Reads
 *
 * `readIndex(ctx)` yields a ReadState `{index, requestCtx}`. With `ReadOnlyOption.Safe`
 * the leader confirms its leadership with a heartbeat round before answering (costs a
 * round trip, assumes nothing about clocks). With `ReadOnlyOption.LeaseBased` (requires
 * `checkQuorum`; validateConfig refuses it otherwise) a follower that heard from the
 * leader within the election timeout promises not to help elect a rival: it ignores
 * votes and does not campaign, even when the host calls `campaign()`. The leader holds a
 * lease once a quorum acknowledged a heartbeat round it sent at tick t (a read without a
 * valid lease triggers such a round and is answered by it); until tick
 * t + electionTimeout - 1 it answers reads at once. The lease is dropped on any
 * membership change (and not used while a conf change is unapplied), and for the rest of
 * the term once the leader sent MsgTimeoutNow (transfer votes override the promise).
 * This is only sound if ticks run at the same rate everywhere (bounded drift; hosts
 * should leave a margin for drift and pauses) and a restarted peer — which forgot its
 * promise — stays down for an election timeout before it rejoins.
 * A new leader answers reads only after it committed an entry of its own term.
 *
 * ## Membership changes
 *
 * Propose with `proposeConfChange(cc)`; the change takes effect on each peer when that
 * peer applies the entry (`applyConfChange`), not when it is appended.
 *
 * - `transition: Auto` with a single change is applied directly (one-at-a-time: adding
 *   or removing one voter keeps old and new majorities overlapping). With several
 *   changes, Auto enters a joint configuration and leaves it automatically.
 * - `JointImplicit` always enters a joint configuration and leaves it automatically;
 *   `JointExplicit` stays joint until the app proposes an empty change (leave-joint).
 * - While joint, elections and commits need a majority of both the old and the new voters.
 * - Safety rule: the leader refuses (PROPOSAL_DROPPED) a new conf change while an earlier
 *   one is not yet applied, anything but leave-joint while joint, leave-joint while not
 *   joint, more than one ConfChange entry per proposal, and any change that would yield
 *   an invalid configuration (e.g. no voters). Unlike etcd, refusal drops the proposal
 *   rather than appending an empty entry. A newly elected leader refuses conf changes
 *   until it has applied its whole log.
 * - Learners receive the log but never vote or campaign; promote one with `AddNode`.
 *   A voter demoted to learner inside a joint config becomes a learner on leaving it.
 * - A peer with committed-but-unapplied conf changes does not campaign.
 *
 * The leader removing itself: the leader keeps replicating until the change is applied
 * on it. Then, with `stepDownOnRemoval`, it becomes a follower immediately (the rest of
 * the group elects a new leader after an election timeout — transfer leadership first to
 * avoid that pause). Without it, it keeps leading the remaining members without counting
 * itself in any quorum and drops every proposal; the host should transfer leadership
 * (after sending MsgTimeoutNow such a leader steps down by itself) or stop the peer.
 * Removed or demoted leaders are handled the same way.
 *
 * ## Leadership transfer
 *
 * `transferLeader(to)`: the leader catches `to` up, then sends it MsgTimeoutNow, which
 * makes it campaign at once (skipping pre-vote, overriding leases). Proposals are dropped
 * while a transfer is in progress; the transfer is abandoned after one election timeout.
 *
 * ## Hibernation hint
 *
 * `status()` reports term, commit, applied, membership and (on the leader) every
 * follower's progress; `isIdle()` says whether the leader has nothing in flight, so a
 * multi-raft host may stop ticking the group until new work arrives.
 *
 * ## Errors
 *
 * Operating failures are values (`ProposeResult`, `StepResult`). Programmer errors —
 * broken invariants, misuse of the Ready protocol, storage that lost entries — throw
 * `RaftAssertionError` and the peer must not continue.
 */
export {};
