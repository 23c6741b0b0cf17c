package models_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// addCheck stores another HTTP check called name in project.
func addCheck(t *testing.T, store *models.Store, projectID, name string) *models.Job {
	t.Helper()
	url, method, sched := "https://example.com/health", "GET", "@every 1m"
	j, err := store.NewJob(&models.JobRequest{Name: &name, ProjectID: &projectID, URL: &url, Method: &method, Schedule: &sched})
	require.NoError(t, err)
	require.NoError(t, store.CreateJob(j))
	return j
}

func TestStatusPageLifecycle(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		a := newCheck(t, store, "a")
		b := addCheck(t, store, a.ProjectID, "b")
		c := addCheck(t, store, a.ProjectID, "c")
		other := newCheck(t, store, "other")

		_, err := store.ProjectStatusPage(a.ProjectID)
		assert.True(t, models.IsNotFound(err), "no page yet: %v", err)
		_, err = store.StatusPage("acme")
		assert.True(t, models.IsNotFound(err))

		p, err := store.SetStatusPage(a.ProjectID, "acme", "  Acme status ", []string{c.ID, a.ID})
		require.NoError(t, err)
		assert.Equal(t, "acme", p.Slug)
		assert.Equal(t, "Acme status", p.Title, "trimmed")
		assert.True(t, p.Enabled)
		assert.Equal(t, []string{c.ID, a.ID}, p.JobIDs)

		pub, err := store.StatusPage("acme")
		require.NoError(t, err)
		assert.Equal(t, "Acme status", pub.Title)
		require.Len(t, pub.Jobs, 2)
		assert.Equal(t, []string{"c", "api"}, []string{pub.Jobs[0].Name, pub.Jobs[1].Name}, "in the order picked")
		assert.Equal(t, models.StatusNew, pub.Jobs[0].Status)

		// Replacing the page changes its slug, title and jobs.
		p, err = store.SetStatusPage(a.ProjectID, "acme-2", "Acme", []string{b.ID})
		require.NoError(t, err)
		assert.Equal(t, []string{b.ID}, p.JobIDs)
		_, err = store.StatusPage("acme")
		assert.True(t, models.IsNotFound(err), "the old slug is free again")

		// Another project cannot take the slug.
		_, err = store.SetStatusPage(other.ProjectID, "acme-2", "Other", []string{other.ID})
		var ve *models.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		assert.Equal(t, "slug", ve.Field)
		assert.Contains(t, ve.Message, "another project")

		// Disabled: gone from the public, kept for the admin.
		p, err = store.DisableStatusPage(a.ProjectID)
		require.NoError(t, err)
		assert.False(t, p.Enabled)
		assert.Equal(t, "acme-2", p.Slug)
		_, err = store.StatusPage("acme-2")
		assert.True(t, models.IsNotFound(err))
		p, err = store.ProjectStatusPage(a.ProjectID)
		require.NoError(t, err)
		assert.False(t, p.Enabled)
		_, err = store.DisableStatusPage(other.ProjectID)
		assert.True(t, models.IsNotFound(err), "no page to disable")

		// Deleting a job takes it off the page; deleting the project the page.
		_, err = store.SetStatusPage(a.ProjectID, "acme", "Acme", []string{a.ID, b.ID})
		require.NoError(t, err)
		require.NoError(t, store.DeleteJob(a.ID))
		p, err = store.ProjectStatusPage(a.ProjectID)
		require.NoError(t, err)
		assert.Equal(t, []string{b.ID}, p.JobIDs)
		var n int64
		require.NoError(t, store.DB().Table("status_page_jobs").Where("job_id = ?", a.ID).Count(&n).Error)
		assert.Zero(t, n)
		require.NoError(t, store.DeleteProject(a.ProjectID))
		_, err = store.StatusPage("acme")
		assert.True(t, models.IsNotFound(err))
		require.NoError(t, store.DB().Table("status_pages").Count(&n).Error)
		assert.Zero(t, n)
		require.NoError(t, store.DB().Table("status_page_jobs").Count(&n).Error)
		assert.Zero(t, n)
	})
}

func TestStatusPageValidation(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		a := newCheck(t, store, "a")
		other := newCheck(t, store, "other")
		cases := []struct {
			name, slug, title string
			jobs              []string
			field             string
		}{
			{"short slug", "ab", "T", []string{a.ID}, "slug"},
			{"long slug", strings.Repeat("a", 41), "T", []string{a.ID}, "slug"},
			{"upper case", "Acme", "T", []string{a.ID}, "slug"},
			{"slash", "ac/me", "T", []string{a.ID}, "slug"},
			{"space", "ac me", "T", []string{a.ID}, "slug"},
			{"no title", "acme", " ", []string{a.ID}, "title"},
			{"long title", "acme", strings.Repeat("x", 101), []string{a.ID}, "title"},
			{"two lines", "acme", "a\nb", []string{a.ID}, "title"},
			{"no jobs", "acme", "T", nil, "jobIds"},
			{"twice", "acme", "T", []string{a.ID, a.ID}, "jobIds"},
			{"another project's job", "acme", "T", []string{a.ID, other.ID}, "jobIds"},
			{"unknown job", "acme", "T", []string{"nope"}, "jobIds"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := store.SetStatusPage(a.ProjectID, tc.slug, tc.title, tc.jobs)
				var ve *models.ValidationError
				require.True(t, errors.As(err, &ve), "%v", err)
				assert.Equal(t, tc.field, ve.Field)
			})
		}
		_, err := store.ProjectStatusPage(a.ProjectID)
		assert.True(t, models.IsNotFound(err), "nothing was stored")
		_, err = store.SetStatusPage("no-such-project", "acme", "T", []string{a.ID})
		assert.True(t, models.IsNotFound(err), "%v", err)
		p, err := store.SetStatusPage(a.ProjectID, "a-9", strings.Repeat("x", 100), []string{a.ID})
		require.NoError(t, err, "the limits themselves are allowed")
		assert.Equal(t, "a-9", p.Slug)
	})
}
