package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// scrapeTimeout bounds the callbacks of one scrape.
const scrapeTimeout = 5 * time.Second

var (
	inboxDepthDesc   = gaugeDesc("inbox_depth", "Inbox entries not handled yet.")
	inboxOldestDesc  = gaugeDesc("inbox_oldest_seconds", "Age of the oldest inbox entry not handled yet.")
	outboxDepthDesc  = gaugeDesc("outbox_depth", "Outbox rows not sent yet.")
	outboxOldestDesc = gaugeDesc("outbox_oldest_seconds", "Age of the oldest outbox row not sent yet.")
	queueDesc        = gaugeDesc("queue_waiting", "Contacts waiting for an agent.", LabelTenant, LabelStep)
	queueOldestDesc  = gaugeDesc("queue_oldest_wait_seconds", "The longest current wait.", LabelTenant, LabelStep)
	agentsDesc       = gaugeDesc("agents", "Staff by status.", LabelTenant, LabelStatus)
	sourceErrorDesc  = gaugeDesc("scrape_source_errors", "Live sources that failed in this scrape, by status (the source).", LabelStatus)
)

// live reads the state of the moment through the callbacks at each scrape.
type live struct{ src Sources }

func (l *live) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{inboxDepthDesc, inboxOldestDesc, outboxDepthDesc, outboxOldestDesc,
		queueDesc, queueOldestDesc, agentsDesc, sourceErrorDesc} {
		ch <- d
	}
}

func (l *live) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	failed := func(source string) {
		ch <- prometheus.MustNewConstMetric(sourceErrorDesc, prometheus.GaugeValue, 1, source)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if l.src.Transport != nil {
		if t, err := l.src.Transport(ctx); err != nil {
			failed("transport")
		} else {
			gauge(inboxDepthDesc, float64(t.InboxDepth))
			gauge(inboxOldestDesc, t.InboxOldest.Seconds())
			gauge(outboxDepthDesc, float64(t.OutboxDepth))
			gauge(outboxOldestDesc, t.OutboxOldest.Seconds())
		}
	}
	if l.src.Queues != nil {
		if queues, err := l.src.Queues(ctx); err != nil {
			failed("queues")
		} else {
			for _, q := range sumQueues(queues) {
				gauge(queueDesc, float64(q.Waiting), q.Tenant, q.Step)
				gauge(queueOldestDesc, q.OldestWait.Seconds(), q.Tenant, q.Step)
			}
		}
	}
	if l.src.Agents != nil {
		if agents, err := l.src.Agents(ctx); err != nil {
			failed("agents")
		} else {
			counts := map[[2]string]int{}
			for _, a := range agents {
				counts[[2]string{value(a.Tenant), value(a.Status)}] += a.Count
			}
			for k, n := range counts {
				gauge(agentsDesc, float64(n), k[0], k[1])
			}
		}
	}
}

// sumQueues merges queues whose labels coincide once checked, so that no two
// metrics of a scrape have the same labels.
func sumQueues(queues []Queue) []Queue {
	byKey := map[[2]string]*Queue{}
	var out []Queue
	for _, q := range queues {
		q.Tenant, q.Step = value(q.Tenant), value(q.Step)
		k := [2]string{q.Tenant, q.Step}
		if prev := byKey[k]; prev != nil {
			prev.Waiting += q.Waiting
			prev.OldestWait = max(prev.OldestWait, q.OldestWait)
			continue
		}
		out = append(out, q)
		byKey[k] = &out[len(out)-1]
	}
	return out
}
