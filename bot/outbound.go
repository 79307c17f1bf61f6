package bot

import (
	"fmt"
	"strings"
)

// What outbound contact says: to the customer when the business writes first, to
// staff when a request or a proposal reaches them.

// OutboundFirstMessage opens a conversation the business started: who writes, why,
// and how to never be contacted again.
func OutboundFirstMessage(business, agent, reason string) string {
	return fmt.Sprintf("Hello, this is **%s** (%s). %s\n\nYou agreed that %s may contact you. Reply **!stop** and we will not contact you again.",
		business, agent, strings.TrimSpace(reason), business)
}

// StopConfirmed answers !stop.
func StopConfirmed(business string) string {
	return fmt.Sprintf("Done: %s will not contact you first again. You can still write to us here whenever you like.", business)
}

// OutboundOffer is the explanation of an outbound request's offer.
func OutboundOffer(reason, how string) string {
	return fmt.Sprintf("**Outbound contact** — the business writes first. Why: %s. %s", strings.TrimSpace(reason), how)
}

// OutboundSideIntro introduces an outbound conversation in its side room.
func OutboundSideIntro(id int64, customer, reason string) string {
	return fmt.Sprintf("Outbound conversation **%d** with **%s** is waiting for an agent. Why: %s\n\nThe customer is contacted only once an agent accepts. Nothing written in this room ever reaches the customer.\n\n%s",
		id, customer, strings.TrimSpace(reason), SideHelp)
}

// OutboundRefusedNow: re-deciding at acceptance refused the contact.
func OutboundRefusedNow(reasons string) string {
	return "The customer can no longer be contacted (" + reasons + "): nothing was sent, and the conversation ends."
}

// OutboundInviteRefused: the customer's homeserver refused or could not be reached.
func OutboundInviteRefused(state, errcode string) string {
	if errcode == "" {
		errcode = "no answer"
	}
	return fmt.Sprintf("The customer's homeserver did not take the invite (%s): the request is **%s** and will not be retried.", errcode, state)
}

// OutboundInvited: the customer was invited to a new DM.
const OutboundInvited = "The customer was invited to a new chat with us; you will see here when they join."

// OutboundWritten: the business wrote in the customer's existing DM.
const OutboundWritten = "The customer was written to in their existing chat with us."

// OutboundJoined: the invited customer joined.
const OutboundJoined = "The customer joined: the conversation is under way."

// OutboundExpired: nobody took the request up in time.
const OutboundExpired = "The outbound request expired before it was taken up: nothing more will be tried."

// RevealNotice tells supervisors that someone looked behind a pseudonym.
func RevealNotice(label, subject, reason string) string {
	return fmt.Sprintf("**%s** revealed who **%s** is, for abuse tracing: %s", label, subject, strings.TrimSpace(reason))
}

// ProposalText proposes an outbound contact from a context trigger: who, what they
// did (seen, may be ""), and why the business would write.
func ProposalText(id int64, customer, rule, seen, reason string) string {
	what := ""
	if seen != "" {
		what = " " + seen + " and"
	}
	return fmt.Sprintf("**Proposal %d** (%s): **%s**%s accepts being contacted. %s\n\nReply **!reach %d** to contact them, or **!pass %d**.",
		id, rule, customer, what, strings.TrimSpace(reason), id, id)
}

// ProposalUsage: !reach or !pass without a proposal number.
func ProposalUsage(cmd string) string {
	return fmt.Sprintf("Write **!%s** and the number of a proposal made to you, e.g. **!%s 3**.", cmd, cmd)
}

// NoProposal: no open proposal of that number was made to the staff member.
func NoProposal(arg string) string {
	return fmt.Sprintf("No proposal %s was made to you.", arg)
}

// ProposalAnswered: the proposal was answered before.
func ProposalAnswered(id int64, answer string) string {
	return fmt.Sprintf("Proposal %d was already answered (%s).", id, answer)
}

// ProposalPassed answers !pass.
func ProposalPassed(id int64) string {
	return fmt.Sprintf("Proposal %d let go: the customer is not contacted.", id)
}

// ProposalReached answers !reach with the outbound request it made and its state.
func ProposalReached(id, request int64, state, reasons string) string {
	switch state {
	case "routing":
		return fmt.Sprintf("Proposal %d became outbound request %d: it is offered to you as soon as you are **ready**; the customer hears nothing before you accept.", id, request)
	case "deferred":
		return fmt.Sprintf("Proposal %d became outbound request %d, **deferred** (%s): it is offered to you when contact is allowed.", id, request, reasons)
	}
	return fmt.Sprintf("Proposal %d: the customer cannot be contacted (%s); nothing was sent.", id, reasons)
}

// CallbackOffer is said to a customer who waited long, or whose call found no agent.
const CallbackOffer = "Reply **!callback** and an agent will write back to you here as soon as one is free: you need not wait in this chat."

// CallbackReason is an outbound callback's reason, shown to the agent and the customer.
const CallbackReason = "You asked us to write back to you when an agent was free."

// CallbackAccepted answers !callback: when the business will write.
func CallbackAccepted(when string) string {
	if when == "" {
		return "Done: an agent will write to you here as soon as one is free. Reply **!stop** if you change your mind."
	}
	return fmt.Sprintf("Done: an agent will write to you here from %s. Reply **!stop** if you change your mind.", when)
}

// CallbackRefused: a callback cannot be arranged (the reasons' codes).
func CallbackRefused(reasons string) string {
	return "Sorry, we cannot arrange a callback (" + reasons + "). Write here again whenever you like."
}

// CallbackNotWaiting: !callback while nobody waits for an agent.
const CallbackNotWaiting = "You are not waiting for an agent now: just write here."

// CallbackSideNotice tells the side room the customer chose a callback.
const CallbackSideNotice = "The customer chose to be called back instead of waiting: this conversation ends and an outbound request will reach an agent."
