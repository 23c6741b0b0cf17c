package pingwriter

// PGWriteSQL is the PostgreSQL fast path's statement, for tests that must
// recognise it on the wire.
var PGWriteSQL = pgWriteSQL
