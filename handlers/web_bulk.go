package handlers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// Bulk actions of the overview (POST /): the fields are _csrf, action
// (pause, resume, delete, tag-add, tag-remove), bulk_tag for the tag
// actions, and either id (repeated: the checked rows) or scope=all with
// the filter fields (status, project, tag, q, sort) for every job the
// filter selects. Deleting shows a confirmation page first, which posts
// again with confirm=yes. Each job goes through the store's own update and
// delete, and the engine hears of it through the hooks, as through the
// API.

// maxBulkIDs bounds the checked rows of one request (a page has 50).
const maxBulkIDs = 1000

// confirmShown is how many jobs the delete confirmation names.
const confirmShown = 100

var bulkActions = []string{"pause", "resume", "delete", "tag-add", "tag-remove"}

// bulkSelection is what a bulk action acts on, as the confirmation page
// repeats it.
type bulkSelection struct {
	All    bool
	IDs    []string
	Filter overviewFilter
}

// bulkConfirm is the delete confirmation's page data.
type bulkConfirm struct {
	bulkSelection
	Jobs  []models.Job // the first confirmShown
	More  int64
	Total int64
}

func (w *Web) bulk(c *fiber.Ctx) error {
	action := c.FormValue("action")
	if !slices.Contains(bulkActions, action) {
		return fiber.NewError(fiber.StatusBadRequest, "action: must be one of "+strings.Join(bulkActions, ", "))
	}
	f, jf, err := formFilter(c)
	if err != nil {
		return err
	}
	sel := bulkSelection{All: c.FormValue("scope") == "all", Filter: f}
	if !sel.All {
		sel.IDs = cloneAll(c.Request().PostArgs().PeekMulti("id"))
		if len(sel.IDs) > maxBulkIDs {
			return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("id: at most %d jobs at once; use \"all matching this filter\" for more", maxBulkIDs))
		}
	}
	tag := strings.TrimSpace(c.FormValue("bulk_tag"))
	if (action == "tag-add" || action == "tag-remove") && tag == "" {
		w.flash(c, "error", "Enter the tag to add or remove.")
		return c.Redirect(f.URL(), fiber.StatusSeeOther)
	}
	jobs, err := w.selectedJobs(sel, jf)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		w.flash(c, "error", "No jobs were selected: check some rows, or choose all jobs matching the filter.")
		return c.Redirect(f.URL(), fiber.StatusSeeOther)
	}
	if action == "delete" && (c.FormValue("confirm") != "yes" || c.FormValue("expected") != strconv.Itoa(len(jobs))) {
		// Not yet confirmed, or the filter now selects other jobs than the
		// confirmed ones: show (again) what will go.
		d := bulkConfirm{bulkSelection: sel, Total: int64(len(jobs)), Jobs: jobs[:min(len(jobs), confirmShown)]}
		d.More = d.Total - int64(len(d.Jobs))
		title := "Delete " + jobCount(len(jobs)) + "?"
		return w.render(c, fiber.StatusOK, "bulk_confirm", w.newPage(c, title, d))
	}
	done, skipped, firstErr := w.applyBulk(action, tag, jobs)
	msg := bulkMessage(action, tag, done)
	if skipped > 0 {
		msg += " " + jobCount(skipped) + " left unchanged"
		if firstErr != "" {
			msg += " (" + firstErr + ")"
		}
		msg += "."
	}
	kind := "ok"
	if done == 0 && firstErr != "" {
		kind = "error"
	}
	w.flash(c, kind, msg)
	return c.Redirect(f.URL(), fiber.StatusSeeOther)
}

// selectedJobs loads the jobs of sel: the checked ids that exist, or every
// job the filter selects (read a page at a time in id order, so that no
// page skips or repeats a job).
func (w *Web) selectedJobs(sel bulkSelection, jf models.JobFilter) ([]models.Job, error) {
	var out []models.Job
	if !sel.All {
		for _, id := range sel.IDs {
			j, err := w.store.Job(id)
			if models.IsNotFound(err) {
				continue // deleted meanwhile: nothing to do
			}
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(out, func(o models.Job) bool { return o.ID == j.ID }) {
				out = append(out, *j)
			}
		}
		return out, nil
	}
	jf.Sort, jf.Limit, jf.Cursor = "", MaxPageSize, ""
	for {
		page, err := w.store.Jobs(jf)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < jf.Limit {
			return out, nil
		}
		jf.Cursor = page[len(page)-1].ID
	}
}

// applyBulk applies action to jobs and returns how many changed, how many
// were left (already in that state, or refused), and the first refusal's
// message.
func (w *Web) applyBulk(action, tag string, jobs []models.Job) (done, skipped int, firstErr string) {
	for i := range jobs {
		changed, err := w.applyOne(action, tag, &jobs[i])
		switch {
		case err != nil:
			skipped++
			if firstErr == "" {
				_, firstErr = classify(err)
			}
		case changed:
			done++
		default:
			skipped++
		}
	}
	return done, skipped, firstErr
}

// applyOne applies action to j through the store, as the API would, and
// reports whether anything changed.
func (w *Web) applyOne(action, tag string, j *models.Job) (bool, error) {
	var req models.JobRequest
	switch action {
	case "delete":
		if err := w.store.DeleteJob(j.ID); err != nil {
			return false, err
		}
		if w.hooks.Deleted != nil {
			w.hooks.Deleted(j.ID)
		}
		return true, nil
	case "pause", "resume":
		paused := action == "pause"
		if j.Paused == paused {
			return false, nil
		}
		req.Paused = &paused
	case "tag-add":
		if slices.Contains(j.Tags, tag) {
			return false, nil
		}
		tags := append(slices.Clone(j.Tags), tag)
		req.Tags = &tags
	case "tag-remove":
		if !slices.Contains(j.Tags, tag) {
			return false, nil
		}
		tags := slices.DeleteFunc(slices.Clone(j.Tags), func(t string) bool { return t == tag })
		req.Tags = &tags
	}
	updated, err := w.store.UpdateJob(j.ID, &req)
	if err != nil {
		return false, err
	}
	if w.hooks.Changed != nil {
		w.hooks.Changed(updated)
	}
	return true, nil
}

// jobCount is "1 job" or "n jobs".
func jobCount(n int) string {
	if n == 1 {
		return "1 job"
	}
	return thousands(int64(n)) + " jobs"
}

// bulkMessage says what a bulk action did.
func bulkMessage(action, tag string, n int) string {
	switch action {
	case "pause":
		return "Paused " + jobCount(n) + "."
	case "resume":
		return "Resumed " + jobCount(n) + "."
	case "delete":
		return "Deleted " + jobCount(n) + "."
	case "tag-add":
		return "Added the tag “" + tag + "” to " + jobCount(n) + "."
	default:
		return "Removed the tag “" + tag + "” from " + jobCount(n) + "."
	}
}
