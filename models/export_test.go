package models

// RollupCounters returns the counters r gathered for job id (of any
// hour), for tests.
func RollupCounters(r *Rollups, id string) Counters {
	var c Counters
	for k, v := range r.jobs {
		if k.id == id {
			c.Merge(v)
		}
	}
	return c
}
