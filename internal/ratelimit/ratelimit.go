// Package ratelimit holds token buckets by key (a customer, a server, an API key): a
// burst, then a steady rate. Memory stays bounded however many keys appear: buckets
// that have refilled carry no information and are dropped first.
package ratelimit

import (
	"sync"
	"time"
)

// Limit is a rate with a burst; a zero Limit allows everything.
type Limit struct {
	Per   time.Duration // one token per Per
	Burst int
}

// Unlimited tells whether the limit allows everything.
func (l Limit) Unlimited() bool { return l.Per <= 0 || l.Burst <= 0 }

// Limiter keeps one bucket per key.
type Limiter struct {
	limit   Limit
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
	// refused: the key has been refused since it was last allowed (the first refusal
	// is the one a person is told about).
	refused bool
}

// DefaultMaxKeys bounds a limiter's memory (about 100 bytes a key).
const DefaultMaxKeys = 100_000

// New makes a limiter; maxKeys <= 0 takes DefaultMaxKeys.
func New(limit Limit, maxKeys int) *Limiter {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Limiter{limit: limit, maxKeys: maxKeys, buckets: map[string]*bucket{}}
}

// Take spends a token of key. ok: allowed. first: refused, and for the first time
// since the key was last allowed (say so once, then stay silent).
func (l *Limiter) Take(key string, now time.Time) (ok, first bool) {
	if l == nil || l.limit.Unlimited() {
		return true, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(key, now)
	if b.tokens >= 1 {
		b.tokens--
		b.refused = false
		return true, false
	}
	first = !b.refused
	b.refused = true
	return false, first
}

// RetryAfter is how long until key has a token again.
func (l *Limiter) RetryAfter(key string, now time.Time) time.Duration {
	if l == nil || l.limit.Unlimited() {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(key, now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.limit.Per))
}

// bucketLocked returns key's bucket refilled up to now, making room if needed.
func (l *Limiter) bucketLocked(key string, now time.Time) *bucket {
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.maxKeys {
			l.evictLocked(now)
		}
		b = &bucket{tokens: float64(l.limit.Burst), last: now}
		l.buckets[key] = b
		return b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(l.limit.Burst), b.tokens+float64(elapsed)/float64(l.limit.Per))
		b.last = now
	}
	return b
}

// evictLocked drops the buckets that are full again (they remember nothing a new
// bucket would not); if every bucket is still draining, half of them go, so a flood
// of new keys costs the flooders' own history, not unbounded memory.
func (l *Limiter) evictLocked(now time.Time) {
	burst := float64(l.limit.Burst)
	for key, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.last))/float64(l.limit.Per) >= burst {
			delete(l.buckets, key)
		}
	}
	for key := range l.buckets {
		if len(l.buckets) < l.maxKeys/2 {
			break
		}
		delete(l.buckets, key)
	}
}

// Len is the number of keys held (for tests and metrics).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
