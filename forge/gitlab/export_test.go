package gitlab

// CommitError exposes commitErr to tests.
var CommitError = commitErr

// NoreplyLogin exposes noreplyLogin to tests.
var NoreplyLogin = noreplyLogin
