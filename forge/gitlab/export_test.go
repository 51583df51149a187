package gitlab

// CommitError exposes commitErr to tests.
var CommitError = commitErr
