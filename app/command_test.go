package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/cronpulse/cronpulse/migrations"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// quietConfig is TestConfig with logging above error, so the commands'
// progress lines stay out of the test output.
func quietConfig(url string) *Config {
	c := TestConfig(url)
	c.LogLevel = slog.LevelError + 1
	return c
}

func run(t *testing.T, cfg *Config, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = Command(context.Background(), cfg, args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestCommandMigrate(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			cfg := quietConfig(db.URL)
			for i := 0; i < 2; i++ { // the second run finds nothing to do
				out, _, err := run(t, cfg, "migrate")
				require.NoError(t, err)
				assert.Equal(t, "migrations applied\n", out)
			}
			conn, _, err := models.Open(db.URL, slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(t, err)
			defer models.Close(conn)
			var versions []int
			require.NoError(t, conn.Table("schema_migrations").Order("version").Pluck("version", &versions).Error)
			var want []int
			for _, m := range migrations.All {
				want = append(want, m.Version)
			}
			slices.Sort(want) // applied in version order, whatever the order of All
			assert.Equal(t, want, versions, "every migration applied once")
		})
	}
}

func TestCommandAPIKeyCreate(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			cfg := quietConfig(db.URL)
			out, errOut, err := run(t, cfg, "apikey", "create", "--name", "CI deploys", "--permissions", "read:jobs,write:jobs")
			require.NoError(t, err)
			// stdout is the key alone, so KEY=$(cronpulse apikey create …) works.
			assert.Regexp(t, `^cpk_[0-9A-Za-z]{32}\n$`, out)
			key := strings.TrimSpace(out)
			assert.Contains(t, errOut, "CI deploys")
			assert.Contains(t, errOut, "shown only this once")
			assert.NotContains(t, errOut, key[12:], "the secret is printed once, on stdout")

			svc, err := Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(t, err)
			defer svc.Close()
			stored, err := svc.Store.APIKeyByPrefix(models.KeyPrefix(key))
			require.NoError(t, err)
			assert.True(t, stored.Matches(key))
			assert.NotContains(t, stored.Hash, key[12:], "stored hashed")
			assert.Equal(t, []string{"read:jobs", "write:jobs"}, stored.PermissionList())
			assert.Equal(t, "CI deploys", stored.Name)

			for _, bad := range [][]string{
				{"apikey", "create", "--name", "x", "--permissions", "root"},
				{"apikey", "create", "--permissions", "*"},
				{"apikey", "create", "--name", "x"},
				{"apikey", "delete"},
				{"apikey", "create", "--bogus"},
			} {
				out, _, err := run(t, cfg, bad...)
				assert.Error(t, err, "%q", bad)
				assert.NotContains(t, out, "cpk_", "%q printed a key", bad)
			}
			keys, err := svc.Store.APIKeys()
			require.NoError(t, err)
			assert.Len(t, keys, 1, "the failed commands created nothing")
		})
	}
}

func TestCommandUnknown(t *testing.T) {
	cfg := quietConfig(t.TempDir() + "/x.db")
	_, _, err := run(t, cfg, "frobnicate")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "frobnicate")
	out, _, err := run(t, cfg, "help")
	require.NoError(t, err)
	assert.Contains(t, out, "apikey create")
}
