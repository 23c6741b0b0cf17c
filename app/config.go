// Package app wires CronPulse together: typed configuration, the database,
// the Fiber application, and the background workers in the right order.
package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// Config is every setting, read once at start from the environment (and a
// .env file if present). .env.example lists the same keys in the same order.
type Config struct {
	ListenAddr   string        // LISTEN_ADDR
	DatabaseURL  string        // DATABASE_URL
	BaseURL      string        // BASE_URL
	LogLevel     slog.Level    // LOG_LEVEL
	LogFormat    string        // LOG_FORMAT: text or json
	APIRateLimit int           // API_RATE_LIMIT: requests per key per minute
	MetricsToken string        // METRICS_TOKEN: bearer token /metrics requires ("" = open)
	SessionTTL   time.Duration // SESSION_TTL: a dashboard sign-in ends after this long unused
	ShutdownWait time.Duration // SHUTDOWN_TIMEOUT
	InstanceID   string        // INSTANCE_ID: this process's name in GET /api/v1/status (default host name-pid)

	PingBodyLimit int // PING_BODY_LIMIT: bytes of a ping body kept
	PingRateLimit int // PING_RATE_LIMIT: pings per job per minute
	PingHistory   int // PING_HISTORY: pings kept per job

	CheckConcurrency int  // CHECK_CONCURRENCY: HTTP checks in flight at once
	CheckPerHost     int  // CHECK_PER_HOST: HTTP checks in flight per target host
	CheckAllowPriv   bool // CHECK_ALLOW_PRIVATE: may checks call loopback/private addresses
	CheckHistory     int  // CHECK_HISTORY: check runs kept per job

	StatsRetention time.Duration // STATS_RETENTION: how long stats rollups are kept

	SMTPHost           string        // SMTP_HOST: mail server for e-mail channels ("" = e-mail off)
	SMTPPort           int           // SMTP_PORT
	SMTPUsername       string        // SMTP_USERNAME ("" = no AUTH)
	SMTPPassword       string        // SMTP_PASSWORD
	SMTPFrom           string        // SMTP_FROM
	SMTPTLS            string        // SMTP_TLS: auto, starttls, tls or none
	SlackAPIURL        string        // SLACK_API_URL: Slack's Web API (or a proxy / test server)
	NotifyConcurrency  int           // NOTIFY_CONCURRENCY: deliveries in flight at once
	NotifyPollInterval time.Duration // NOTIFY_POLL_INTERVAL: how often the outbox is read without a nudge
	NotifyRetryBase    time.Duration // NOTIFY_RETRY_BASE: wait before the first retry (doubling, jittered, at most 1h)
}

// setting is one environment key with its default.
type setting struct {
	key, def string
	parse    func(c *Config, v string) error
}

