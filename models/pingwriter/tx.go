package pingwriter

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/indoubt"
	"gorm.io/gorm"
)

// commitTxRetry stores a batch by the transactional path, retrying once (a
// deadlock or a busy database is usually gone by then).
func (w *Writer) commitTxRetry(batch []*pendingPing) error {
	err := w.commitTx(batch)
	if err != nil {
		if settled, serr := w.inDoubt(batch, err); settled {
			return serr
		}
		w.log.Warn("ping batch failed, retrying", slog.Int("pings", len(batch)), slog.Any("error", err))
		err = w.commitTx(batch)
		if err != nil {
			if settled, serr := w.inDoubt(batch, err); settled {
				return serr
			}
		}
	}
	if err != nil {
		w.log.Error("ping batch not stored", slog.Int("pings", len(batch)), slog.Any("error", err))
	}
	return err
}

// commitTx writes the batch in one transaction through the shared pool:
// the jobs are read (on PostgreSQL locked, in id order), the pings applied,
// and the pings, the jobs and any flips (with their notifications) written
// together. It takes every batch the fast path does not.
func (w *Writer) commitTx(batch []*pendingPing) error {
	var bp batchPlan
	var be indoubt.Backend
	db := w.db
	if w.postgres {
		ctx, cancel := context.WithTimeout(context.Background(), w.writeTimeout)
		defer cancel()
		db = db.WithContext(ctx)
	}
	w.settler.KnowPooler()
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := w.settler.Record(tx, &be); err != nil { // for Writer.inDoubt, if the connection breaks
			return err
		}
		byToken, err := w.jobsByTokens(tx, batch)
		if err != nil {
			return err
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
		if err := w.insertPings(tx, bp.rows); err != nil {
			return err
		}
		if err := w.updateJobs(tx, bp.changed); err != nil {
			return err
		}
		if err := w.store.AddRollups(tx, &bp.rollups); err != nil {
			return err
		}
		for _, f := range bp.flips {
			if _, err := w.store.InsertFlip(tx, f.JobID, f.FromStatus, f.ToStatus, f.Reason, f.CreatedAt); err != nil {
				return fmt.Errorf("flip of job %s: %w", f.JobID, err)
			}
		}
		return nil
	})
	if err != nil {
		return indoubt.WithBackend(err, be)
	}
	for _, c := range bp.changed {
		w.maybePrune(c)
	}
	return nil
}

// jobsByTokens loads the ping columns of the jobs of a batch, keyed by
// ping token (see txJobsByTokenSQL).
func (w *Writer) jobsByTokens(tx *gorm.DB, batch []*pendingPing) (map[string]*jobChange, error) {
	byToken := make(map[string]*jobChange, len(batch))
	tokens := make([]string, 0, len(batch))
	for _, p := range batch {
		if _, ok := byToken[p.token]; !ok {
			byToken[p.token] = nil
			tokens = append(tokens, p.token)
		}
	}
	arg, err := json.Marshal(tokens)
	if err != nil {
		return nil, fmt.Errorf("encode tokens: %w", err)
	}
	rows, err := tx.Raw(txJobsByTokenSQL[w.postgres], string(arg)).Rows()
	if err != nil {
		return nil, fmt.Errorf("load jobs of ping batch: %w", err)
	}
	jobs, err := models.ScanPingJobs(rows, len(tokens))
	if err != nil {
		return nil, err
	}
	for i := range jobs {
		byToken[jobs[i].PingToken] = newJobChange(&jobs[i])
	}
	return byToken, nil
}

// insertPings writes rows in one statement. Their ids are not read back:
// nothing needs them.
func (w *Writer) insertPings(tx *gorm.DB, rows []*models.Ping) error {
	batch := make([][]any, len(rows))
	for i, p := range rows {
		batch[i] = w.store.PingRow(p)
	}
	arg, err := json.Marshal(batch)
	if err != nil {
		return fmt.Errorf("encode %d pings: %w", len(rows), err)
	}
	if err := tx.Exec(txInsertPingsSQL[w.postgres], string(arg)).Error; err != nil {
		return fmt.Errorf("insert %d pings: %w", len(rows), err)
	}
	return nil
}

// updateJobs writes the ping-driven columns of every job a batch touched,
// in one statement. next_run_at is not a ping's to write: the store derives
// it when a job is read.
func (w *Writer) updateJobs(tx *gorm.DB, changed []*jobChange) error {
	batch := make([][]any, len(changed))
	for i, c := range changed {
		batch[i] = append(w.store.PingedJobRow(c.job), w.store.BatchTime(c.job.AlertAt))
	}
	arg, err := json.Marshal(batch)
	if err != nil {
		return fmt.Errorf("encode %d jobs: %w", len(changed), err)
	}
	res := tx.Exec(txUpdateJobsSQL[w.postgres], string(arg))
	if res.Error != nil {
		return fmt.Errorf("update %d jobs after pings: %w", len(changed), res.Error)
	}
	if res.RowsAffected != int64(len(changed)) {
		return fmt.Errorf("update jobs after pings: %d of %d rows updated", res.RowsAffected, len(changed))
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
