package migrations

// ApplyThrough exposes applyThrough to the package's external tests.
var ApplyThrough = applyThrough