var settings = []setting{
	{"LISTEN_ADDR", "127.0.0.1:8080", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("must be host:port: %w", err)
		}
		c.ListenAddr = v
		return nil
	}},
	{"DATABASE_URL", "./cronpulse.db", func(c *Config, v string) error {
		if strings.TrimPrefix(v, "sqlite:") == "" {
			return errors.New("must be a postgres:// URL or a SQLite file path")
		}
		c.DatabaseURL = v
		return nil
	}},
	{"BASE_URL", "http://localhost:8080", func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("must be an absolute http(s) URL such as https://cron.example.com")
		}
		c.BaseURL = strings.TrimRight(v, "/")
		return nil
	}},
	{"LOG_LEVEL", "info", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"LOG_FORMAT", "text", func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return errors.New("must be text or json")
		}
		c.LogFormat = v
		return nil
	}},
	{"API_RATE_LIMIT", "600", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("must be a whole number of requests per minute, at least 1")
		}
		c.APIRateLimit = n
		return nil
	}},
	{"METRICS_TOKEN", "", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		if len(v) < 16 {
			return errors.New("must be at least 16 characters (or empty to leave /metrics open)")
		}
		for _, r := range v {
			if r <= ' ' || r > '~' {
				return errors.New("must be printable ASCII without spaces, as it is sent in an Authorization header")
			}
		}
		c.MetricsToken = v
		return nil
	}},
	{"SESSION_TTL", "30d", func(c *Config, v string) error {
		d, err := parseDays(v)
		if err != nil || d < 5*time.Minute || d > 365*24*time.Hour {
			return errors.New("must be a duration from 5m to 365d, such as 30d or 12h")
		}
		c.SessionTTL = d
		return nil
	}},
	{"SHUTDOWN_TIMEOUT", "15s", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 15s")
		}
		c.ShutdownWait = d
		return nil
	}},
	{"INSTANCE_ID", "", func(c *Config, v string) error {
		if v == "" {
			c.InstanceID = defaultInstanceID()
			return nil
		}
		if len(v) > 100 || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return errors.New("must be at most 100 characters, without spaces or control characters")
		}
		c.InstanceID = v
		return nil
	}},
	intSetting("PING_BODY_LIMIT", "100000", 0, 10<<20, func(c *Config, n int) { c.PingBodyLimit = n }),
	intSetting("PING_RATE_LIMIT", "600", 1, 1_000_000, func(c *Config, n int) { c.PingRateLimit = n }),
	intSetting("PING_HISTORY", "1000", 1, 1_000_000, func(c *Config, n int) { c.PingHistory = n }),
	intSetting("CHECK_CONCURRENCY", "256", 1, 100_000, func(c *Config, n int) { c.CheckConcurrency = n }),
	intSetting("CHECK_PER_HOST", "64", 1, 100_000, func(c *Config, n int) { c.CheckPerHost = n }),
	{"CHECK_ALLOW_PRIVATE", "true", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		c.CheckAllowPriv = b
		return nil
	}},
	intSetting("CHECK_HISTORY", "1000", 1, 1_000_000, func(c *Config, n int) { c.CheckHistory = n }),
	{"STATS_RETENTION", "90d", func(c *Config, v string) error {
		d, err := parseDays(v)
		if err != nil || d < 24*time.Hour || d > 3650*24*time.Hour {
			return errors.New("must be a number of days from 1d to 3650d, such as 90d")
		}
		c.StatsRetention = d
		return nil
	}},
	{"SMTP_HOST", "", func(c *Config, v string) error {
		if strings.ContainsAny(v, " /:") {
			return errors.New("must be a host name or address, without port or scheme")
		}
		c.SMTPHost = v
		return nil
	}},
	intSetting("SMTP_PORT", "587", 1, 65535, func(c *Config, n int) { c.SMTPPort = n }),
	{"SMTP_USERNAME", "", func(c *Config, v string) error { c.SMTPUsername = v; return nil }},
	{"SMTP_PASSWORD", "", func(c *Config, v string) error { c.SMTPPassword = v; return nil }},
	{"SMTP_FROM", "CronPulse <cronpulse@localhost>", func(c *Config, v string) error {
		if _, err := mail.ParseAddress(v); err != nil {
			return errors.New("must be an e-mail address such as CronPulse <alerts@example.com>")
		}
		c.SMTPFrom = v
		return nil
	}},
	{"SMTP_TLS", "auto", func(c *Config, v string) error {
		switch v {
		case "auto", "starttls", "tls", "none":
			c.SMTPTLS = v
			return nil
		}
		return errors.New("must be auto, starttls, tls or none")
	}},
	{"SLACK_API_URL", "https://slack.com/api/", func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("must be an absolute http(s) URL such as https://slack.com/api/")
		}
		c.SlackAPIURL = strings.TrimRight(v, "/") + "/"
		return nil
	}},
	intSetting("NOTIFY_CONCURRENCY", "16", 1, 1000, func(c *Config, n int) { c.NotifyConcurrency = n }),
	{"NOTIFY_POLL_INTERVAL", "2s", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Millisecond || d > time.Hour {
			return errors.New("must be a duration from 10ms to 1h, such as 2s")
		}
		c.NotifyPollInterval = d
		return nil
	}},
	{"NOTIFY_RETRY_BASE", "15s", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > time.Hour {
			return errors.New("must be a duration from 1s to 1h, such as 15s")
		}
		c.NotifyRetryBase = d
		return nil
	}},
}

// defaultInstanceID names this process when INSTANCE_ID is not set: the
// host name and the process id, unique among the processes of one host.
func defaultInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "cronpulse" // a host without a name still gets a usable id
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// intSetting is a whole-number setting within [min, max].
func intSetting(key, def string, min, max int, set func(*Config, int)) setting {
	return setting{key, def, func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return fmt.Errorf("must be a whole number from %d to %d", min, max)
		}
		set(c, n)
		return nil
	}}
}

// LoadConfig reads .env (if present, without overriding the real
// environment) and then the environment.
func LoadConfig() (*Config, error) {
	if err := godotenv.Load(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read .env: %w", err)
	}
	return ConfigFrom(os.LookupEnv)
}

// ConfigFrom builds a Config from a lookup function, applying defaults and
// validating every value. All problems are reported together.
func ConfigFrom(lookup func(string) (string, bool)) (*Config, error) {
	c := &Config{}
	var errs []error
	for _, s := range settings {
		v, ok := lookup(s.key)
		if !ok || strings.TrimSpace(v) == "" {
			v = s.def
		}
		if err := s.parse(c, strings.TrimSpace(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", s.key, v, err))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// TestConfig returns the defaults with the given database, for tests.
func TestConfig(databaseURL string) *Config {
	c, err := ConfigFrom(func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return databaseURL, true
		}
		return "", false
	})
	if err != nil {
		panic(err) // the defaults are valid; a failure here is a programming error
	}
	return c
}

// NewLogger builds the process logger from LOG_LEVEL and LOG_FORMAT.
func NewLogger(c *Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// parseDays reads "<n>d" (days) or a Go duration such as 2160h.
func parseDays(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, err
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}
