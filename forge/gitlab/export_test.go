package gitlab

// CommitError exposes commitErr to tests.
var CommitError = commitErr

// NoreplyLogin exposes noreplyLogin to tests.
var NoreplyLogin = noreplyLogin

// Edited exposes edited to tests.
var Edited = edited

// GraphQLPath exposes graphQLPath to tests.
var GraphQLPath = graphQLPath
