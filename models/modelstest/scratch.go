package modelstest

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// ScratchSchema creates an empty schema in the PostgreSQL database at
// baseURL, for a test or a benchmark that must not touch anything else, and
// returns a URL whose search_path selects it and a function that drops it
// (with everything in it). The schema's name starts with prefix.
func ScratchSchema(baseURL, prefix string, log *slog.Logger) (string, func() error, error) {
	if !models.IsPostgresURL(baseURL) {
		return "", nil, fmt.Errorf("%q is not a postgres:// URL", baseURL)
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", nil, fmt.Errorf("parse %s: %w", baseURL, err)
	}
	admin, _, err := models.Open(baseURL, log)
	if err != nil {
		return "", nil, err
	}
	name := prefix + "_" + strings.ToLower(models.NewID(time.Now()))
	if err := admin.Exec("CREATE SCHEMA " + name).Error; err != nil {
		_ = models.Close(admin) // the create error is the one to report
		return "", nil, fmt.Errorf("create schema %s: %w", name, err)
	}
	drop := func() error {
		defer models.Close(admin)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := admin.WithContext(ctx).Exec("DROP SCHEMA " + name + " CASCADE").Error; err != nil {
			return fmt.Errorf("drop schema %s: %w", name, err)
		}
		return nil
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
