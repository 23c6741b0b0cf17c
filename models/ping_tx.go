package models

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// commitTx writes the batch in one transaction through the shared pool:
// the jobs are read (on PostgreSQL locked, in id order), the pings applied,
// and the pings, the jobs and any flips (with their notifications) written
// together. It takes every batch the fast path does not.
func (w *PingWriter) commitTx(batch []*pendingPing) error {
	s := w.store
	tokens := distinctKeys(batch, func(p *pendingPing) string { return p.token })
	var bp batchPlan
	var be backend
	db := s.db
	if s.dialect == Postgres {
		ctx, cancel := context.WithTimeout(context.Background(), w.writeTimeout)
		defer cancel()
		db = db.WithContext(ctx)
	}
	s.knowPooler()
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := s.recordBackend(tx, &be); err != nil { // for PingWriter.inDoubt, if the connection breaks
			return err
		}
		jobs, err := s.jobsByTokens(tx, tokens)
		if err != nil {
			return err
		}
		byToken := make(map[string]*jobChange, len(jobs))
		for i := range jobs {
			byToken[jobs[i].PingToken] = newJobChange(&jobs[i])
		}
		findStart := func(jobID, rid string) (time.Time, bool, error) {
			rows, err := tx.Raw(findStartSQL, jobID, rid).Rows()
			if err != nil {
				return time.Time{}, false, err
			}
			return scanStart(rows)
		}
		if bp, err = w.plan(batch, byToken, findStart); err != nil {
			return err
		}
		if len(bp.rows) == 0 {
			return nil
		}
		if err := s.insertPings(tx, bp.rows); err != nil {
			return err
		}
		if err := s.updatePingedJobs(tx, bp.changed); err != nil {
			return err
		}
		for _, f := range bp.flips {
			if _, err := s.insertFlip(tx, f.JobID, f.FromStatus, f.ToStatus, f.Reason, f.CreatedAt); err != nil {
				return fmt.Errorf("flip of job %s: %w", f.JobID, err)
			}
		}
		return nil
	})
	if err != nil {
		return withBackend(err, be)
	}
	for _, c := range bp.changed {
		w.maybePrune(c)
	}
	return nil
}

// scanStart reads the result of findStartSQL, and closes it.
func scanStart(rows *sql.Rows) (time.Time, bool, error) {
	defer rows.Close()
	var t time.Time
	found := false
	if rows.Next() {
		if err := rows.Scan(&t); err != nil {
			return t, false, err
		}
		found = true
	}
	if err := rows.Err(); err != nil {
		return t, false, err
	}
	return t, found, nil
}
