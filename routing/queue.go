package routing

import (
	"slices"
	"sync"
	"time"
)

// Queue orders a tenant's waiting tasks: higher priority first (the task's own plus
// the workflow's rules), then the longest waiting, then by ID so the order is total.
// It is a sorted slice: Position is a binary search (O(log n)); Push and Remove
// move the entries after the task (O(n) copying, fine for the thousands of tasks a
// tenant may have waiting). It is safe for concurrent use.
type Queue struct {
	mu    sync.Mutex
	wf    *Workflow
	order []queued
	byID  map[string]queued
}

type queued struct {
	task     *Task
	priority int
	enqueued int64
}

func (q queued) before(o queued) bool {
	if q.priority != o.priority {
		return q.priority > o.priority
	}
	if q.enqueued != o.enqueued {
		return q.enqueued < o.enqueued
	}
	return q.task.ID < o.task.ID
}

func (q queued) cmp(o queued) int {
	switch {
	case q.before(o):
		return -1
	case o.before(q):
		return 1
	}
	return 0
}

// NewQueue makes an empty queue ordered by the workflow's priority rules (nil:
// DefaultWorkflow, which has none).
func NewQueue(w *Workflow) *Queue {
	if w == nil {
		w = DefaultWorkflow()
	}
	return &Queue{wf: w, byID: map[string]queued{}}
}

// Push adds a task, or places it anew if its attributes changed (the customer
// shared more context). It returns the task's priority.
func (q *Queue) Push(t *Task) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.remove(t.ID)
	e := queued{task: t, priority: q.wf.TaskPriority(t), enqueued: nanos(t.EnqueuedAt)}
	i, _ := slices.BinarySearchFunc(q.order, e, queued.cmp)
	q.order = slices.Insert(q.order, i, e)
	q.byID[t.ID] = e
	return e.priority
}

// Remove takes a task out (assigned or ended); false if it was not queued.
func (q *Queue) Remove(taskID string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.remove(taskID)
}

func (q *Queue) remove(taskID string) bool {
	e, ok := q.byID[taskID]
	if !ok {
		return false
	}
	i, _ := slices.BinarySearchFunc(q.order, e, queued.cmp)
	q.order = slices.Delete(q.order, i, i+1)
	delete(q.byID, taskID)
	return true
}

// Position is the task's place in the queue, 1 for the next served.
func (q *Queue) Position(taskID string) (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, ok := q.byID[taskID]
	if !ok {
		return 0, false
	}
	i, _ := slices.BinarySearchFunc(q.order, e, queued.cmp)
	return i + 1, true
}

// Len is how many tasks wait.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order)
}

// Tasks lists the waiting tasks in order, to offer them one by one.
func (q *Queue) Tasks() []*Task {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]*Task, len(q.order))
	for i, e := range q.order {
		out[i] = e.task
	}
	return out
}

// EstimateWait estimates how long the task at a position waits:
//
//	position × mean handle time ÷ ready agents
//
// i.e. the tasks ahead of it and itself are served by the ready agents in parallel,
// each taking the mean handle time (the tenant's measured or configured figure).
// It ignores capacity above one, agents coming back, and tasks ahead leaving, so it
// is a rough figure for the customer ("about 4 minutes"), rounded up to a whole
// minute. With no agent ready there is no estimate.
func EstimateWait(position, readyAgents int, meanHandle time.Duration) (time.Duration, bool) {
	if readyAgents <= 0 || position <= 0 || meanHandle <= 0 {
		return 0, false
	}
	d := time.Duration(position) * meanHandle / time.Duration(readyAgents)
	return (d + time.Minute - 1).Truncate(time.Minute), true
}
