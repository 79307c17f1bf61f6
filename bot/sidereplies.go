package bot

import "fmt"

// Texts of a conversation's side room: answers to its commands and notices of who
// joined, left or took the conversation.

// AgentUsage answers !invite, !remove or !transfer without an agent.
func AgentUsage(c *CommandSpec) string {
	return "Usage: " + commandUsage(c) + " (name or Matrix ID)."
}

// NotAnAgent answers a command naming someone who is not one of the tenant's agents.
func NotAnAgent(who, tenant string) string {
	return fmt.Sprintf("%s is not one of %s's agents.", who, tenant)
}

// AlreadyInConversation answers !invite of an agent who is in.
func AlreadyInConversation(agent string) string {
	return agent + " is already in the conversation."
}

// NotInConversation answers !remove of an agent who is not in.
func NotInConversation(agent string) string {
	return agent + " is not in the conversation."
}

// OnlyAgent answers !remove of the last agent: the conversation needs one.
func OnlyAgent(agent string) string {
	return fmt.Sprintf("%s is the only agent: use **%s** or **%s**.", agent, commandWord(CmdTransfer), commandWord(CmdEnd))
}

// AgentAdded tells the side room that who added an agent.
func AgentAdded(who, agent string) string {
	return fmt.Sprintf("%s added **%s** to the conversation.", who, agent)
}

// AgentRemoved tells the side room that who took an agent out.
func AgentRemoved(who, agent string) string {
	return fmt.Sprintf("%s removed **%s** from the conversation.", who, agent)
}

// AgentTookConversation tells the side room that an agent accepted the offer.
func AgentTookConversation(agent string) string {
	return fmt.Sprintf("**%s** took the conversation.", agent)
}

// HandedOver tells the side room that by transferred the conversation to an agent.
func HandedOver(by, agent string) string {
	return fmt.Sprintf("%s handed the conversation to **%s**.", by, agent)
}

// Requeued tells the side room that who put the conversation back in the queue.
func Requeued(who string) string {
	return who + " put the conversation back in the queue."
}

// EndedBy says who ended the conversation; ConversationEnded adds what follows.
func EndedBy(who string) string {
	return who + " ended the conversation."
}

// ConversationEnded tells the side room that the conversation is over, and why.
func ConversationEnded(why string) string {
	return why + " These rooms are read-only now and stay for the record."
}

// Reasons given when staff are taken out of a conversation's rooms.
func RemovedBy(who string) string       { return "removed by " + who }
func TransferredTo(agent string) string { return "transferred to " + agent }

const TransferredToQueue = "transferred to the queue"

// AgentAtBusiness is the business identity's name in the customer room while an agent
// serves it: "Carol · ACME".
func AgentAtBusiness(agent, tenant string) string {
	return agent + " · " + tenant
}
