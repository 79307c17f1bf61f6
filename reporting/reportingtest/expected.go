package reportingtest

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/contactcenter/contactcenter/reporting"
)

// Want is a row's hand-computed figures; a nil ratio means null.
type Want struct {
	Group                                                             string
	Queued, Handled, Abandoned, Short, Offers, Missed, Declined, Xfer int
	EndedBy                                                           map[string]int
	Calls                                                             [2]int
	Outbound                                                          map[string]int
	ASA, FRT, AHT, Aband, AbandExShort, SL, Occupancy                 *float64
	SLMet                                                             *bool
	Consent                                                           map[string]reporting.ConsentCounts
}

// Q is num ÷ den, as a hand computation writes it.
func Q(num, den float64) *float64 { v := num / den; return &v }

func flag(b bool) *bool { return &b }

var (
	// On the 14th: conversations 101-109 (100 opened the day before).
	day14 = Want{Queued: 8, Handled: 6, Abandoned: 2, Short: 1, Offers: 6, Missed: 1, Declined: 1, Xfer: 1,
		EndedBy: map[string]int{"agent": 3, "customer": 2, "system": 1}, Calls: [2]int{1, 1},
		Outbound: map[string]int{"declined": 1},
		ASA:      Q(20+45+10+25+40+15, 6), FRT: Q(50+60+20+60+60+30, 6), AHT: Q(660+300+510+360+1200+240, 6),
		Aband: Q(2, 8), AbandExShort: Q(1, 7), SL: Q(4, 8), SLMet: flag(false),
		Consent: map[string]reporting.ConsentCounts{"location": {Given: 1, Refused: 1, Withdrawn: 1}, "history": {Given: 1}}}
	// Occupancy, hand-computed: staffed Carol 30600 s, Dave 52200 + 1800 s, Erin
	// 86400 + 3600 s; serving Carol 2520 s, Dave 485 + 265 s, Erin 630 + 0 s.
	occ14, occ15, occAll = Q(2520+485+630, 30600+52200+86400), Q(265, 1800+3600), Q(2520+750+630, 30600+54000+90000)
)

// Expected is the golden summary's rows and total for the grouping, under Settings
// (with abandonsCount as given).
func Expected(groupBy reporting.GroupBy, abandonsCount bool) (rows []Want, total Want) {
	total = day14
	total.Occupancy = occAll
	switch groupBy {
	case reporting.ByDay:
		d14 := day14
		d14.Group, d14.Occupancy = "2025-03-14", occ14
		rows = []Want{d14, {Group: "2025-03-15", Occupancy: occ15}}
	case reporting.ByAgent:
		rows = []Want{
			{Group: "", Queued: 2, Abandoned: 2, Short: 1, Declined: 1, Outbound: map[string]int{"declined": 1},
				Aband: Q(2, 2), AbandExShort: Q(1, 1), SL: Q(0, 2), SLMet: flag(false)},
			{Group: Carol, Queued: 4, Handled: 4, Offers: 5, EndedBy: map[string]int{"agent": 2, "customer": 2}, Calls: [2]int{1, 1},
				ASA: Q(20+45+40+15, 4), FRT: Q(50+60+60+30, 4), AHT: Q(660+300+1200+240, 4),
				Aband: Q(0, 4), AbandExShort: Q(0, 4), SL: Q(2, 4), SLMet: flag(false), Occupancy: Q(2520, 30600),
				Consent: map[string]reporting.ConsentCounts{"location": {Given: 1, Refused: 1, Withdrawn: 1}, "history": {Given: 1}}},
			{Group: Dave, Queued: 2, Handled: 2, Offers: 1, Missed: 1, Xfer: 1, EndedBy: map[string]int{"agent": 1, "system": 1},
				ASA: Q(10+25, 2), FRT: Q(20+60, 2), AHT: Q(510+360, 2),
				Aband: Q(0, 2), AbandExShort: Q(0, 2), SL: Q(2, 2), SLMet: flag(true), Occupancy: Q(485+265, 52200+1800)},
			{Group: Erin, Occupancy: Q(630, 86400+3600)},
		}
	case reporting.ByStep:
		rows = []Want{
			{Group: "", Outbound: map[string]int{"declined": 1}},
			{Group: "sales", Queued: 2, Handled: 1, Abandoned: 1, Short: 1, EndedBy: map[string]int{"agent": 1},
				ASA: Q(15, 1), FRT: Q(30, 1), AHT: Q(240, 1), Aband: Q(1, 2), AbandExShort: Q(0, 1), SL: Q(1, 2), SLMet: flag(false)},
			{Group: "support", Queued: 6, Handled: 5, Abandoned: 1, Offers: 6, Missed: 1, Declined: 1, Xfer: 1,
				EndedBy: map[string]int{"agent": 2, "customer": 2, "system": 1}, Calls: [2]int{1, 1},
				ASA: Q(20+45+10+25+40, 5), FRT: Q(50+60+20+60+60, 5), AHT: Q(660+300+510+360+1200, 5),
				Aband: Q(1, 6), AbandExShort: Q(1, 6), SL: Q(3, 6), SLMet: flag(false),
				Consent: map[string]reporting.ConsentCounts{"location": {Given: 1, Refused: 1, Withdrawn: 1}, "history": {Given: 1}}},
		}
	}
	if !abandonsCount {
		for i := range rows {
			rows[i].SL, rows[i].SLMet = slWithoutAbandons(rows[i])
		}
		total.SL, total.SLMet = slWithoutAbandons(total)
	}
	return rows, total
}

