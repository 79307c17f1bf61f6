package routing

import (
	"testing"
	"time"
)

// TestEndWrapUp: an agent in wrap-up is offered nothing until they end it; ending it
// makes them available at once, and the wrap-up's old end changes nothing later.
func TestEndWrapUp(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r, err := NewRouter(DefaultWorkflow(), []Staff{{UserID: "@carol:x", Name: "Carol", Role: RoleAgent, WrapUp: Duration(time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	if err = r.SetStatus("@carol:x", Ready, now); err != nil {
		t.Fatal(err)
	}
	if err = firstErr(r.Assigned("@carol:x", now), r.Released("@carol:x", now.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	task := &Task{ID: "1", EnqueuedAt: now}
	if _, ok := r.Select(task, 0, now.Add(2*time.Second)); ok {
		t.Fatal("offered during wrap-up")
	}
	if err = r.EndWrapUp("@carol:x", now.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if d, ok := r.Select(task, 0, now.Add(3*time.Second)); !ok || d.UserID != "@carol:x" {
		t.Fatalf("not offered after ending wrap-up: %+v %v", d, ok)
	}
	if err = r.EndWrapUp("@carol:x", now.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	if a, _ := r.Agent("@carol:x"); !a.WrapUpUntil.IsZero() {
		t.Fatalf("wrap-up until %v", a.WrapUpUntil)
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
