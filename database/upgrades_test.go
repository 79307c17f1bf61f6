package database_test

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/database/upgrades"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// TestLatestSchemaIsTheUpgradedSchema: a new database (00-latest.sql, one step) and a
// database created at v1 and upgraded step by step end with the same tables, columns,
// defaults, keys, constraints and indexes, and the same version, on both databases.
func TestLatestSchemaIsTheUpgradedSchema(t *testing.T) {
	dir, ok := os.DirFS("upgrades/testdata").(interface {
		fs.ReadFileFS
		fs.ReadDirFS
	})
	if !ok {
		t.Fatal("os.DirFS reads no files")
	}
	initial := dbutil.BuildUpgradeTable().WithFS(dir).Finish()
	if len(initial) != 1 {
		t.Fatalf("testdata holds %d upgrades, want the initial revision alone", len(initial))
	}
	stepwise := append(dbutil.UpgradeTable{initial[0]}, upgrades.Table[1:]...)
	for _, dbType := range dbtest.Types {
		t.Run(dbType, func(t *testing.T) {
			ctx := context.Background()
			latest := dbtest.OpenConfig(t, dbtest.Config(t, dbType))
			upgraded, err := database.Open(dbtest.Config(t, dbType), zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = upgraded.Close() })
			upgraded.UpgradeTable = stepwise
			if err = upgraded.Upgrade(ctx); err != nil {
				t.Fatal(err)
			}
			want, got := describeSchema(t, upgraded), describeSchema(t, latest)
			if !slices.ContainsFunc(want, func(line string) bool { return strings.Contains(line, "room_creation") }) {
				t.Fatalf("the description misses the latest table:\n%s", strings.Join(want, "\n"))
			}
			for _, line := range want {
				if !slices.Contains(got, line) {
					t.Errorf("00-latest.sql lacks: %s", line)
				}
			}
			for _, line := range got {
				if !slices.Contains(want, line) {
					t.Errorf("00-latest.sql has, the upgrades do not: %s", line)
				}
			}
		})
	}
}

// describeSchema lists the schema of the service's tables, one sorted line per fact.
// Each database is asked through its catalogue rather than for its stored SQL, which
// on SQLite keeps a table's CREATE and ALTER statements as they were written.
func describeSchema(t *testing.T, db *database.Database) []string {
	t.Helper()
	queries := map[dbutil.Dialect][]string{
		dbutil.Postgres: {
			`SELECT 'version', version, compat FROM cc_version`,
			`SELECT 'column', table_name, ordinal_position, column_name, data_type, is_nullable, column_default, is_identity, identity_generation
			 FROM information_schema.columns WHERE table_schema = current_schema()`,
			`SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid)
			 FROM pg_constraint WHERE connamespace = current_schema()::regnamespace`,
			`SELECT 'index', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()`,
		},
		dbutil.SQLite: {
			`SELECT 'version', version, compat FROM cc_version`,
			`SELECT 'object', type, name, tbl_name, sql LIKE '%AUTOINCREMENT%' FROM sqlite_master WHERE type <> 'index' OR sql IS NULL`,
			`SELECT 'column', m.name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk
			 FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'`,
			`SELECT 'foreign key', m.name, f.id, f.seq, f."table", f."from", f."to", f.on_update, f.on_delete
			 FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`,
			`SELECT 'index', m.name, i.name, i."unique", i.origin, i.partial
			 FROM sqlite_master m, pragma_index_list(m.name) i WHERE m.type = 'table'`,
			`SELECT 'index column', i.name, c.seqno, c.name, c."desc", c.coll, c.key
			 FROM sqlite_master i, pragma_index_xinfo(i.name) c WHERE i.type = 'index'`,
			`SELECT 'index sql', name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`,
		},
	}[db.Dialect]
	var lines []string
	for _, query := range queries {
		rows, err := db.Query(context.Background(), query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			values := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range values {
				ptrs[i] = &values[i]
			}
			if err = rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fields := make([]string, len(values))
			for i, v := range values {
				fields[i] = strings.Join(strings.Fields(v.String), " ")
				if !v.Valid {
					fields[i] = "NULL"
				}
			}
			lines = append(lines, strings.Join(fields, " | "))
		}
		if err = rows.Err(); err != nil {
			t.Fatal(err)
		}
		_ = rows.Close()
	}
	slices.Sort(lines)
	return lines
}
