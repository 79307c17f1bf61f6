package database_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/reporting/reportingtest"
)

// TestContactLogGoldenDay: the golden day written through the store (replays
// included, each entry in a transaction of its own as handlers write them) gives
// the hand-computed figures on both databases, for every grouping.
func TestContactLogGoldenDay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		entries := reportingtest.Entries()
		written, keys := 0, map[string]bool{}
		for _, e := range entries {
			keys[e.Key] = true
			err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
				ok, err := db.ContactLog.Append(ctx, e)
				if ok {
					written++
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if written != len(keys) || written == len(entries) {
			t.Fatalf("%d entries written of %d (%d causes); want each cause once", written, len(entries), len(keys))
		}
		// Another tenant's log is not read.
		other := entries[len(entries)-3]
		other.Tenant = "globex"
		if ok, err := db.ContactLog.Append(ctx, other); !ok || err != nil {
			t.Fatal("another tenant's entry with the same key:", ok, err)
		}
		for _, groupBy := range []reporting.GroupBy{reporting.ByDay, reporting.ByAgent, reporting.ByStep} {
			for _, abandonsCount := range []bool{true, false} {
				settings := reportingtest.Settings()
				settings.AbandonsCount = abandonsCount
				got, err := db.ContactLog.Summary(ctx, reportingtest.Tenant, reportingtest.Period(groupBy), settings)
				if err != nil {
					t.Fatal(err)
				}
				rows, total := reportingtest.Expected(groupBy, abandonsCount)
				for _, d := range reportingtest.Diff(got, rows, total) {
					t.Errorf("%s, abandons count %v: %s", groupBy, abandonsCount, d)
				}
			}
		}
		q, rows, total := reportingtest.Day15()
		got, err := db.ContactLog.Summary(ctx, reportingtest.Tenant, q, reportingtest.Settings())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range reportingtest.Diff(got, rows, total) {
			t.Errorf("the 15th: %s", d)
		}
		// The export: the period's conversations, no statuses, none of the day before.
		convs := map[int64]bool{}
		err = db.ContactLog.EachForExport(ctx, reportingtest.Tenant, reportingtest.At(0, 0, 0, 0), reportingtest.At(1, 0, 0, 0),
			func(e reporting.Entry) error {
				convs[e.Conversation] = true
				return nil
			})
		if err != nil || len(convs) != 9 || convs[100] || convs[0] {
			t.Fatalf("exported conversations %v, %v; want 101-109", convs, err)
		}
	})
}

// TestContactLogAppendJoinsTheTransaction: an entry written in a transaction that
// rolls back is gone with it; a bad entry is refused.
func TestContactLogAppendJoinsTheTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		e := reportingtest.Entries()[12]
		boom := errors.New("the state change failed")
		err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
			if ok, err := db.ContactLog.Append(ctx, e); !ok || err != nil {
				t.Fatal(ok, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if ok, err := db.ContactLog.Append(ctx, e); !ok || err != nil {
			t.Fatalf("after the rollback: written %v, %v; want written", ok, err)
		}
		if ok, err := db.ContactLog.Append(ctx, e); ok || err != nil {
			t.Fatalf("again: written %v, %v; want nothing", ok, err)
		}
		bad := e
		bad.Kind = "lunch"
		if _, err = db.ContactLog.Append(ctx, bad); err == nil || !strings.Contains(err.Error(), "unknown kind") {
			t.Fatalf("unknown kind: %v", err)
		}
	})
}

// TestContactLogQueriesUseIndexes: on PostgreSQL, with a log of 40 days, a day's
// report, the export and the statuses before a period are index scans.
func TestContactLogQueriesUseIndexes(t *testing.T) {
	db := dbtest.Open(t, "postgres")
	ctx := context.Background()
	start := reportingtest.At(0, 0, 0, 0)
	if err := FillContactLog(ctx, db, "acme", start, 40*2000, 2000); err != nil {
		t.Fatal(err)
	}
	day := start.Add(20 * 24 * time.Hour)
	for name, query := range map[string]string{
		"report": database.ContactLogRangeQuery, "export": database.ContactLogExportQuery,
		"statuses": database.ContactLogStatusBeforeQuery,
	} {
		args := []any{"acme", day.UnixMilli(), day.Add(24 * time.Hour).UnixMilli()}
		if name == "statuses" {
			args = args[:2]
		}
		rows, err := db.Query(ctx, "EXPLAIN "+query, args...)
		if err != nil {
			t.Fatal(name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err = rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		_ = rows.Close()
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan") || !strings.Contains(text, "contact_log_") {
			t.Errorf("%s: not an index scan:\n%s", name, text)
		}
	}
}
