package models

import (
	"encoding/base32"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Orders of a job list besides the default (id).
const (
	SortName         = "name"           // by name, then id
	SortStatus       = "status"         // down, late, up, new, paused; then id
	SortLastActivity = "lastActivityAt" // newest first, never active last; then id
)

// MaxQueryLen bounds the q of a list: longer than any name, slug or URL
// part worth searching for.
const MaxQueryLen = 200

// JobFilter selects jobs for listing. Zero fields select everything.
type JobFilter struct {
	ProjectID string
	Statuses  []string // any of them
	Tags      []string // all of them
	Query     string   // a substring of name, slug or url, any case
	Paused    *bool
	Sort      string // "" (id), SortName, SortStatus or SortLastActivity
	Page
}

// jobStatuses are the statuses a filter may name.
var jobStatuses = []string{StatusUp, StatusDown, StatusLate, StatusNew, StatusPaused}

// ParseStatuses reads a comma-separated list of job statuses (the status
// parameter of a job list).
func ParseStatuses(list string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if _, ok := statusRank[s]; !ok {
			return nil, invalid("status", "%q is not one of %s", truncate(s, 20), strings.Join(jobStatuses, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

// ValidateJobFilter checks what ParseStatuses does not: the query, the
// tags, the sort and the cursor's form for the sort.
func ValidateJobFilter(f *JobFilter) error {
	if err := ValidateQuery(f.Query); err != nil {
		return err
	}
	for _, t := range f.Tags {
		if t == "" || utf8.RuneCountInString(t) > 50 {
			return invalid("tag", "must be 1-50 characters")
		}
	}
	switch f.Sort {
	case "", SortName, SortStatus, SortLastActivity:
	default:
		return invalid("sort", "must be one of %s, %s, %s", SortName, SortStatus, SortLastActivity)
	}
	if f.Sort != "" && f.Cursor != "" {
		if _, err := parseJobCursor(f.Sort, f.Cursor); err != nil {
			return err
		}
	}
	return nil
}

// ValidateQuery checks the q of a list.
func ValidateQuery(q string) error {
	if utf8.RuneCountInString(q) > MaxQueryLen {
		return invalid("q", "must be at most %d characters", MaxQueryLen)
	}
	if !utf8.ValidString(q) || strings.IndexFunc(q, unicode.IsControl) >= 0 {
		return invalid("q", "must be text without control characters")
	}
	return nil
}

// jobSearchExpr is what q searches: name, slug and url joined by a
// newline, which none of them can hold (so no match spans two of them).
// Migration 8's PostgreSQL trigram index is on this expression, word for
// word.
const jobSearchExpr = "lower(jobs.name || '\n' || jobs.slug || '\n' || jobs.url)"

// likeContains is a LIKE pattern matching s anywhere, its wildcards escaped
// (with ESCAPE '\').
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// statusRankSQL is SortStatus's key: down first, paused (and anything
// else) last.
const statusRankSQL = "CASE jobs.status WHEN 'down' THEN 0 WHEN 'late' THEN 1 WHEN 'up' THEN 2 WHEN 'new' THEN 3 ELSE 4 END"

var sortRank = map[string]int{StatusDown: 0, StatusLate: 1, StatusUp: 2, StatusNew: 3}

// tagsCondition is a condition on jobs that holds when a job has every one
// of tags (stored as a JSON array of strings).
func (s *Store) tagsCondition(tags []string) (string, []any) {
	if s.dialect == Postgres {
		b, _ := json.Marshal(tags) // marshalling strings cannot fail
		return "CAST(jobs.tags AS jsonb) @> CAST(? AS jsonb)", []any{string(b)}
	}
	conds := make([]string, len(tags))
	args := make([]any, len(tags))
	for i, t := range tags {
		conds[i] = "EXISTS (SELECT 1 FROM json_each(jobs.tags) WHERE json_each.value = ?)"
		args[i] = t
	}
	return strings.Join(conds, " AND "), args
}

// rankStatuses are the statuses of each rank of SortStatus, in order
// (statusRankSQL; a job's status is one of jobStatuses).
var rankStatuses = [][]string{{StatusDown}, {StatusLate}, {StatusUp}, {StatusNew}, {StatusPaused}}

// Jobs returns one page of the jobs that f selects, in its order.
func (s *Store) Jobs(f JobFilter) ([]Job, error) {
	var out []Job
	if f.Sort == SortStatus {
		var err error
		if out, err = s.jobsByStatus(f); err != nil {
			return nil, err
		}
	} else {
		q, err := orderJobs(s.filterJobs(s.db.Model(&Job{}).Limit(f.Limit), f), f)
		if err != nil {
			return nil, err
		}
		if err := q.Find(&out).Error; err != nil {
			return nil, translate(err, "list jobs")
		}
	}
	for i := range out {
		s.deriveNextRun(&out[i])
	}
	return out, nil
}

// jobsByStatus is Jobs in SortStatus order, read one status at a time in
// id order from the jobs_status index (status, id), from the cursor's rank
// on, until the page is full: ordering every matching row by statusRankSQL
// would read and sort them all (the overview's first page at 10,000 jobs;
// BENCHMARKS.md, Dashboard). The result is the order orderJobs gives.
func (s *Store) jobsByStatus(f JobFilter) ([]Job, error) {
	c := jobCursor{rank: -1}
	if f.Cursor != "" {
		var err error
		if c, err = parseJobCursor(f.Sort, f.Cursor); err != nil {
			return nil, err
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = math.MaxInt32
	}
	var out []Job
	for rank, statuses := range rankStatuses {
		if rank < c.rank || len(out) >= limit {
			continue
		}
		if len(f.Statuses) > 0 {
			statuses = slices.DeleteFunc(slices.Clone(statuses), func(st string) bool { return !slices.Contains(f.Statuses, st) })
			if len(statuses) == 0 {
				continue
			}
		}
		q := s.filterJobs(s.db.Model(&Job{}), f).Where("jobs.status IN ?", statuses).Order("jobs.id").Limit(limit - len(out))
		if rank == c.rank {
			q = q.Where("jobs.id > ?", c.id)
		}
		var page []Job
		if err := q.Find(&page).Error; err != nil {
			return nil, translate(err, "list jobs")
		}
		out = append(out, page...)
	}
	return out, nil
}

// CountJobs returns how many jobs f selects, on every page.
func (s *Store) CountJobs(f JobFilter) (int64, error) {
	var n int64
	err := s.filterJobs(s.db.Model(&Job{}), f).Count(&n).Error
	return n, translate(err, "count jobs")
}

// filterJobs adds f's conditions (not its order or page) to q.
func (s *Store) filterJobs(q *gorm.DB, f JobFilter) *gorm.DB {
	if f.ProjectID != "" {
		q = q.Where("jobs.project_id = ?", f.ProjectID)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("jobs.status IN ?", f.Statuses)
	}
	if f.Paused != nil {
		q = q.Where("jobs.paused = ?", *f.Paused)
	}
	if len(f.Tags) > 0 {
		cond, args := s.tagsCondition(f.Tags)
		q = q.Where(cond, args...)
	}
	if f.Query != "" {
		q = q.Where(jobSearchExpr+` LIKE ? ESCAPE '\'`, likeContains(f.Query))
	}
	return q
}

// orderJobs orders q by f.Sort, then id, and keeps the rows after f.Cursor.
func orderJobs(q *gorm.DB, f JobFilter) (*gorm.DB, error) {
	if f.Sort == "" {
		q = q.Order("jobs.id")
		if f.Cursor != "" {
			q = q.Where("jobs.id > ?", f.Cursor)
		}
		return q, nil
	}
	var c jobCursor
	if f.Cursor != "" {
		var err error
		if c, err = parseJobCursor(f.Sort, f.Cursor); err != nil {
			return nil, err
		}
	}
	switch f.Sort {
	case SortName:
		q = q.Order("jobs.name, jobs.id")
		if f.Cursor != "" {
			q = q.Where("(jobs.name, jobs.id) > (?, ?)", c.name, c.id)
		}
	case SortStatus:
		q = q.Order(statusRankSQL + ", jobs.id")
		if f.Cursor != "" {
			q = q.Where("("+statusRankSQL+", jobs.id) > (?, ?)", c.rank, c.id)
		}
	case SortLastActivity:
		// NULLS LAST spelled so both databases read it alike.
		q = q.Order("jobs.last_activity_at IS NULL, jobs.last_activity_at DESC, jobs.id")
		switch {
		case f.Cursor == "":
		case c.at == nil:
			q = q.Where("jobs.last_activity_at IS NULL AND jobs.id > ?", c.id)
		default:
			q = q.Where("jobs.last_activity_at < ? OR (jobs.last_activity_at = ? AND jobs.id > ?) OR jobs.last_activity_at IS NULL",
				*c.at, *c.at, c.id)
		}
	}
	return q, nil
}

// jobCursor is a position in a sorted job list: the last row's sort key
// and id.
type jobCursor struct {
	id   string
	name string
	rank int
	at   *time.Time
}

// maxCursorLen bounds a sorted list's cursor: a name of 100 characters
// of 4 bytes each is 640 characters of cursor with its id.
const maxCursorLen = 700

// cursorEncoding writes a sort key in the cursor alphabet [0-9a-v].
var cursorEncoding = base32.HexEncoding.WithPadding(base32.NoPadding)

// JobCursor returns the cursor of the page after j in a list sorted by
// sort: a plain id for the default order, else the sort's initial, its key
// and the id, joined by "_" (lowercase letters, digits and "_" only).
func JobCursor(sort string, j *Job) string {
	switch sort {
	case SortName:
		return "n_" + strings.ToLower(cursorEncoding.EncodeToString([]byte(j.Name))) + "_" + j.ID
	case SortStatus:
		rank, ok := sortRank[j.Status]
		if !ok {
			rank = 4
		}
		return "s_" + strconv.Itoa(rank) + "_" + j.ID
	case SortLastActivity:
		if j.LastActivityAt == nil {
			return "a_n_" + j.ID
		}
		return "a_" + strconv.FormatInt(j.LastActivityAt.UnixNano(), 10) + "_" + j.ID
	}
	return j.ID
}

// parseJobCursor reads a cursor JobCursor made for sort.
func parseJobCursor(sort, cursor string) (jobCursor, error) {
	bad := invalid("cursor", "not a cursor returned by this API for sort=%s", sort)
	if len(cursor) > maxCursorLen {
		return jobCursor{}, bad
	}
	parts := strings.Split(cursor, "_")
	if len(parts) != 3 || parts[2] == "" {
		return jobCursor{}, bad
	}
	c := jobCursor{id: parts[2]}
	switch {
	case sort == SortName && parts[0] == "n":
		name, err := cursorEncoding.DecodeString(strings.ToUpper(parts[1]))
		if err != nil || !utf8.Valid(name) {
			return c, bad
		}
		c.name = string(name)
	case sort == SortStatus && parts[0] == "s":
		rank, err := strconv.Atoi(parts[1])
		if err != nil || rank < 0 || rank > 4 {
			return c, bad
		}
		c.rank = rank
	case sort == SortLastActivity && parts[0] == "a":
		if parts[1] != "n" {
			ns, err := strconv.ParseInt(parts[1], 10, 64)
			if err != nil {
				return c, bad
			}
			t := time.Unix(0, ns).UTC()
			c.at = &t
		}
	default:
		return c, bad
	}
	return c, nil
}

// ProjectFilter selects projects for listing.
type ProjectFilter struct {
	Query string // a substring of the name, any case
	Page
}

// Projects returns one page of the projects f selects, ordered by id.
func (s *Store) Projects(f ProjectFilter) ([]Project, error) {
	q := paged(s.db, f.Page)
	if f.Query != "" {
		q = q.Where(`lower(name) LIKE ? ESCAPE '\'`, likeContains(f.Query))
	}
	var out []Project
	if err := q.Find(&out).Error; err != nil {
		return nil, translate(err, "list projects")
	}
	return out, nil
}
