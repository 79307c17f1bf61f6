package voice

// AwaitAgent tells the call whether another agent is on the way before their leg
// rings (a cold transfer rings the new agent once they are in the room). While
// awaited, the bridged agent leaving puts the customer on hold, hearing the
// prompt, instead of ending the call; an agent answering ends the wait. Whoever
// awaits must end the wait (false) and hang up or ring someone when nobody comes:
// the call does not end by itself while no agent is bridged.
func (c *Call) AwaitAgent(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != CallEnded {
		c.awaiting = on
	}
}
