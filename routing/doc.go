// Package routing holds the rules for who serves a conversation. It knows nothing of
// Matrix, HTTP or databases: users are plain IDs and the bridge translates, persists
// and claims.
//
//   - Staff: agents and supervisors of a tenant, with skills (1–5), languages,
//     regions, capacity and wrap-up time; Status: ready, busy, away, offline.
//   - Task: a waiting conversation with attributes from consented context only;
//     an empty attribute is unknown.
//   - Expr: a small expression language over an agent and a task
//     (`mortgage >= 3 and language == task.language`), parsed and type-checked once.
//   - Workflow: a tenant's ordered steps (account manager, expression, queue), each
//     with a timeout and a strategy (longest idle, least busy, round robin), priority
//     rules, offer timeout, RONA and max wait; read from YAML with line numbers in
//     every error. DefaultWorkflow is one queue step.
//   - Router: one tenant's agents and their live state; Select answers which agent a
//     task goes to at a step, with an explanation for the side room, without
//     scanning the agents (see Router). Workflow.SetsAway is the RONA rule.
//   - EstimateWait: the wait a queued customer is told (the queue order itself is
//     the database's, so replicas agree on it).
package routing
