package bridge

import (
	"context"
	"sync"

	"github.com/contactcenter/contactcenter/database"
)

// In-memory state that mirrors the database (each tenant's routing.Router) must only
// learn what the database really holds: a change made inside a transaction that then
// rolls back would otherwise stay in memory. So such changes are registered with
// afterCommit while the transaction runs, and commitWithAfter runs them once the
// transaction has committed, and drops them when it fails.

// afterCommitKey carries the *afterCommitList of the transaction under way.
type afterCommitKey struct{}

// afterCommitList is what runs once the transaction carried by the context commits.
type afterCommitList struct {
	mu   sync.Mutex
	fns  []func(ctx context.Context)
	keys map[string]bool
}

func afterCommitListOf(ctx context.Context) *afterCommitList {
	list, _ := ctx.Value(afterCommitKey{}).(*afterCommitList)
	return list
}

// afterCommit runs fn once the transaction under way commits, with a context outside
// any transaction; never if it fails. Without a transaction started by
// commitWithAfter it runs fn at once: there is nothing to wait for.
func (b *Bridge) afterCommit(ctx context.Context, fn func(ctx context.Context)) {
	b.afterCommitOnce(ctx, "", fn)
}

// afterCommitOnce is afterCommit that registers a keyed fn only once per
// transaction (a routing pass wanted by several changes runs once). key "" is never
// deduplicated.
func (b *Bridge) afterCommitOnce(ctx context.Context, key string, fn func(ctx context.Context)) {
	list := afterCommitListOf(ctx)
	if list == nil {
		fn(ctx)
		return
	}
	list.mu.Lock()
	defer list.mu.Unlock()
	if key != "" {
		if list.keys[key] {
			return
		}
		if list.keys == nil {
			list.keys = map[string]bool{}
		}
		list.keys[key] = true
	}
	list.fns = append(list.fns, fn)
}

// commitWithAfter runs txn, which opens and commits one database transaction with the
// context it is given, and, if it returns nil, then runs what was registered with
// afterCommit inside it, in order. Nested inside another commitWithAfter it only runs
// txn: the outer commit is the one that counts.
func (b *Bridge) commitWithAfter(ctx context.Context, txn func(ctx context.Context) error) error {
	if afterCommitListOf(ctx) != nil {
		return txn(ctx)
	}
	list := &afterCommitList{}
	if err := txn(context.WithValue(ctx, afterCommitKey{}, list)); err != nil {
		return err
	}
	// What runs now is outside the transaction: a nil list makes its own changes
	// apply at once, or wait for a transaction of its own.
	after := context.WithValue(ctx, afterCommitKey{}, (*afterCommitList)(nil))
	list.mu.Lock()
	fns := list.fns
	list.fns = nil
	list.mu.Unlock()
	for _, fn := range fns {
		fn(after)
	}
	return nil
}

// doTxn is one database transaction whose afterCommit work runs once it commits.
// If it queued outbox rows, the outbox is woken once it has committed: loops and API
// calls have no inbox handler around them to hand the rooms over, and the outbox's
// own poll is seconds away.
func (b *Bridge) doTxn(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, queued := database.CollectEnqueued(ctx)
	err := b.commitWithAfter(ctx, func(ctx context.Context) error { return b.DB.DoTxn(ctx, nil, fn) })
	if err == nil && len(queued.Rooms()) > 0 {
		b.outbox.Wake()
	}
	return err
}
