package adminapi

import (
	"testing"

	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// TestCannedReplies: a tenant sets, lists, replaces and removes its canned replies;
// a config reply is listed and can be overridden but not deleted; bad names, texts
// and unknown placeholders are refused; another tenant sees none of it.
func TestCannedReplies(t *testing.T) {
	f := newFixture(t, dbtest.Open(t, "sqlite"))
	f.h.tenants["acme"].CannedReplies = map[string]string{"bye": "Goodbye from {business}."}
	status, out := f.do("PUT", "canned_replies/greeting", acmeKey, `{"text":"Hello {first_name}, I am {agent}."}`)
	if status != 201 || out["name"] != "greeting" || out["from"] != "api" {
		t.Fatalf("create: %d %v", status, out)
	}
	if status, out = f.do("PUT", "canned_replies/greeting", acmeKey, `{"text":"Hi {first_name}."}`); status != 200 || out["text"] != "Hi {first_name}." {
		t.Fatalf("replace: %d %v", status, out)
	}
	status, out = f.do("GET", "canned_replies", acmeKey, "")
	list, _ := out["canned_replies"].([]any)
	if status != 200 || len(list) != 2 || list[0].(map[string]any)["name"] != "bye" || list[0].(map[string]any)["from"] != "config" ||
		list[1].(map[string]any)["text"] != "Hi {first_name}." {
		t.Fatalf("list: %d %v", status, out)
	}
	if status, out = f.do("GET", "canned_replies", globexKey, ""); status != 200 || len(out["canned_replies"].([]any)) != 0 {
		t.Fatalf("globex sees: %d %v", status, out)
	}
	f.refused("PUT", "canned_replies/Bad%20Name", acmeKey, `{"text":"x"}`, 422, ErrInvalid, "name")
	f.refused("PUT", "canned_replies/x", acmeKey, `{"text":"Your email is {email}"}`, 422, ErrInvalid, "text")
	f.refused("PUT", "canned_replies/x", acmeKey, `{"text":""}`, 422, ErrInvalid, "text")
	f.refused("PUT", "canned_replies/x", acmeKey, `{"text":"x","tone":"warm"}`, 400, ErrUnknownField, "")
	f.refused("DELETE", "canned_replies/bye", acmeKey, "", 404, ErrNotFound, "name")
	f.refused("DELETE", "canned_replies/greeting", globexKey, "", 404, ErrNotFound, "name")
	if status, out = f.do("DELETE", "canned_replies/greeting", acmeKey, ""); status != 200 || out["removed"] != true {
		t.Fatalf("delete: %d %v", status, out)
	}
	f.refused("DELETE", "canned_replies/greeting", acmeKey, "", 404, ErrNotFound, "name")
}