// slWithoutAbandons is the row's service level with abandons out of the
// denominator: within ÷ (queued − abandoned), the within count read back from the
// row's own figure.
func slWithoutAbandons(w Want) (*float64, *bool) {
	if w.SL == nil || w.Queued == w.Abandoned {
		return nil, nil
	}
	within := math.Round(*w.SL * float64(w.Queued))
	sl := within / float64(w.Queued-w.Abandoned)
	return &sl, flag(sl >= 0.8)
}

// Diff lists every difference between a summary and the expected figures.
func Diff(got reporting.Summary, rows []Want, total Want) []string {
	var out []string
	if len(got.Rows) != len(rows) {
		groups := make([]string, len(got.Rows))
		for i, r := range got.Rows {
			groups[i] = fmt.Sprintf("%q", r.Group)
		}
		out = append(out, fmt.Sprintf("%d rows (%s), want %d", len(got.Rows), strings.Join(groups, ", "), len(rows)))
	}
	for i := range min(len(got.Rows), len(rows)) {
		out = append(out, diffRow(got.Rows[i], rows[i])...)
	}
	total.Group = ""
	return append(out, diffRow(got.Total, total)...)
}

func diffRow(got reporting.Row, w Want) []string {
	var out []string
	check := func(name string, ok bool, g, want any) {
		if !ok {
			out = append(out, fmt.Sprintf("row %q: %s = %v, want %v", got.Group, name, g, want))
		}
	}
	check("group", got.Group == w.Group, got.Group, w.Group)
	for _, c := range []struct {
		name    string
		g, want int
	}{{"queued", got.Queued, w.Queued}, {"offers", got.Offers, w.Offers}, {"handled", got.Handled, w.Handled}, {"abandoned", got.Abandoned, w.Abandoned},
		{"short_abandoned", got.ShortAbandoned, w.Short}, {"missed_offers", got.MissedOffers, w.Missed},
		{"declined_offers", got.DeclinedOffers, w.Declined}, {"transfers", got.Transfers, w.Xfer},
		{"calls_started", got.CallsStarted, w.Calls[0]}, {"calls_answered", got.CallsAnswered, w.Calls[1]}} {
		check(c.name, c.g == c.want, c.g, c.want)
	}
	check("ended_by", sameCounts(got.EndedBy, w.EndedBy), got.EndedBy, w.EndedBy)
	check("outbound", sameCounts(got.Outbound, w.Outbound), got.Outbound, w.Outbound)
	check("consent", sameCounts(got.Consent, w.Consent), got.Consent, w.Consent)
	for _, c := range []struct {
		name    string
		g, want *float64
	}{{"asa", got.ASA, w.ASA}, {"first_response", got.FirstResponse, w.FRT}, {"aht", got.AHT, w.AHT},
		{"abandonment_rate", got.AbandonmentRate, w.Aband}, {"abandonment_rate_excluding_short", got.AbandonmentRateExcludShort, w.AbandExShort},
		{"service_level", got.ServiceLevel, w.SL}, {"occupancy", got.Occupancy, w.Occupancy}} {
		check(c.name, sameFloat(c.g, c.want), show(c.g), show(c.want))
	}
	check("service_level_met", (got.ServiceLevelMet == nil) == (w.SLMet == nil) &&
		(got.ServiceLevelMet == nil || *got.ServiceLevelMet == *w.SLMet), showBool(got.ServiceLevelMet), showBool(w.SLMet))
	return out
}

func sameCounts[V comparable](got, want map[string]V) bool {
	var zero V
	for k := range maps.Keys(got) {
		if got[k] != want[k] {
			return false
		}
	}
	return !slices.ContainsFunc(slices.Collect(maps.Keys(want)), func(k string) bool { return want[k] != zero && got[k] != want[k] })
}

func sameFloat(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) <= 1e-9*math.Max(1, math.Abs(*b))
}

func show(f *float64) string {
	if f == nil {
		return "null"
	}
	return fmt.Sprintf("%.6f", *f)
}

func showBool(b *bool) string {
	if b == nil {
		return "null"
	}
	return fmt.Sprint(*b)
}

// Day15 is the report of the 15th alone, by day: no contact opened that day; Dave
// served the conversation of the night before for 265 s of his 1800 s, Erin none
// of her 3600 s (her status was set three days before, outside the look-back).
func Day15() (reporting.Query, []Want, Want) {
	q := reporting.Query{From: At(1, 0, 0, 0), To: At(2, 0, 0, 0), Now: At(2, 12, 0, 0), GroupBy: reporting.ByDay}
	return q, []Want{{Group: "2025-03-15", Occupancy: occ15}}, Want{Occupancy: occ15}
}
