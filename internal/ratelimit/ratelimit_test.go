package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestBurstThenRateAndOneWarning(t *testing.T) {
	l := New(Limit{Per: time.Second, Burst: 3}, 0)
	now := time.Unix(1000, 0)
	for i := range 3 {
		if ok, _ := l.Take("bob", now); !ok {
			t.Fatalf("burst token %d refused", i)
		}
	}
	ok, first := l.Take("bob", now)
	if ok || !first {
		t.Fatalf("4th: ok=%v first=%v, want refused and told", ok, first)
	}
	ok, first = l.Take("bob", now.Add(100*time.Millisecond))
	if ok || first {
		t.Fatalf("5th: ok=%v first=%v, want refused silently", ok, first)
	}
	if got := l.RetryAfter("bob", now.Add(100*time.Millisecond)); got < 800*time.Millisecond || got > time.Second {
		t.Fatalf("retry after %v", got)
	}
	if ok, _ := l.Take("alice", now); !ok {
		t.Fatal("another key is limited by bob")
	}
	if ok, _ = l.Take("bob", now.Add(1100*time.Millisecond)); !ok {
		t.Fatal("no token after a second")
	}
	if _, first = l.Take("bob", now.Add(1100*time.Millisecond)); !first {
		t.Fatal("refused again after being allowed: should be told again")
	}
}

func TestUnlimitedAndNil(t *testing.T) {
	var l *Limiter
	if ok, _ := l.Take("x", time.Now()); !ok {
		t.Fatal("nil limiter refused")
	}
	if ok, _ := New(Limit{}, 0).Take("x", time.Now()); !ok {
		t.Fatal("zero limit refused")
	}
}

// However many keys come, memory stays bounded, and a key being limited right now
// keeps its state while refilled ones are dropped.
func TestMemoryBounded(t *testing.T) {
	l := New(Limit{Per: time.Minute, Burst: 2}, 100)
	now := time.Unix(1000, 0)
	l.Take("flooder", now)
	l.Take("flooder", now)
	for i := range 1000 {
		l.Take(fmt.Sprintf("k%d", i), now.Add(time.Duration(i)*time.Hour))
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("%d keys held, bound 100", n)
	}
}
