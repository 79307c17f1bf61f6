package routing

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

const benchWorkflow = `
steps:
  - expression: 'mortgage >= 3 and language == task.language'
    timeout: 30s
    strategy: least_busy
  - queue: support
`

// benchRouter makes a tenant of n agents: varied skills, languages and capacities,
// about half ready, loads from 0 to full, some in wrap-up; and 64 tasks in four
// languages (some unknown), a few with agents excluded.
func benchRouter(b *testing.B, n int) (*Router, []*Task, time.Time) {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	staff := make([]Staff, n)
	for i := range staff {
		staff[i] = randomStaff(rng, i)
	}
	var w Workflow
	if err := yamlUnmarshal(benchWorkflow, &w); err != nil {
		b.Fatal(err)
	}
	r, err := NewRouter(&w, staff)
	if err != nil {
		b.Fatal(err)
	}
	now := t0
	for i := range staff {
		if rng.IntN(2) == 0 {
			continue
		}
		id := staff[i].UserID
		_ = r.SetStatus(id, Ready, now.Add(time.Duration(rng.IntN(3600))*time.Second))
		_ = r.SetLoad(id, rng.IntN(staff[i].MaxConversations()+1), now)
	}
	now = now.Add(time.Hour)
	tasks := make([]*Task, 64)
	for i := range tasks {
		tasks[i] = &Task{ID: fmt.Sprintf("t%d", i), Region: modelRegions[i%3]}
		if i%5 != 0 {
			tasks[i].Language = modelLanguages[i%len(modelLanguages)]
		}
	}
	// Warm up: build the pools and heaps, and exclude each fourth task's first
	// choices, as if they had declined.
	for i, task := range tasks {
		for range i % 4 {
			if d, ok := r.Select(task, 0, now); ok {
				_ = r.Exclude(task.ID, d.UserID)
			}
		}
		r.Select(task, 1, now)
	}
	return r, tasks, now
}

// BenchmarkSelect measures one selection: the expression step, and the queue step
// when the expression finds nobody.
func BenchmarkSelect(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			r, tasks, now := benchRouter(b, n)
			found := 0
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				task := tasks[i&63]
				_, ok := r.Select(task, 0, now)
				if !ok {
					_, ok = r.Select(task, 1, now)
				}
				if ok {
					found++
				}
			}
			if found == 0 {
				b.Fatal("nobody selected")
			}
		})
	}
}

// BenchmarkSelectCycle measures a selection with the state changes around it: the
// offer, its acceptance, and the end of an earlier conversation (with wrap-up), the
// clock moving 10 ms each time, so the indexes churn as in production.
func BenchmarkSelectCycle(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			r, tasks, now := benchRouter(b, n)
			var open [256]string
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				now = now.Add(10 * time.Millisecond)
				task := tasks[i&63]
				d, ok := r.Select(task, 0, now)
				if !ok {
					d, ok = r.Select(task, 1, now)
				}
				slot := &open[i&255]
				if *slot != "" {
					_ = r.Released(*slot, now)
					*slot = ""
				}
				if !ok {
					continue
				}
				_ = r.SyncOffer(d.UserID, task.ID, now) // offered ...
				_ = r.SyncOffer(d.UserID, "", now)      // ... and accepted
				_ = r.Assigned(d.UserID, now)
				*slot = d.UserID
			}
		})
	}
}
