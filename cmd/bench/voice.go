package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/voice/voicebench"
)

// The voice part: the relay's cost, from pion load generators with Opus-sized
// packets at 50 a second each way. The same number of calls runs relayed (two
// PeerConnections per call in the relay) and direct (peer to peer), interleaved
// round by round; the relay's share is the difference. Call setup through the
// whole service with real browsers, relayed against direct, is voicesetup.go.

type voiceOptions struct {
	Calls    []int         `json:"calls"`
	Duration time.Duration `json:"duration"`
	Rounds   int           `json:"rounds"`
}

var voiceFlags = struct {
	calls      string
	supervised string
	duration   time.Duration
	rounds     int
}{}

func init() {
	flag.StringVar(&voiceFlags.calls, "voice-calls", "1,10,40", "concurrent calls of the voice part, comma separated")
	flag.DurationVar(&voiceFlags.duration, "voice-duration", 5*time.Second, "streaming time of each voice run")
	flag.IntVar(&voiceFlags.rounds, "voice-runs", 3, "voice rounds (relayed and direct once per round, interleaved)")
	flag.StringVar(&voiceFlags.supervised, "voice-supervised", "10", "call counts (among -voice-calls) also run with a listener on each call and recorded")
}

// voiceResult is one call count: every round's relayed and direct runs, and the
// relay's cost per call from the round with the median CPU.
type voiceResult struct {
	Calls   int                  `json:"calls"`
	Relayed []voicebench.Result  `json:"relayed"`
	Direct  []voicebench.Result  `json:"direct"`
	Cost    voicebench.RelayCost `json:"cost"`
	Median  int                  `json:"median_round"`
	// With a listener on each call, and recorded (the median round's runs).
	Listened    []voicebench.Result         `json:"listened,omitempty"`
	Recorded    []voicebench.Result         `json:"recorded,omitempty"`
	Supervision *voicebench.SupervisionCost `json:"supervision,omitempty"`
}

func measureVoice(ctx context.Context, log zerolog.Logger) (*voiceOptions, []*voiceResult, error) {
	counts, err := positiveInts("-voice-calls", voiceFlags.calls)
	if err != nil {
		return nil, nil, err
	}
	supervised := map[int]bool{}
	if voiceFlags.supervised != "" {
		ns, err := positiveInts("-voice-supervised", voiceFlags.supervised)
		if err != nil {
			return nil, nil, err
		}
		for _, n := range ns {
			supervised[n] = true
		}
	}
	recDir, err := os.MkdirTemp("", "voicebench-recordings-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(recDir)
	opts := &voiceOptions{Calls: counts, Duration: voiceFlags.duration, Rounds: max(voiceFlags.rounds, 1)}
	var out []*voiceResult
	for _, n := range opts.Calls {
		r := &voiceResult{Calls: n}
		for round := range opts.Rounds {
			runs := []voicebench.Options{{Relayed: round%2 == 0}, {Relayed: round%2 != 0}}
			if supervised[n] {
				runs = append(runs, voicebench.Options{Relayed: true, Listeners: true}, voicebench.Options{Relayed: true, RecordDir: recDir})
			}
			for _, run := range runs {
				run.Calls, run.Duration = n, opts.Duration
				res, err := voicebench.Run(ctx, run)
				if err != nil {
					return nil, nil, fmt.Errorf("voice, %d calls: %w", n, err)
				}
				log.Info().Str("run", res.String()).Msg("Voice run")
				switch {
				case run.Listeners:
					r.Listened = append(r.Listened, res)
				case run.RecordDir != "":
					r.Recorded = append(r.Recorded, res)
				case run.Relayed:
					r.Relayed = append(r.Relayed, res)
				default:
					r.Direct = append(r.Direct, res)
				}
			}
		}
		r.Median = medianRound(r)
		r.Cost = voicebench.Cost(r.Relayed[r.Median], r.Direct[r.Median])
		if supervised[n] {
			sc := voicebench.Supervision(r.Relayed[r.Median], r.Listened[r.Median], r.Recorded[r.Median], r.Direct[r.Median])
			r.Supervision = &sc
		}
		out = append(out, r)
	}
	return opts, out, nil
}

// medianRound is the round whose relayed CPU is the median.
func medianRound(r *voiceResult) int {
	idx := make([]int, len(r.Relayed))
	for i := range idx {
		idx[i] = i
	}
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && r.Relayed[idx[j]].CPUCores < r.Relayed[idx[j-1]].CPUCores; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return idx[len(idx)/2]
}

func positiveInts(name, s string) ([]int, error) {
	var out []int
	for _, part := range splitComma(s) {
		var n int
		if _, err := fmt.Sscan(part, &n); err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive number", name, part)
		}
		out = append(out, n)
	}
	return out, nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if part := s[start:i]; part != "" {
				out = append(out, part)
			}
			start = i + 1
		}
	}
	return out
}

func printVoice(out io.Writer, opts *voiceOptions, res []*voiceResult) {
	if len(res) == 0 {
		return
	}
	fmt.Fprintf(out, "\n== Voice relay, Opus-sized packets at 50/s each way, %s per run, %d rounds (median round)\n", opts.Duration, opts.Rounds)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "calls\tlatency p50 relayed\tdirect\tadded p50\tadded p95\tlost\tcorrupt\tCPU/call (cores)\tcalls at 70% of 2 cores\tgoroutines/call\theap/call KiB\tleft\t")
	for _, r := range res {
		rel, dir := r.Relayed[r.Median], r.Direct[r.Median]
		left := 0
		for _, x := range r.Relayed {
			left = max(left, x.LeftGoroutines)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d/%d\t%d\t%.4f\t%d\t%.1f\t%.0f\t%d\t\n", r.Calls, rel.P50, dir.P50,
			r.Cost.AddedP50, r.Cost.AddedP95, rel.Lost, rel.Sent, rel.Corrupt, r.Cost.CPUPerCall, r.Cost.CallsAt70Pct2Cores,
			r.Cost.GoroutinesPerCall, r.Cost.HeapPerCall/1024, left)
	}
	tw.Flush()
	fmt.Fprintf(out, "\n== Supervised and recorded calls (median round): a listener on each call; each call recorded\n")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "calls	CPU with listeners (cores)	listener lost	added CPU/listener	supervised calls at 70% of 2 cores	CPU recorded (cores)	added CPU/recording	recording KiB/min/call	")
	for _, r := range res {
		if r.Supervision == nil {
			continue
		}
		l, rec, sc := r.Listened[r.Median], r.Recorded[r.Median], r.Supervision
		fmt.Fprintf(tw, "%d\t%.3f\t%d/%d\t%.4f\t%d\t%.3f\t%.4f\t%.0f\t\n", r.Calls, l.CPUCores, l.Lost, l.Sent, sc.CPUPerListener,
			sc.SupervisedAt70Pct2Cores, rec.CPUCores, sc.CPUPerRecording, sc.BytesPerMinute/1024)
	}
	tw.Flush()
}
