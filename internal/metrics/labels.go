package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// The only label names any contact-center metric may have: a tenant, a workflow
// step (queue), a status. A user, room, event or call ID would make a series per
// person and put identifiers into the monitoring system; no metric here takes one,
// and label values that look like one are replaced (see value).
const (
	LabelTenant = "tenant"
	LabelStep   = "step"
	LabelStatus = "status"
)

// Allowed lists the label names of this package's metrics.
var Allowed = []string{LabelTenant, LabelStep, LabelStatus}

// Invalid replaces a label value that could identify someone or is too long.
const Invalid = "invalid"

// value keeps a label value fit for a label: short, and with none of the sigils and
// separators of Matrix identifiers (@user:server, !room:server, $event, #alias),
// so that an identifier passed by mistake never reaches a series.
func value(s string) string {
	if len(s) > 64 || strings.ContainsAny(s, "@!$#:/\n") {
		return Invalid
	}
	return s
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, checked(labels))
}

func histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, checked(labels))
}

func gaugeDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, checked(labels), nil)
}

// checked panics at start-up on a label name outside Allowed: a programming error.
func checked(labels []string) []string {
	for _, l := range labels {
		ok := false
		for _, a := range Allowed {
			ok = ok || l == a
		}
		if !ok {
			panic("metrics: label " + l + " is not allowed")
		}
	}
	return labels
}
