package migrations_test

import (
	"database/sql"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cronpulse/cronpulse/migrations"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// entities are every model stored in a table of its own. A new model
// belongs here so that its struct is checked against its table.
var entities = []any{
	&models.Project{}, &models.Job{}, &models.Ping{}, &models.CheckRun{}, &models.Flip{},
	&models.Channel{}, &models.Notification{}, &models.APIKey{}, &models.User{},
	&models.StatusPage{}, &models.StatusPageJob{},
}

func TestVersionsAreUniqueAndPositive(t *testing.T) {
	seen := map[int]string{}
	for _, m := range migrations.All {
		assert.Positive(t, m.Version, m.Name)
		assert.NotEmpty(t, m.Name)
		assert.NotEmpty(t, m.SQL, "migration %d has no statements", m.Version)
		if other, dup := seen[m.Version]; dup {
			t.Errorf("version %d is used by both %q and %q", m.Version, other, m.Name)
		}
		seen[m.Version] = m.Name
	}
}

func open(t *testing.T, url string) *gorm.DB {
	t.Helper()
	db, _, err := models.Open(url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = models.Close(db) }) // the test is over either way
	return db
}

func TestApplyAllTwiceOnBothDatabases(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			conn := open(t, db.URL)
			n, err := migrations.Apply(conn, log)
			require.NoError(t, err)
			assert.Equal(t, len(migrations.All), n, "a fresh database gets every migration")
			n, err = migrations.Apply(conn, log)
			require.NoError(t, err)
			assert.Zero(t, n, "the second run applies nothing")

			var got []int
			require.NoError(t, conn.Table("schema_migrations").Order("version").Pluck("version", &got).Error)
			var want []int
			for _, m := range migrations.All {
				want = append(want, m.Version)
			}
			sort.Ints(want)
			assert.Equal(t, want, got)

			// A second connection (another instance starting) finds nothing to do.
			n, err = migrations.Apply(open(t, db.URL), log)
			require.NoError(t, err)
			assert.Zero(t, n)
		})
	}
}

// TestModelsMatchTables checks, on both databases, that every field GORM
// would read or write has a column and every column has a field, and that a
// column that may be NULL is read into a type that can hold NULL.
func TestModelsMatchTables(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	scanner := reflect.TypeOf((*sql.Scanner)(nil)).Elem()
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			conn := open(t, db.URL)
			_, err := migrations.Apply(conn, log)
			require.NoError(t, err)
			tables, err := conn.Migrator().GetTables()
			require.NoError(t, err)
			modelTables := []string{"schema_migrations"}
			for _, e := range entities {
				stmt := &gorm.Statement{DB: conn}
				require.NoError(t, stmt.Parse(e))
				sch := stmt.Schema
				modelTables = append(modelTables, sch.Table)
				t.Run(sch.Name, func(t *testing.T) {
					require.Contains(t, tables, sch.Table, "model %s has no table", sch.Name)
					cols, err := conn.Migrator().ColumnTypes(e)
					require.NoError(t, err)
					byName := map[string]gorm.ColumnType{}
					for _, c := range cols {
						byName[c.Name()] = c
					}
					nullable := nullableColumns(t, conn, db.Name, sch.Table, cols)
					fields := map[string]bool{}
					for _, f := range sch.Fields {
						if f.DBName == "" || (!f.Readable && !f.Creatable && !f.Updatable) {
							continue
						}
						fields[f.DBName] = true
						_, ok := byName[f.DBName]
						if !assert.True(t, ok, "%s.%s: no column %s.%s", sch.Name, f.Name, sch.Table, f.DBName) {
							continue
						}
						if nullable[f.DBName] && !f.PrimaryKey {
							ft := f.FieldType
							canHoldNull := ft.Kind() == reflect.Pointer || reflect.PointerTo(ft).Implements(scanner)
							assert.True(t, canHoldNull, "%s.%s is %s but column %s may be NULL", sch.Name, f.Name, ft, f.DBName)
						}
					}
					for name := range byName {
						assert.True(t, fields[name], "column %s.%s has no field in %s", sch.Table, name, sch.Name)
					}
				})
			}
			for _, table := range tables {
				if !slices.Contains(modelTables, table) && !strings.HasPrefix(table, "sqlite_") {
					t.Logf("table %s has no model in this test's list", table)
				}
			}
		})
	}
}

// nullableColumns reports which columns of table may hold NULL. The SQLite
// driver's ColumnTypes does not say, so SQLite asks PRAGMA table_info.
func nullableColumns(t *testing.T, conn *gorm.DB, dialect, table string, cols []gorm.ColumnType) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	if dialect != "sqlite" {
		for _, c := range cols {
			n, ok := c.Nullable()
			require.True(t, ok, "nullability of %s.%s", table, c.Name())
			out[c.Name()] = n
		}
		return out
	}
	var rows []struct {
		Name    string
		NotNull int `gorm:"column:notnull"`
	}
	require.NoError(t, conn.Raw(`SELECT name, "notnull" FROM pragma_table_info(?)`, table).Scan(&rows).Error)
	require.NotEmpty(t, rows)
	for _, r := range rows {
		out[r.Name] = r.NotNull == 0
	}
	return out
}
