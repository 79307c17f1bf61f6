package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
)

// summary is the median and the range of a few noisy measurements.
type summary struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

func summarize(xs []float64) summary {
	if len(xs) == 0 {
		return summary{}
	}
	s := slices.Sorted(slices.Values(xs))
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{Median: med, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

type machine struct {
	NumCPU     int    `json:"nproc"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
	OS         string `json:"os"`
	CPU        string `json:"cpu,omitempty"`
	LoadAvg    string `json:"loadavg_at_start,omitempty"`
}

func describeMachine() machine {
	m := machine{NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	return m
}

func printTable(out io.Writer, res *results) {
	m := res.Machine
	fmt.Fprintf(out, "\nCommand:  %s\n", res.Command)
	fmt.Fprintf(out, "Machine:  nproc %d, GOMAXPROCS %d, %s, %s, %s, load %s at start\n", m.NumCPU, m.GOMAXPROCS, m.Go, m.OS, m.CPU, m.LoadAvg)
	fmt.Fprintf(out, "Took:     %.0f s\n", res.Seconds)
	if sb := res.Sandbox; sb != nil {
		fmt.Fprintf(out, "\n== Sandbox: start to ready (%d runs; %s)\n", len(sb.Runs), sb.What)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "\tmedian s\tmin s\tmax s\t")
		row := func(name string, s summary) {
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t\n", name, s.Median/1000, s.Min/1000, s.Max/1000)
		}
		row("ready (deploy.Start returned)", sb.ReadyMS)
		row("  test bed: 2 Dendrites + federation", sb.TestBedMS)
		row("  service: config + start-up", sb.ServiceMS)
		if len(sb.CommandRuns) > 0 {
			row("go run ./cmd/sandbox until sandbox.json ready", sb.CommandMS)
		}
		tw.Flush()
		fmt.Fprintf(out, "test bed share of ready: median %.0f %% (min %.0f, max %.0f)\n",
			100*sb.TestBedShare.Median, 100*sb.TestBedShare.Min, 100*sb.TestBedShare.Max)
		if sb.CommandWhat != "" {
			fmt.Fprintf(out, "last row: %s, %d runs\n", sb.CommandWhat, len(sb.CommandRuns))
		}
	}
	if res.Workload != nil {
		w := res.Workload
		fmt.Fprintf(out, "\n== Throughput on the in-process fake homeserver: %d rooms, %d transactions x %d events = %d events per run\n",
			w.Rooms, w.Txns, w.Events, w.total())
		fmt.Fprintln(out, "   clock: first PUT until every event handled (ours: inbox has no pending row; bare: handler/echoes done);")
		fmt.Fprintln(out, "   txn p50/p99: the homeserver's wait for each 200 (medians over runs); sends: events sent for the measured ones")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "variant\tC\tevents/s median\tmin\tmax\ttxns/s median\ttxn p50 ms\ttxn p99 ms\tlast 200 at s\tdone at s\tsends\t")
		for _, s := range res.Throughput {
			var acked, done, p50, p99 []float64
			for _, r := range s.Runs {
				acked, done = append(acked, r.AckedSeconds), append(done, r.Seconds)
				p50, p99 = append(p50, r.TxnLatencyMS.P50), append(p99, r.TxnLatencyMS.P99)
			}
			sends := 0
			if len(s.Runs) > 0 {
				sends = s.Runs[0].Sends
			}
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t\n", s.Variant, s.Concurrency,
				s.EventsPerS.Median, s.EventsPerS.Min, s.EventsPerS.Max, s.TxnsPerS.Median,
				summarize(p50).Median, summarize(p99).Median, summarize(acked).Median, summarize(done).Median, sends)
		}
		tw.Flush()
		fmt.Fprintln(out, "\nRatios in events/s, computed per round (same round = adjacent runs), median [min-max]:")
		tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		for _, r := range res.Ratios {
			fmt.Fprintf(tw, "  %s\tC=%d\t%.3f\t[%.3f-%.3f]\n", r.Name, r.Concurrency, r.Summary.Median, r.Summary.Min, r.Summary.Max)
		}
		tw.Flush()
		fmt.Fprintln(out, "\nWhat differs:")
		for _, s := range res.Throughput {
			if s.Concurrency == res.Throughput[0].Concurrency {
				fmt.Fprintf(out, "  %-14s %s\n", s.Variant, s.About)
			}
		}
		fmt.Fprintln(out, "  C=1 is what homeservers do (one transaction in flight per appservice); C>1 shows how ingestion scales.")
	}
	for name, why := range res.Skipped {
		fmt.Fprintf(out, "skipped %s: %s\n", name, why)
	}
}
