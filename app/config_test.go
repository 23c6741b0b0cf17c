package app

import (
	"bufio"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// env is a lookup function over a fixed map.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := ConfigFrom(env(nil))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", c.ListenAddr)
	assert.Equal(t, "./cronpulse.db", c.DatabaseURL)
	assert.Equal(t, "http://localhost:8080", c.BaseURL)
	assert.Equal(t, slog.LevelInfo, c.LogLevel)
	assert.Equal(t, "text", c.LogFormat)
	assert.Equal(t, 600, c.APIRateLimit)
	assert.Equal(t, 15*time.Second, c.ShutdownWait)
	assert.Equal(t, 30*24*time.Hour, c.SessionTTL)
	assert.Empty(t, c.MetricsToken, "/metrics is open by default")
	assert.Equal(t, 100000, c.PingBodyLimit)
	assert.True(t, c.CheckAllowPriv)
}

func TestConfigOverrides(t *testing.T) {
	c, err := ConfigFrom(env(map[string]string{
		"LISTEN_ADDR":      "0.0.0.0:9000",
		"DATABASE_URL":     "postgres://u:p@db/cronpulse",
		"BASE_URL":         "https://cron.example.com/",
		"LOG_LEVEL":        "debug",
		"LOG_FORMAT":       "json",
		"API_RATE_LIMIT":   " 60 ",
		"SHUTDOWN_TIMEOUT": "2s",
		"METRICS_TOKEN":    "prom-0123456789abcdef",
		"LOG_UNRELATED":    "ignored",
	}))
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0:9000", c.ListenAddr)
	assert.Equal(t, "postgres://u:p@db/cronpulse", c.DatabaseURL)
	assert.Equal(t, "https://cron.example.com", c.BaseURL, "trailing slash dropped")
	assert.Equal(t, slog.LevelDebug, c.LogLevel)
	assert.Equal(t, "json", c.LogFormat)
	assert.Equal(t, 60, c.APIRateLimit, "surrounding spaces are ignored")
	assert.Equal(t, 2*time.Second, c.ShutdownWait)
	assert.Equal(t, "prom-0123456789abcdef", c.MetricsToken)

	// An empty value means the default.
	c, err = ConfigFrom(env(map[string]string{"API_RATE_LIMIT": ""}))
	require.NoError(t, err)
	assert.Equal(t, 600, c.APIRateLimit)
}

func TestConfigInvalid(t *testing.T) {
	cases := map[string]string{
		"LISTEN_ADDR":         "8080",
		"DATABASE_URL":        "sqlite:",
		"BASE_URL":            "cron.example.com",
		"LOG_LEVEL":           "loud",
		"LOG_FORMAT":          "xml",
		"API_RATE_LIMIT":      "0",
		"SHUTDOWN_TIMEOUT":    "soon",
		"METRICS_TOKEN":       "short",
		"SESSION_TTL":         "1m",
		"PING_BODY_LIMIT":     "-1",
		"CHECK_ALLOW_PRIVATE": "maybe",
	}
	for key, value := range cases {
		t.Run(key, func(t *testing.T) {
			_, err := ConfigFrom(env(map[string]string{key: value}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), key, "the message names the setting")
			assert.Contains(t, err.Error(), value)
		})
	}
	// All problems are reported at once.
	_, err := ConfigFrom(env(cases))
	require.Error(t, err)
	for key := range cases {
		assert.Contains(t, err.Error(), key)
	}
}

// TestEnvExampleListsEverySetting keeps .env.example and the settings table
// in step: same keys, same order, same defaults.
func TestEnvExampleListsEverySetting(t *testing.T) {
	f, err := os.Open("../.env.example")
	require.NoError(t, err)
	defer f.Close()
	var keys []string
	defaults := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "line %q is not KEY=value", line)
		keys = append(keys, k)
		defaults[k] = v
	}
	require.NoError(t, sc.Err())
	var want []string
	for _, s := range settings {
		want = append(want, s.key)
		assert.Equal(t, s.def, defaults[s.key], "default of %s", s.key)
	}
	assert.Equal(t, want, keys)
	// .env.example itself is a valid configuration.
	_, err = ConfigFrom(env(defaults))
	assert.NoError(t, err)
}

func TestLoadConfigReadsDotEnv(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env"),
		[]byte("API_RATE_LIMIT=42\nLOG_FORMAT=json\n# comment\n"), 0o600))
	t.Chdir(dir)
	t.Setenv("LOG_FORMAT", "text") // the real environment wins over .env
	// godotenv writes API_RATE_LIMIT into the process environment; t.Setenv
	// makes the test restore it, and the unset lets .env provide it.
	t.Setenv("API_RATE_LIMIT", "")
	require.NoError(t, os.Unsetenv("API_RATE_LIMIT"))
	c, err := LoadConfig()
	require.NoError(t, err)
	assert.Equal(t, 42, c.APIRateLimit)
	assert.Equal(t, "text", c.LogFormat)

	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env"), []byte("API_RATE_LIMIT=lots\n"), 0o600))
	require.NoError(t, os.Unsetenv("API_RATE_LIMIT")) // godotenv set it from the first file
	_, err = LoadConfig()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "API_RATE_LIMIT")
}

func TestTestConfig(t *testing.T) {
	c := TestConfig("/tmp/x.db")
	assert.Equal(t, "/tmp/x.db", c.DatabaseURL)
	assert.Equal(t, 600, c.APIRateLimit)
}

func TestInstanceID(t *testing.T) {
	host, err := os.Hostname()
	require.NoError(t, err)
	cases := []struct {
		name, value, want, err string
	}{
		{name: "default: host name and pid", value: "", want: host + "-" + strconv.Itoa(os.Getpid())},
		{name: "set", value: "eu-1", want: "eu-1"},
		{name: "spaces refused", value: "eu 1", err: "INSTANCE_ID"},
		{name: "too long", value: strings.Repeat("x", 101), err: "INSTANCE_ID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ConfigFrom(env(map[string]string{"INSTANCE_ID": c.value}))
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, cfg.InstanceID)
		})
	}
}

func TestConfigMetricsToken(t *testing.T) {
	cases := []struct {
		name, value string
		ok          bool
	}{
		{"empty leaves /metrics open", "", true},
		{"16 characters", "0123456789abcdef", true},
		{"too short", "0123456789abcde", false},
		{"a space inside", "0123456789 abcdef", false},
		{"a tab inside", "0123456789\tabcdef", false},
		{"not ASCII", "0123456789abcdéf", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFrom(env(map[string]string{"METRICS_TOKEN": tc.value}))
			if !tc.ok {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "METRICS_TOKEN")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.value, c.MetricsToken)
		})
	}
}
