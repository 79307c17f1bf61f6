package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/reporting"
)

// FillContactLog writes, on PostgreSQL, n synthetic conversations of a tenant from
// start on, perDay a day: each queued, offered, accepted, answered and ended 10
// minutes later by one of 50 agents, every tenth abandoned after 30 s instead
// (4.7 entries a conversation), and the 50 agents ready an hour before start.
func FillContactLog(ctx context.Context, db *database.Database, tenantID string, start time.Time, n, perDay int) error {
	const fill = `
		INSERT INTO contact_log (tenant_id, conversation_id, opened_at, kind, detail, agent, step, customer_ref, at, dedupe_key)
		SELECT $1::text, g + 1, $2::bigint + g * $3::bigint, k.kind, k.detail,
			CASE WHEN k.kind IN ('offered', 'accepted', 'first_agent_response') THEN '@agent' || (g % 50) || ':biz.example' ELSE '' END,
			CASE WHEN k.kind = 'queued' THEN (CASE WHEN g % 3 = 0 THEN 'sales' ELSE 'support' END) ELSE '' END,
			CASE WHEN k.kind = 'queued' THEN 'Visitor ' || to_hex(g) ELSE '' END,
			$2::bigint + g * $3::bigint + k.offset_ms, 'c/' || (g + 1) || '/' || k.kind || '/$ev' || k.n
		FROM generate_series($4::bigint, $5::bigint - 1) AS g
		CROSS JOIN (VALUES ('queued', '', 0, 1, false), ('offered', '', 5000, 2, false), ('accepted', '', 20000, 3, false),
			('first_agent_response', '', 50000, 4, false), ('ended', 'agent', 600000, 5, false),
			('abandoned', 'left', 30000, 2, true)) AS k (kind, detail, offset_ms, n, abandon)
		WHERE k.kind = 'queued' OR k.abandon = (g % 10 = 9)`
	const ready = `
		INSERT INTO contact_log (tenant_id, conversation_id, opened_at, kind, detail, agent, at, dedupe_key)
		SELECT $1::text, 0, $2::bigint, 'agent_status', 'ready', '@agent' || a || ':biz.example', $2::bigint, 's/' || a || '/ready'
		FROM generate_series(0, 49) AS a`
	const batch = 100_000
	every := (24 * time.Hour / time.Duration(perDay)).Milliseconds()
	for first := 0; first < n; first += batch {
		if _, err := db.Database.Exec(ctx, fill, tenantID, start.UnixMilli(), every, first, min(first+batch, n)); err != nil {
			return err
		}
	}
	if _, err := db.Database.Exec(ctx, ready, tenantID, start.Add(-time.Hour).UnixMilli()); err != nil {
		return err
	}
	_, err := db.Database.Exec(ctx, `ANALYZE contact_log`)
	return err
}

// BenchmarkContactLogSummary: the summary over a log of 1,000,000 conversations
// (10,000 a day for 100 days) on PostgreSQL, for a day, a week and a month, and the
// log's rows and bytes per conversation.
func BenchmarkContactLogSummary(b *testing.B) {
	const conversations, perDay = 1_000_000, 10_000
	ctx := context.Background()
	db := dbtest.Open(b, "postgres")
	start := time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)
	began := time.Now()
	if err := FillContactLog(ctx, db, "acme", start, conversations, perDay); err != nil {
		b.Fatal(err)
	}
	rows, bytes, err := db.ContactLog.SizePostgres(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d conversations in %s: %d rows, %.2f rows and %.0f bytes a conversation (table and indexes)",
		conversations, time.Since(began).Round(time.Second), rows, float64(rows)/conversations, float64(bytes)/conversations)
	settings := reporting.Settings{Location: time.UTC, ShortAbandon: 5 * time.Second, ServiceLevelThreshold: 30 * time.Second, ServiceLevelTarget: 0.8}
	for _, p := range []struct {
		name string
		days int
		by   reporting.GroupBy
	}{{"day", 1, reporting.ByAgent}, {"week", 7, reporting.ByDay}, {"month", 30, reporting.ByDay}, {"all", 100, reporting.ByStep}} {
		b.Run(p.name, func(b *testing.B) {
			from := start.AddDate(0, 0, 50-p.days/2)
			if p.days == 100 {
				from = start
			}
			q := reporting.Query{From: from, To: from.AddDate(0, 0, p.days), GroupBy: p.by}
			var sum reporting.Summary
			for b.Loop() {
				if sum, err = db.ContactLog.Summary(ctx, "acme", q, settings); err != nil {
					b.Fatal(err)
				}
			}
			if want := p.days * perDay; sum.Total.Queued != want {
				b.Fatalf("%d queued, want %d", sum.Total.Queued, want)
			}
			b.ReportMetric(float64(sum.Total.Queued), "conversations/op")
		})
	}
}
