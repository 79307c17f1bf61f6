package bridge

import (
	"testing"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/identity"
)

// TestCardHidesAnAccountNotShared: until a customer shares their identity, staff
// cannot tell from the card whether they have an account. A customer linked to one,
// asked for identity and account and refusing (or not answering yet, or taking
// back what they gave), gets the card of a customer who was never asked.
func TestCardHidesAnAccountNotShared(t *testing.T) {
	tenant := &Tenant{Tenant: &config.Tenant{ID: "acme", Name: "ACME"}, names: identity.NewPseudonyms([]byte("key"), "acme")}
	conv := tenant.convo(&database.Conversation{ID: 7, Customer: id.UserID("@bob:customer.test")}, nil)
	view := func(decisions map[consent.Category]consent.Decision) *consent.View {
		v := &consent.View{Granted: map[consent.Category]bool{}, Decisions: decisions}
		for c, d := range decisions {
			v.Granted[c] = d == consent.Given
		}
		return v
	}
	anonymous := conv.renderCard(view(map[consent.Category]consent.Decision{consent.Location: consent.Refused}))
	for _, linked := range []map[consent.Category]consent.Decision{
		{consent.Location: consent.Refused},
		{consent.Location: consent.Refused, consent.Identity: consent.Refused, consent.Account: consent.Refused},
		{consent.Location: consent.Refused, consent.Identity: consent.Withdrawn, consent.Account: consent.Withdrawn},
		{consent.Location: consent.Refused, consent.Identity: consent.Refused},
	} {
		if got := conv.renderCard(view(linked)); got != anonymous {
			t.Errorf("decisions %v give the card\n%s\nbut an anonymous customer's is\n%s", linked, got, anonymous)
		}
	}
}

// TestCardHistory: a conversation's card versions are told apart from another
// conversation's, and the newest card is the current one.
func TestCardHistory(t *testing.T) {
	names := []string{"cc:card:1", "cc:card:1|edit|5", "cc:card:12", "cc:card:12|edit|9", "cc:card:1:2", "cc:card:1:2|edit|7", "cc:card:1:2|edit|8"}
	h := cardHistoryOf(1, names)
	if h.current != "cc:card:1:2" || h.generation != 2 {
		t.Fatalf("current card %q, generation %d", h.current, h.generation)
	}
	want := []string{"cc:card:1:2", "cc:card:1:2|edit|7", "cc:card:1:2|edit|8"}
	if len(h.shown) != len(want) {
		t.Fatalf("versions of the current card: %v, want %v", h.shown, want)
	}
	for i := range want {
		if h.shown[i] != want[i] {
			t.Fatalf("versions of the current card: %v, want %v", h.shown, want)
		}
	}
	if h := cardHistoryOf(3, names); h.current != "" || len(h.shown) != 0 {
		t.Fatalf("a conversation without a card: %+v", h)
	}
}
