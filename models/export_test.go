package models

// PGWriteSQL is the PostgreSQL fast path's statement, for tests that must
// recognise it on the wire.
const PGWriteSQL = pgWriteSQL
