package migrations

// sessions stores the dashboard's sign-ins, so that every instance sharing
// a database knows them. The key is a SHA-256 of the cookie's random token,
// never the token itself: a copy of the table signs nobody in. expires_at
// slides forward with use (last_seen_at + SESSION_TTL); the index on it
// serves pruning, the one on user_id signing a user out everywhere. A
// user's deletion deletes their sessions.
var sessions = Migration{
	Version: 9,
	Name:    "sessions",
	SQL: []string{
		`CREATE TABLE sessions (
			token_hash text PRIMARY KEY,
			user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			csrf_token text NOT NULL,
			created_at {{ts}} NOT NULL,
			last_seen_at {{ts}} NOT NULL,
			expires_at {{ts}} NOT NULL)`,
		`CREATE INDEX sessions_user ON sessions (user_id)`,
		`CREATE INDEX sessions_expires ON sessions (expires_at)`,
	},
}
