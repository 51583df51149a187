package app

import "testing"

func TestGraphQLURLGoesWithTheRESTURL(t *testing.T) {
	for v3, want := range map[string]string{
		"https://api.github.com/":         "https://api.github.com/graphql",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com/api/graphql",
		"http://127.0.0.1:4000":           "http://127.0.0.1:4000/graphql",
	} {
		if got := graphQLURL(v3); got != want {
			t.Errorf("graphQLURL(%q) = %q, want %q", v3, got, want)
		}
	}
}
