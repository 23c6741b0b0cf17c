package handlers

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// jobMetricsPage is how many jobs one query of GET /metrics reads: 10,000
// jobs are ten queries.
const jobMetricsPage = 1000

// jobLabels name a job's series.
var jobLabels = []string{"project", "job", "slug", "tags"}

// jobFamilies are the per-job metric families of one scrape.
type jobFamilies struct {
	up, lastPing, lastDuration *dto.MetricFamily
}

func newJobFamilies() *jobFamilies {
	gauge := func(name, help string) *dto.MetricFamily {
		return &dto.MetricFamily{Name: &name, Help: &help, Type: dto.MetricType_GAUGE.Enum()}
	}
	return &jobFamilies{
		up: gauge("cronpulse_job_up",
			"1 unless the job is down (new, up, late and paused jobs are 1), 0 when it is down."),
		lastPing: gauge("cronpulse_job_last_ping_timestamp_seconds",
			"When a heartbeat job's last success ping arrived, in Unix seconds."),
		lastDuration: gauge("cronpulse_job_last_duration_seconds",
			"The last run's duration: a check's last response time, a heartbeat job's last finished run (timed from its start ping)."),
	}
}

// add appends j's series, labelled with labels (in jobLabels order).
func (f *jobFamilies) add(j *models.JobMetric, labels []string) {
	pairs := make([]*dto.LabelPair, len(jobLabels))
	for i := range jobLabels {
		pairs[i] = &dto.LabelPair{Name: &jobLabels[i], Value: &labels[i]}
	}
	set := func(mf *dto.MetricFamily, v float64) {
		mf.Metric = append(mf.Metric, &dto.Metric{Label: pairs, Gauge: &dto.Gauge{Value: &v}})
	}
	up := 1.0
	if j.Status == models.StatusDown {
		up = 0
	}
	set(f.up, up)
	if j.Heartbeat && j.LastPingAt != nil {
		set(f.lastPing, float64(j.LastPingAt.UnixMicro())/1e6)
	}
	if j.LastDurationMs != nil {
		set(f.lastDuration, float64(*j.LastDurationMs)/1000)
	}
}

// jobMetrics serves GET /metrics: every job's series in the Prometheus
// exposition format, for a scraper holding a read:jobs key. up is 1 unless
// the job is down; the last ping is the last success ping, for heartbeat
// jobs that have had one; the last duration is models.JobMetric's, where
// known.
//
// The jobs are read a page at a time (one query each, see
// Store.JobMetrics) and their series built as metric families directly,
// then written with the Prometheus library's encoder in the format the
// scraper asks for. A registry (or a Collector behind one) would hash,
// check and sort every series again: at 10,000 jobs that took several
// times the CPU of the whole rest of the scrape.
//
// Jobs alike in all four labels (same project name, job name, slug and
// tags) would be one series twice, which Prometheus refuses: the first of
// them (by id) is reported, and the others are logged.
func (a *API) jobMetrics(c *fiber.Ctx) error {
	f := newJobFamilies()
	seen := map[string]bool{}
	var dups []string
	page := models.Page{Limit: jobMetricsPage}
	for {
		jobs, err := a.store.JobMetrics(page)
		if err != nil {
			return err
		}
		for i := range jobs {
			j := &jobs[i]
			labels := []string{j.Project, j.Name, j.Slug, strings.Join(j.Tags, ",")}
			key := strings.Join(labels, "\xff")
			if seen[key] {
				dups = append(dups, j.ID)
				continue
			}
			seen[key] = true
			f.add(j, labels)
		}
		if len(jobs) < page.Limit {
			break
		}
		page.Cursor = jobs[len(jobs)-1].ID
	}
	if len(dups) > 0 {
		a.log.Warn("job metrics: jobs with the same project, name, slug and tags as another are left out; give them distinct slugs",
			slog.Int("jobs", len(dups)), slog.String("first", dups[0]))
	}
	format := expfmt.Negotiate(http.Header{fiber.HeaderAccept: []string{c.Get(fiber.HeaderAccept)}})
	c.Set(fiber.HeaderContentType, string(format))
	enc := expfmt.NewEncoder(c, format)
	for _, mf := range []*dto.MetricFamily{f.up, f.lastPing, f.lastDuration} {
		if len(mf.Metric) == 0 {
			continue // the text format has no empty families
		}
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("encode %s: %w", mf.GetName(), err)
		}
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		if err := closer.Close(); err != nil {
			return fmt.Errorf("finish job metrics: %w", err)
		}
	}
	return nil
}
