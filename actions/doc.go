// Package actions owns what Vigil does about what it finds: policies as
// code (the actions: section of the config directory), the lifecycle and
// guardrails of each action, the executors' contract (kube/, argo/,
// webhook/ implement it) and the audit trail, which is the event log.
//
// # Lifecycle
//
// A policy's trigger arrives as an event through the dispatcher (the
// engine's Triggers subscriber takes SLO burn-rate alerts, canary
// verdicts, drift verdicts, budget findings and right-sizing advice). The
// engine plans the policy's operation with its executor (the dry-run:
// the exact change, e.g. "replicas 4 → 8") and records a proposal with
// the evidence frozen as it was: the burn rates of every window, the
// canary's statistics, the drift scores, the budget finding, the
// recommendation. Then
//
//	proposed → approved | rejected | expired | superseded
//	approved → executing → verifying → succeeded | failed | reverted
//
// A person approves or rejects through the Go API (Approve, Reject,
// Abort, Retry: with the version read, 409 when it changed, and an
// idempotency key), each recorded with its verb (Transition.Decision),
// which is how the audit log tells a person's decisions from the
// engine's; an auto policy approves its own proposal; a dry-run policy
// (the default) only proposes. Each transition is an
// actions.transition event (Transitions) with its actor and reason, its
// id derived from the action, the state and the attempt, so that
// whoever records a transition records the same event. An action's id
// derives from the tenant, the policy and the trigger event.
//
// Execution goes through the dispatcher too: an approval is published
// and the Executions subscriber executes it, so the delivery log records
// every attempt and a restart takes up what was approved and not done.
// A delivery finds the action where the store says it is: approved, it
// executes; executing (the process stopped while applying), it applies
// the plan frozen in its executing event again; anything else, it does
// nothing. Executors apply a frozen plan idempotently and refuse a target
// that moved since (ErrStale), so delivering twice changes the target
// once. The engine's tick (Run, in the analyzer scheduler) expires
// proposals nobody decided on, publishes approvals again for the replica
// that drives the target, and verifies executed actions.
//
// # Guardrails
//
//   - The default mode is dry-run.
//   - One open proposal per policy and target: a trigger that recurs (a
//     canary failing every analysis, an alert firing every evaluation)
//     and plans the same change leaves the open proposal as it is, so a
//     person deciding on it is never overtaken by a new id; a trigger
//     planning a different change supersedes it.
//   - A policy that cannot be evaluated (an SLO it names is not defined,
//     its executor is not configured: Status reports it) proposes and
//     executes nothing.
//   - Cooldown per target: no proposal, and no execution, on a target
//     within a policy's cooldown of the last execution on it.
//   - One action in flight per target (the lease, below): nothing is
//     proposed on a target while an action is approved, executing or
//     verified on it, and an approved action executes only once no other
//     holds the lease (it waits, and expires if that takes too long).
//   - A maximum step: replicas at most × max_factor (2) and + max_add,
//     within min/max bounds; resources at most ± max_change (50%) a step.
//     Executors clamp their plans to it.
//   - A rate limit per policy (executions per window, default 3/1h).
//   - The kill switch (Pause, Resume, and Options.Paused for the
//     --actions.paused flag) holds every execution and revert at once.
//   - Approvals expire: a proposal not decided, or an approval not
//     executed, within the policy's approval timeout.
//   - Before executing, the evidence is checked again from the newest
//     finding of its kind, and the plan made again: an action whose
//     evidence no longer holds, or whose change is no longer the one
//     approved, is rejected.
//   - Never on no data: no data is never a trigger (an inconclusive
//     canary, a drift window without a verdict, a no-data alert), and
//     no data at the re-check rejects the action.
//   - Verification: within the policy's window the change must hold and
//     the SLO's burn rate since the execution fall below the expectation.
//     A failure escalates (the Escalation subscriber raises an alert
//     through the receivers) and reverts a scale or a resize. No data by
//     the deadline counts as a failure (as Flagger counts a check without
//     metrics) but reverts nothing: like Argo Rollouts' inconclusive
//     analysis, it is left for a person.
//
// # The lease, without compare-and-set
//
// ClickHouse cannot grant a lease atomically, so the lease of a target is
// not a row but what its actions' events say: an action executing or
// being verified holds it. Three things make that safe:
//
//  1. Ownership. Only the replica that owns the key
//     "actions/<tenant>/<target>" by the analyzer's rendezvous hashing
//     executes, verifies or reverts on the target (another one's delivery
//     notes that and leaves it to the owner's tick); inside a replica a
//     mutex per target serializes decisions. Two replicas act on one
//     target only while they disagree about who is alive (at most two
//     analyzer intervals).
//  2. Deterministic events. The same action is the same events: two
//     replicas executing one approval write one executing event and apply
//     one frozen plan, whose executor makes the change once (a JSON-patch
//     test of the value it expects, or an idempotent flag; a webhook's
//     receiver gets the action id as its idempotency key).
//  3. Write, then read. Two different actions on one target that pass
//     the checks at once each record that they execute before they apply,
//     then read the target's actions back, and apply only when no other
//     holds the lease. A write is visible to every read that starts after
//     it returns (one ClickHouse server, or DuckDB), so of two such
//     actions at least one sees the other and fails without applying
//     ("lost the lease"): at most one applies. Both may lose; that is
//     safe, rare, and in the audit trail.
//
// The lease survives restarts because it is the event log.
package actions
