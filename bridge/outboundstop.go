package bridge

import (
	"context"
	"time"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
)

// stopContact answers !stop: contact is withdrawn and remembered as never, at once,
// so that no later request reaches the customer (the decision refuses it). Staff
// learn it as any withdrawal.
func (c *convo) stopContact(ctx context.Context) error {
	t := c.t
	records, err := c.b.Consent.Decide(ctx, c.subject(), c.ID, consent.MethodText, t.purposeMap(),
		[]consent.Change{{Category: consent.Contact, Grant: false}}, true)
	if err != nil {
		return err
	}
	return firstErr(c.tellCustomer(ctx, "stop", bot.StopConfirmed(t.Name)), c.afterDecisions(ctx, records))
}

// SetClock replaces the service's clock (call before Start): tests move time on to
// see deferred requests go out when their window opens.
func (b *Bridge) SetClock(now func() time.Time) { b.now = now }
