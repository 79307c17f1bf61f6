// Package metrics is the service's Prometheus metrics: its own health (inbox and
// outbox, handler errors, panics, homeserver requests) and the contact center's
// (contacts by step and status, waits, handling, agents), served on a listener of
// their own that is off unless configured (config: metrics.listen).
package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/contactcenter/contactcenter/reporting"
)

const namespace = "contactcenter"

// Transport is the inbox's and outbox's state, read at each scrape.
type Transport struct {
	InboxDepth, OutboxDepth int
	// The age of the oldest entry not handled (sent) yet; zero when empty.
	InboxOldest, OutboxOldest time.Duration
}

// Queue is a tenant's step at a scrape: contacts waiting and the longest wait.
type Queue struct {
	Tenant, Step string
	Waiting      int
	OldestWait   time.Duration
}

// AgentCount is how many of a tenant's staff are in a status.
type AgentCount struct {
	Tenant, Status string
	Count          int
}

// Sources are the callbacks the scrape reads live state through; nil ones are
// left out. Each is called with the scrape's context.
type Sources struct {
	Transport func(context.Context) (Transport, error)
	Queues    func(context.Context) ([]Queue, error)
	Agents    func(context.Context) ([]AgentCount, error)
}

// Metrics holds the registry and every metric the service updates.
type Metrics struct {
	Registry *prometheus.Registry

	handlerErrors *prometheus.CounterVec
	panics        *prometheus.CounterVec
	hsLatency     *prometheus.HistogramVec
	contacts      *prometheus.CounterVec
	wait          *prometheus.HistogramVec
	firstResponse *prometheus.HistogramVec
	handle        *prometheus.HistogramVec
}

// Seconds buckets: contact-center waits and handling run from seconds to an hour.
var contactBuckets = []float64{5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600}

// New registers every metric, the Go runtime's and the process's.
func New(src Sources) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		handlerErrors: counterVec("handler_errors_total",
			"Inbox entries whose handling failed (retried) or was given up, by status (failed, given_up).", LabelStatus),
		panics: counterVec("panics_total", "Panics recovered, by status (where: handler, sender, loop).", LabelStatus),
		hsLatency: histogramVec("homeserver_request_seconds",
			"Time of requests to the homeserver, by status (2xx, 4xx, 5xx, error).", prometheus.DefBuckets, LabelStatus),
		contacts: counterVec("contacts_total",
			"Contact log entries by tenant, step and status (the entry's kind: queued, accepted, abandoned…).",
			LabelTenant, LabelStep, LabelStatus),
		wait: histogramVec("contact_wait_seconds", "Time from queued to accepted.", contactBuckets, LabelTenant, LabelStep),
		firstResponse: histogramVec("contact_first_response_seconds", "Time from queued to the first agent response.",
			contactBuckets, LabelTenant, LabelStep),
		handle: histogramVec("contact_handle_seconds", "Time agents served a contact, wrap-up included.",
			contactBuckets, LabelTenant, LabelStep),
	}
	m.Registry.MustRegister(m.handlerErrors, m.panics, m.hsLatency, m.contacts, m.wait, m.firstResponse, m.handle,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&live{src: src})
	return m
}

// HandlerError counts an inbox entry whose handling failed; givenUp when it will
// not be tried again.
func (m *Metrics) HandlerError(givenUp bool) {
	status := "failed"
	if givenUp {
		status = "given_up"
	}
	m.handlerErrors.WithLabelValues(status).Inc()
}

// Panic counts a recovered panic; where is "handler", "sender" or "loop".
func (m *Metrics) Panic(where string) { m.panics.WithLabelValues(value(where)).Inc() }

// HomeserverRequest observes a request to the homeserver: its HTTP status (0 when
// none came back) and how long it took.
func (m *Metrics) HomeserverRequest(status int, took time.Duration) {
	class := "error"
	if status >= 100 && status < 600 {
		class = strconv.Itoa(status/100) + "xx"
	}
	m.hsLatency.WithLabelValues(class).Observe(took.Seconds())
}

// ContactEvent counts a contact log entry of a conversation; call it after the
// transaction that appended it commits.
func (m *Metrics) ContactEvent(tenant, step string, kind reporting.Kind) {
	if kind == reporting.AgentStatus {
		return // the agents gauge shows statuses
	}
	m.contacts.WithLabelValues(value(tenant), value(step), string(kind)).Inc()
}

// ContactWait observes a contact's wait (queued → accepted).
func (m *Metrics) ContactWait(tenant, step string, d time.Duration) {
	m.wait.WithLabelValues(value(tenant), value(step)).Observe(d.Seconds())
}

// ContactFirstResponse observes queued → first agent response.
func (m *Metrics) ContactFirstResponse(tenant, step string, d time.Duration) {
	m.firstResponse.WithLabelValues(value(tenant), value(step)).Observe(d.Seconds())
}

// ContactHandled observes a contact's handle time (reporting.Contact.Handle).
func (m *Metrics) ContactHandled(tenant, step string, d time.Duration) {
	m.handle.WithLabelValues(value(tenant), value(step)).Observe(d.Seconds())
}
