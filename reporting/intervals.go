package reporting

import (
	"cmp"
	"slices"
	"time"
)

// interval is [start, end).
type interval struct{ start, end time.Time }

// union merges intervals into sorted, disjoint ones: an agent serving two
// conversations at once is busy once, not twice.
func union(in []interval) []interval {
	in = slices.DeleteFunc(slices.Clone(in), func(i interval) bool { return !i.end.After(i.start) })
	slices.SortFunc(in, func(a, b interval) int { return cmp.Or(a.start.Compare(b.start), a.end.Compare(b.end)) })
	var out []interval
	for _, i := range in {
		if n := len(out); n > 0 && !i.start.After(out[n-1].end) {
			if i.end.After(out[n-1].end) {
				out[n-1].end = i.end
			}
			continue
		}
		out = append(out, i)
	}
	return out
}

// intersect is the overlap of two sorted, disjoint lists.
func intersect(a, b []interval) []interval {
	var out []interval
	for i, j := 0, 0; i < len(a) && j < len(b); {
		start, end := later(a[i].start, b[j].start), earlier(a[i].end, b[j].end)
		if end.After(start) {
			out = append(out, interval{start, end})
		}
		if a[i].end.Before(b[j].end) {
			i++
		} else {
			j++
		}
	}
	return out
}

// within is the length of the intervals inside [from, to).
func within(list []interval, from, to time.Time) time.Duration {
	var d time.Duration
	for _, i := range list {
		if start, end := later(i.start, from), earlier(i.end, to); end.After(start) {
			d += end.Sub(start)
		}
	}
	return d
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// staffedIntervals are the times a staff member was at work, from their statuses
// in the order they were set; the last lasts until end.
func staffedIntervals(statuses []Entry, end time.Time) []interval {
	var out []interval
	for i, s := range statuses {
		if !Staffed(s.Detail) {
			continue
		}
		until := end
		if i+1 < len(statuses) {
			until = earlier(statuses[i+1].At, end)
		}
		out = append(out, interval{s.At, until})
	}
	return union(out)
}
