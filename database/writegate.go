package database

import (
	"context"
	"sync"
	"time"
)

// writeGate lets one SQLite connection at a time write, in the order writers asked,
// except that urgent writers (see urgentWrite) go before the others.
type writeGate struct {
	mu     sync.Mutex
	held   bool
	urgent []chan struct{}
	normal []chan struct{}
}

type urgentKey struct{}

// urgentWrite marks a write that someone outside waits for (a homeserver's
// transaction): it takes SQLite's write lock before the writers already waiting.
func urgentWrite(ctx context.Context) context.Context {
	return context.WithValue(ctx, urgentKey{}, true)
}

// lock waits for the gate, for at most writerWait.
func (g *writeGate) lock(ctx context.Context) error {
	g.mu.Lock()
	if !g.held {
		g.held = true
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	urgent := ctx.Value(urgentKey{}) != nil
	if urgent {
		g.urgent = append(g.urgent, ch)
	} else {
		g.normal = append(g.normal, ch)
	}
	g.mu.Unlock()
	timer := time.NewTimer(writerWait)
	defer timer.Stop()
	var err error
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = errWriterWait
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-ch:
		// Handed the gate while giving up: pass it on.
		g.handOff()
		return err
	default:
	}
	if urgent {
		g.urgent = remove(g.urgent, ch)
	} else {
		g.normal = remove(g.normal, ch)
	}
	return err
}

func (g *writeGate) unlock() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.handOff()
}

// handOff gives the held gate to the next writer, or frees it.
func (g *writeGate) handOff() {
	var next chan struct{}
	switch {
	case len(g.urgent) > 0:
		next, g.urgent = g.urgent[0], g.urgent[1:]
	case len(g.normal) > 0:
		next, g.normal = g.normal[0], g.normal[1:]
	default:
		g.held = false
		return
	}
	close(next)
}

func remove(list []chan struct{}, ch chan struct{}) []chan struct{} {
	for i, c := range list {
		if c == ch {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}
