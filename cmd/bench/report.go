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
		fmt.Fprintln(out, "   clock: first PUT until every event handled and every send it caused reached the fake homeserver (ours: inbox")
		fmt.Fprintln(out, "   drained, then the outbox's relay copies arrived; bare: handler done / echoes arrived); handled at: inbox drained;")
		fmt.Fprintln(out, "   txn p50/p99: the homeserver's wait for each 200 (medians over runs); sends/event: events the appservice sent per measured event")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "variant\tC\tevents/s median\tmin\tmax\tsends/s\ttxn p50 ms\ttxn p99 ms\tlast 200 at s\thandled at s\tdone at s\tsends/event\t")
		for _, s := range res.Throughput {
			var acked, handled, done, p50, p99, sendRate []float64
			for _, r := range s.Runs {
				acked, handled, done = append(acked, r.AckedSeconds), append(handled, r.HandledSeconds), append(done, r.Seconds)
				p50, p99 = append(p50, r.TxnLatencyMS.P50), append(p99, r.TxnLatencyMS.P99)
				sendRate = append(sendRate, r.SendsPerS)
			}
			perEvent := 0.0
			if len(s.Runs) > 0 && res.Workload.total() > 0 {
				perEvent = float64(s.Runs[0].Sends) / float64(res.Workload.total())
			}
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t\n", s.Variant, s.Concurrency,
				s.EventsPerS.Median, s.EventsPerS.Min, s.EventsPerS.Max, summarize(sendRate).Median,
				summarize(p50).Median, summarize(p99).Median, summarize(acked).Median, summarize(handled).Median, summarize(done).Median, perEvent)
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
		fmt.Fprintln(out, "  Ours sends two events per message where the echo baseline sends one, and records each in the database;")
		fmt.Fprintln(out, "  the fake homeserver does not push those sends back as a real one would (see relay for a real homeserver).")
	}
	printRelay(out, res)
	printMemory(out, res)
	for name, why := range res.Skipped {
		fmt.Fprintf(out, "skipped %s: %s\n", name, why)
	}
}

func printRelay(out io.Writer, res *results) {
	if len(res.Relay) == 0 {
		return
	}
	sz := res.RelaySizes
	fmt.Fprintf(out, "\n== Relay on the real test bed (2 Dendrites, federation on loopback): customer -> agent's client\n")
	fmt.Fprintf(out, "   latency: %s\n", res.Relay[0].Latency.What)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "database\tpath\tn\tp50 ms\tp95 ms\tmean ms\tmax ms\tcustomer PUT p50 ms\t")
	for _, r := range res.Relay {
		l := r.Latency
		for _, row := range []struct {
			name      string
			d, client distribution
		}{{pathRelayed, l.Relayed, l.Customer.Relayed}, {pathBare, l.Bare, l.Customer.Bare}, {pathDirect, l.Direct, l.Customer.Direct}} {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", r.Database, row.name, row.d.N, row.d.P50, row.d.P95, row.d.Mean, row.d.Max, row.client.P50)
		}
	}
	tw.Flush()
	for _, r := range res.Relay {
		l := r.Latency
		fmt.Fprintf(out, "  %s: relayed/bare relay p50 %.2f, p95 %.2f (target <= 1.1); the service's own part (relayed - bare relay) %.1f ms at p50, %.1f ms at p95 (target <= 5 ms)\n",
			r.Database, l.RatioBareP50, l.RatioBareP95, l.OwnP50, l.OwnP95)
		fmt.Fprintf(out, "  %s: relayed/direct DM p50 %.2f, p95 %.2f (relaying adds %.1f ms at p50; a relay pays a second homeserver trip)\n", r.Database, l.RatioP50, l.RatioP95, l.AddedP50)
		if h := r.Latency.Hops; h != nil {
			fmt.Fprintf(out, "    relayed hops p50 (p95) ms: to the service %.0f (%.0f), handling %.0f (%.0f), sending the desk copy %.0f (%.0f), to the agent's /sync %.0f (%.0f)\n",
				h.ToService.P50, h.ToService.P95, h.Handling.P50, h.Handling.P95, h.Sending.P50, h.Sending.P95, h.ToAgent.P50, h.ToAgent.P95)
		}
	}
	fmt.Fprintf(out, "\n   throughput: %d messages per burst, %d bursts per path interleaved; %s\n", sz.Burst, sz.Rounds, res.Relay[0].Burst.What)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "database\tpath\tround\tmsgs/s\tsending s\tservice stored last at s\thandled at s\tdesk copy sent at s\tlast seen at s\tseen\tmissing\tduplicates\tout of order\t")
	for _, r := range res.Relay {
		for _, b := range r.Burst.Runs {
			service := "-\t-\t-"
			if b.Path == pathRelayed {
				service = fmt.Sprintf("%.2f\t%.2f\t%.2f", b.ReceivedLastS, b.HandledLastS, b.SentLastS)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.2f\t%s\t%.2f\t%d\t%d\t%d\t%d\t\n", r.Database, b.Path, b.Round, b.MsgsPerS, b.SendSeconds, service, b.Seconds, b.Seen, b.Missing, b.Duplicates, b.OutOfOrder)
		}
	}
	tw.Flush()
	for _, r := range res.Relay {
		b := r.Burst
		fmt.Fprintf(out, "  %s: relayed %.1f msgs/s, bare relay %.1f msgs/s, direct %.1f msgs/s (medians); per round relayed/bare relay %.3f [%.3f-%.3f], relayed/direct %.3f [%.3f-%.3f]\n",
			r.Database, b.Relayed.Median, b.Bare.Median, b.Direct.Median, b.RatioBare.Median, b.RatioBare.Min, b.RatioBare.Max, b.Ratio.Median, b.Ratio.Min, b.Ratio.Max)
	}
}

func printMemory(out io.Writer, res *results) {
	if len(res.Memory) == 0 {
		return
	}
	sz := res.MemorySize
	fmt.Fprintf(out, "\n== Memory per conversation: %v conversations (one process, read at each) after %d warm-up ones, %d per transaction\n", sz.stops(), sz.Warmup, sz.PerTxn)
	fmt.Fprintf(out, "   %s\n", res.Memory[0].What)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "database\tconversations\tRSS start MiB\tRSS before MiB\tRSS after MiB\tRSS KiB/conv\tanon KiB/conv\tlive heap before MB\tafter MB\theap KiB/conv\tconvs/s\t")
	for _, m := range res.Memory {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%.1f\t%.0f\t\n", m.Database, m.Conversations,
			float64(m.StartRSSKiB)/1024, float64(m.BeforeRSSKiB)/1024, float64(m.AfterRSSKiB)/1024, m.RSSPerConvKiB, m.AnonPerConvKiB,
			m.BeforeLiveHeapMB, m.AfterLiveHeapMB, m.LiveHeapPerConvKiB, m.ConvsPerS)
	}
	tw.Flush()
	for _, m := range res.Memory {
		fmt.Fprintf(out, "  %s homeserver calls for %d conversations: %v\n", m.Database, m.Conversations, m.HomeserverCalls)
	}
}
