package bot

// Texts for someone taken off a tenant's staff. The service takes them out of every
// room their role gave them at its next start; these say why.

// StaffRemoved is the reason given when they are taken out of a room.
func StaffRemoved(tenant string) string {
	return "You are no longer on " + tenant + "'s staff."
}

// StaffRemovedRequeued tells a side room that its conversation lost its only agent
// and waits for another.
func StaffRemovedRequeued(name string) string {
	return "**" + name + "** is no longer on the staff: the conversation is back in the queue."
}

// StaffRemovedFromConversation tells a side room that one of its agents is gone and
// the others carry on.
func StaffRemovedFromConversation(name string) string {
	return "**" + name + "** is no longer on the staff and was taken out of the conversation."
}
