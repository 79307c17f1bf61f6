package dashboard

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSupervisorSeesTheWholeTenant(t *testing.T) {
	in := acmeSnapshot()
	v, err := ForViewer(in, "acme", Viewer{Role: RoleSupervisor})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Agents) != 2 || len(v.Conversations) != 3 || v.Today.Handled != 11 || len(v.History) != 2 || v.Queue.OffersOpen != 1 {
		t.Fatalf("supervisor view lost something: %s", mustJSON(v))
	}
	if v.Agents[0].Today == nil || v.Agents[0].Today.Handled != 4 {
		t.Fatalf("per-agent figures missing: %+v", v.Agents[0])
	}
	if got, want := v.Conversations[0].Link, "https://matrix.to/#/%21side1%3Abiz.example?via=biz.example"; got != want {
		t.Fatalf("link %q, want %q", got, want)
	}
	if v.Conversations[2].Link != "" {
		t.Fatalf("a queued conversation has no side room, got link %q", v.Conversations[2].Link)
	}
}

// An agent's view holds nothing of any other agent: every user ID, name and figure of
// Dave and every team figure must be gone.
func TestAgentSeesOnlyTheirOwn(t *testing.T) {
	in := acmeSnapshot()
	v, err := ForViewer(in, "acme", Viewer{UserID: carol.String(), Role: RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Agents) != 1 || v.Agents[0].UserID != carol.String() || v.Agents[0].Load != 1 {
		t.Fatalf("agents: %+v", v.Agents)
	}
	if v.Agents[0].Today != nil || v.Agents[0].History != nil {
		t.Fatal("own figures must be moved to the top, not repeated")
	}
	if v.Today.Handled != 4 || v.Today.ASASeconds == nil || *v.Today.ASASeconds != 12 {
		t.Fatalf("today must be Carol's own figures, got %+v", v.Today)
	}
	if len(v.History) != 1 || v.History[0].Handled != 4 {
		t.Fatalf("history must be Carol's own, got %+v", v.History)
	}
	if len(v.Conversations) != 1 || v.Conversations[0].ID != "c1" {
		t.Fatalf("conversations: %+v", v.Conversations)
	}
	if v.Queue.Waiting != 2 || v.Queue.OldestSince == nil || v.Queue.OffersOpen != 0 {
		t.Fatalf("queue: %+v", v.Queue)
	}
	out := mustJSON(v)
	for _, leak := range []string{"dave", "Dave", "Visitor 4F2A", "Visitor 9B1C", "side2", `"handled":11`, `"handled":7`, `"queued":14`, "0.75"} {
		if strings.Contains(out, leak) {
			t.Errorf("agent view leaks %q: %s", leak, out)
		}
	}
}

func TestAgentWithoutFiguresSeesZeroes(t *testing.T) {
	in := acmeSnapshot()
	v, err := ForViewer(in, "acme", Viewer{UserID: "@new:biz.example", Role: RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Agents) != 0 || len(v.Conversations) != 0 || v.Today != (Figures{}) || len(v.History) != 0 {
		t.Fatalf("an agent missing from the snapshot must see nothing of others: %s", mustJSON(v))
	}
	if s := mustJSON(v); !strings.Contains(s, `"agents":[]`) || !strings.Contains(s, `"conversations":[]`) || !strings.Contains(s, `"history":[]`) {
		t.Fatalf("lists must be empty, not null: %s", s)
	}
}

func TestViewRefusesOtherTenantsAndRoles(t *testing.T) {
	if _, err := ForViewer(acmeSnapshot(), "globex", Viewer{Role: RoleSupervisor}); !errors.Is(err, ErrOtherTenant) {
		t.Fatalf("acme's snapshot for globex: %v", err)
	}
	if _, err := ForViewer(acmeSnapshot(), "acme", Viewer{Role: "customer"}); err == nil {
		t.Fatal("unknown role must see nothing")
	}
	if _, err := ForViewer(acmeSnapshot(), "acme", Viewer{Role: RoleAgent}); err == nil {
		t.Fatal("an agent view without the agent must fail")
	}
}

func TestViewDoesNotShareMemoryWithTheSnapshot(t *testing.T) {
	in := acmeSnapshot()
	before := mustJSON(in)
	for _, viewer := range []Viewer{{Role: RoleSupervisor}, {UserID: carol.String(), Role: RoleAgent}} {
		v, err := ForViewer(in, "acme", viewer)
		if err != nil {
			t.Fatal(err)
		}
		*v.Today.ASASeconds = 999
		v.Agents[0].Name = "changed"
		*v.Queue.OldestSince = baseTime
		v.Conversations[0].Via = append(v.Conversations[0].Via[:0], "evil.example")
		if len(v.History) > 0 {
			v.History[0].Handled = 999
		}
	}
	if after := mustJSON(in); after != before {
		t.Fatalf("the view changed the source's snapshot:\n%s\n%s", before, after)
	}
	if !reflect.DeepEqual(in.Agents[0].Name, "Carol") {
		t.Fatal("agent name changed")
	}
}

func TestMatrixToRoom(t *testing.T) {
	for _, c := range []struct {
		room string
		via  []string
		want string
	}{
		{"", nil, ""},
		{"!abc:example.org", nil, "https://matrix.to/#/%21abc%3Aexample.org"},
		{"!abc:localhost:8481", []string{"localhost:8481", "x.org"}, "https://matrix.to/#/%21abc%3Alocalhost%3A8481?via=localhost%3A8481&via=x.org"},
	} {
		if got := MatrixToRoom(c.room, c.via...); got != c.want {
			t.Errorf("MatrixToRoom(%q, %v) = %q, want %q", c.room, c.via, got, c.want)
		}
	}
}
