// Package outbound holds the rules of the business contacting a customer first: the
// contactability decision, the states of an outbound request, and context triggers
// that propose one. It knows nothing of Matrix, HTTP or databases: the bridge reads
// the inputs (through the consent gate), stores what is decided and acts on it.
//
//   - Decide is a pure function of Input: the customer's standing contact consent (a
//     remembered "always"; a refusal or withdrawal is final), opt-out, an open
//     conversation, the request's not_before/not_after, the tenant's contact window
//     in the customer's local time (zone from their consented location, else their
//     m.tz profile field, else the tenant's default: the Decision says which), quiet
//     days, holidays and a frequency cap. It allows, defers until a time, or refuses,
//     always with reasons.
//   - State is an outbound request's state; Transition says which changes are legal.
//     Terminal states have no way out: nothing is retried automatically.
//   - Rule is a context trigger: a routing expression over the customer's consented
//     attributes and page-view counts, with a reason and a target agent. A rule is
//     evaluated only for customers with standing contact consent and a standing
//     grant of every category it reads.
package outbound
