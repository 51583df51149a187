package gitlab

// CommitError exposes commitErr to tests.
var CommitError = commitErr

// Edited exposes edited to tests.
var Edited = edited

// GraphQLPath exposes graphQLPath to tests.
var GraphQLPath = graphQLPath
