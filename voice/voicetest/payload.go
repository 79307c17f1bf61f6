package voicetest

import (
	"encoding/binary"
	"hash/crc32"
	"sort"
	"sync"
	"time"
)

// OpusPacketSize is the payload of a 20 ms Opus packet at about 64 kbit/s.
const OpusPacketSize = 160

// MakePayload fills a test payload of size bytes (at least 24): index, send
// time and a CRC-32 of the rest, the rest derived from the index.
func MakePayload(index uint64, size int) []byte {
	b := make([]byte, size)
	binary.BigEndian.PutUint64(b[0:8], index)
	binary.BigEndian.PutUint64(b[8:16], uint64(time.Now().UnixNano()))
	x := uint32(index*2654435761 + 1)
	for i := 20; i < size; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	binary.BigEndian.PutUint32(b[16:20], crc32.ChecksumIEEE(b[20:]))
	return b
}

// Receiver checks test payloads as they arrive.
type Receiver struct {
	mu         sync.Mutex
	count      int
	corrupt    int
	outOfOrder int
	last       uint64
	latencies  []time.Duration
	seqGaps    int
	lastSeq    uint16
	haveSeq    bool
	bytes      int
	bySource   map[uint64]int
	notify     chan struct{}
}

// SourceStride separates the payload indexes of test sources: a source sends
// indexes from k*SourceStride on, so a receiver of several sources (a
// supervisor hears the customer and the agent) counts each apart (From).
const SourceStride = 1_000_000

// NewReceiver returns an empty receiver.
func NewReceiver() *Receiver {
	return &Receiver{notify: make(chan struct{}, 1), bySource: map[uint64]int{}}
}

// From counts the intact packets received with indexes in [base, base+SourceStride).
func (r *Receiver) From(base uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bySource[base/SourceStride]
}

// Add checks one received packet: payload and RTP sequence number.
func (r *Receiver) Add(payload []byte, seq uint16) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bytes += len(payload)
	if r.haveSeq && seq != r.lastSeq+1 {
		r.seqGaps++
	}
	r.lastSeq, r.haveSeq = seq, true
	if len(payload) < 24 || binary.BigEndian.Uint32(payload[16:20]) != crc32.ChecksumIEEE(payload[20:]) {
		r.corrupt++
		return
	}
	idx := binary.BigEndian.Uint64(payload[0:8])
	r.bySource[idx/SourceStride]++
	if r.count > 0 && idx <= r.last {
		r.outOfOrder++
	}
	r.last = idx
	r.count++
	sent := time.Unix(0, int64(binary.BigEndian.Uint64(payload[8:16])))
	r.latencies = append(r.latencies, now.Sub(sent))
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Stats summarises what a receiver saw.
type Stats struct {
	Count, Corrupt, OutOfOrder, SeqGaps, Bytes int
	Last                                       uint64
	P50, P95, Max                              time.Duration
}

// Stats returns the figures so far.
func (r *Receiver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Count: r.count, Corrupt: r.corrupt, OutOfOrder: r.outOfOrder, SeqGaps: r.seqGaps, Bytes: r.bytes, Last: r.last}
	if n := len(r.latencies); n > 0 {
		l := append([]time.Duration{}, r.latencies...)
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		s.P50, s.P95, s.Max = l[n/2], l[n*95/100], l[n-1]
	}
	return s
}

// Latencies returns every latency measured.
func (r *Receiver) Latencies() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration{}, r.latencies...)
}

// WaitCount waits until n packets arrived or timeout passed.
func (r *Receiver) WaitCount(n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		c := r.count
		r.mu.Unlock()
		if c >= n {
			return true
		}
		select {
		case <-r.notify:
		case <-deadline.C:
			return false
		}
	}
}
