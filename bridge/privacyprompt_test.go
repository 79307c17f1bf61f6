package bridge

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/consent"
)

// !privacy at a tenant that can ask this customer nothing (it asks only for identity,
// and the customer is anonymous) is answered with the status alone, at once: no
// prompt, and no error for the inbox to retry.
func TestPrivacyWithNothingAskableAnswersWithTheStatus(t *testing.T) {
	bed := newInputBed(t, consent.Purpose{Category: consent.Identity, Purpose: "so the agent knows who you are"},
		consent.Purpose{Category: consent.Recording, Purpose: "so calls can be recorded"})
	evtID := bed.send(t, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "!privacy"})
	if done, lastErr := bed.handled(t, evtID); !done {
		t.Fatalf("!privacy was not handled: %s", lastErr)
	}
	var notices []string
	for _, q := range bed.outbox(t) {
		if q.room != bedCustomerRoom {
			continue
		}
		if q.evtType != event.EventMessage.Type {
			t.Errorf("something other than a notice was sent (%s): %s", q.evtType, q.content)
			continue
		}
		notices = append(notices, q.message().Body)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "ACME") {
		t.Fatalf("the customer got %q, want one status notice", notices)
	}
	if strings.Contains(notices[0], "Answer below") || strings.Contains(notices[0], "Reply with the numbers") {
		t.Errorf("the status asks for an answer nobody can give: %q", notices[0])
	}
	if len(bed.staffCopies(t)) != 0 {
		t.Errorf("!privacy reached staff: %+v", bed.staffCopies(t))
	}
}
