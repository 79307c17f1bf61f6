package routing

import (
	"slices"
	"testing"
	"time"
)

func TestQueueOrder(t *testing.T) {
	q := NewQueue(readWorkflow(t, sampleWorkflow))
	tasks := []*Task{
		{ID: "old", EnqueuedAt: at(0)},
		{ID: "new", EnqueuedAt: at(time.Minute)},
		{ID: "gold", Tier: "gold", EnqueuedAt: at(2 * time.Minute)},               // +10
		{ID: "fraud", Topics: []string{"fraud"}, EnqueuedAt: at(3 * time.Minute)}, // +50
		{ID: "urgent", Priority: 20, EnqueuedAt: at(4 * time.Minute)},
		{ID: "tie-b", EnqueuedAt: at(30 * time.Second)},
		{ID: "tie-a", EnqueuedAt: at(30 * time.Second)},
	}
	for _, task := range tasks {
		q.Push(task)
	}
	var got []string
	for _, task := range q.Tasks() {
		got = append(got, task.ID)
	}
	want := []string{"fraud", "urgent", "gold", "old", "tie-a", "tie-b", "new"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	for i, id := range want {
		if pos, ok := q.Position(id); !ok || pos != i+1 {
			t.Errorf("%s: position %d (%v), want %d", id, pos, ok, i+1)
		}
	}
	if !q.Remove("urgent") || q.Remove("urgent") {
		t.Error("Remove")
	}
	if pos, _ := q.Position("gold"); pos != 2 || q.Len() != 6 {
		t.Errorf("after removal: gold at %d, %d queued", pos, q.Len())
	}
	// The customer shares their tier: the task moves up.
	q.Push(&Task{ID: "new", Tier: "gold", EnqueuedAt: at(time.Minute)})
	if pos, _ := q.Position("new"); pos != 2 || q.Len() != 6 {
		t.Errorf("re-pushed: new at %d, %d queued", pos, q.Len())
	}
	if _, ok := q.Position("nope"); ok {
		t.Error("position of a task not queued")
	}
}

func TestEstimateWait(t *testing.T) {
	cases := []struct {
		position, ready int
		handle          time.Duration
		want            time.Duration
		ok              bool
	}{
		{1, 1, 5 * time.Minute, 5 * time.Minute, true},
		{6, 3, 5 * time.Minute, 10 * time.Minute, true},
		{1, 4, 5 * time.Minute, 2 * time.Minute, true}, // 75 s rounds up
		{3, 0, 5 * time.Minute, 0, false},
		{0, 2, 5 * time.Minute, 0, false},
		{1, 2, 0, 0, false},
	}
	for _, c := range cases {
		got, ok := EstimateWait(c.position, c.ready, c.handle)
		if got != c.want || ok != c.ok {
			t.Errorf("%+v: got %s %v", c, got, ok)
		}
	}
}
