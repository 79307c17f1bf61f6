package dashboard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/internal/ratelimit"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchStream is a minimal dashboard client: it reads frames and reports the time each
// queue count first arrived.
type benchStream struct {
	mu      sync.Mutex
	arrived map[int]time.Time
}

func (s *benchStream) read(resp *http.Response) {
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	marker := []byte(`"waiting":`)
	for {
		frame, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		i := bytes.Index(frame, marker)
		if i < 0 {
			continue
		}
		rest := frame[i+len(marker):]
		end := bytes.IndexAny(rest, ",}")
		n, err := strconv.Atoi(string(rest[:end]))
		if err != nil {
			continue
		}
		s.mu.Lock()
		if _, ok := s.arrived[n]; !ok {
			s.arrived[n] = time.Now()
		}
		s.mu.Unlock()
	}
}

func (s *benchStream) at(n int) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.arrived[n]
	return t, ok
}

// BenchmarkHundredDashboards opens 100 event streams on one tenant (90 supervisors, 10
// agents) and measures, per change of the Source, the time until the last of the 100
// streams has it (p50/p95) and the CPU the whole process spent (server and the 100
// clients together, so an upper bound for the server), plus the CPU of the 100 open
// streams when nothing changes.
//
// "small" is the test tenant (2 agents, 3 conversations); "large" has 60 agents, 200
// open conversations and 24 hours of history (a snapshot of about 60 KB).
//
//	go test ./dashboard -run '^$' -bench HundredDashboards -benchtime 200x
func BenchmarkHundredDashboards(b *testing.B) {
	b.Run("small", func(b *testing.B) { benchHundred(b, nil) })
	b.Run("large", func(b *testing.B) { benchHundred(b, enlarge) })
}

// enlarge makes the tenant a large one.
func enlarge(s *Snapshot) {
	for i := range 58 {
		s.Agents = append(s.Agents, Agent{UserID: fmt.Sprintf("@agent%d:biz.example", i), Name: fmt.Sprintf("Agent %d", i),
			Status: Statuses[i%len(Statuses)], Load: i % 4, Capacity: 4, Today: &Figures{Handled: i}})
	}
	for i := range 197 {
		a := s.Agents[i%len(s.Agents)]
		s.Conversations = append(s.Conversations, Conversation{ID: fmt.Sprintf("c%d", 10+i), Customer: fmt.Sprintf("Visitor %04X", i),
			State: "active", Since: baseTime.Add(-time.Duration(i) * time.Minute), AgentID: a.UserID, Agent: a.Name,
			SideRoom: fmt.Sprintf("!side%d:biz.example", i), Via: []string{"biz.example"}})
	}
	s.History = nil
	for h := range 24 {
		s.History = append(s.History, Bucket{Start: baseTime.Add(time.Duration(h-24) * time.Hour), Queued: 30 + h, Handled: 25 + h, Abandoned: 2})
	}
}

func benchHundred(b *testing.B, shape func(*Snapshot)) {
	ts := newTestServer(b, func(o *Options) {
		o.Log = zerolog.Nop()
		o.SignInLimit = ratelimit.Limit{Per: time.Millisecond, Burst: 1000}
	})
	src := ts.src
	if shape != nil {
		src.set("acme", shape)
	}
	var streams []*benchStream
	for i := range 100 {
		token := "tok-sam"
		if i%10 == 0 {
			token = "tok-carol"
		}
		s, code := ts.signIn(b, "acme", token, "biz.example")
		if code != 200 {
			b.Fatalf("sign-in: %d", code)
		}
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"events", nil)
		req.Header.Set("Authorization", "Bearer "+s.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("stream %d: %v", i, err)
		}
		bs := &benchStream{arrived: map[int]time.Time{}}
		go bs.read(resp)
		defer resp.Body.Close()
		streams = append(streams, bs)
	}
	waitAll := func(n int, timeout time.Duration) time.Time {
		deadline := time.Now().Add(timeout)
		for {
			var last time.Time
			all := true
			for _, s := range streams {
				at, ok := s.at(n)
				if !ok {
					all = false
					break
				}
				if at.After(last) {
					last = at
				}
			}
			if all {
				return last
			}
			if time.Now().After(deadline) {
				b.Fatalf("not every stream got change %d", n)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	waitAll(2, 10*time.Second) // the first snapshot
	idleFrom, idleCPU := time.Now(), cpuTime()
	time.Sleep(3 * time.Second)
	idle := float64(cpuTime()-idleCPU) / float64(time.Since(idleFrom))

	var lat []float64
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		n := 1000 + i
		sent := time.Now()
		src.set("acme", func(s *Snapshot) { s.Queue.Waiting = n; s.At = sent })
		lat = append(lat, float64(waitAll(n, 10*time.Second).Sub(sent).Microseconds())/1000)
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2], "p50-ms")
	b.ReportMetric(lat[len(lat)*95/100], "p95-ms")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/change")
	b.ReportMetric(idle*100, "idle-cpu-%")
	src.mu.Lock()
	data, err := json.Marshal(src.snaps["acme"])
	src.mu.Unlock()
	if err == nil {
		b.ReportMetric(float64(len(data)), "snapshot-bytes")
	}
}
