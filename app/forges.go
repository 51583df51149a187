package app

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	ghforge "github.com/gitward/gitward/forge/github"
	glforge "github.com/gitward/gitward/forge/gitlab"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/palantir/go-githubapp/githubapp"
	gl "gitlab.com/gitlab-org/api/client-go"
)

// graphQLURL is the GraphQL address that goes with a REST address:
// HOST/api/graphql for GitHub Enterprise Server's HOST/api/v3/, else
// the REST address's /graphql (https://api.github.com/graphql).
func graphQLURL(v3 string) string {
	base := strings.TrimSuffix(v3, "/")
	if host, ok := strings.CutSuffix(base, "/api/v3"); ok {
		return host + "/api/graphql"
	}
	return base + "/graphql"
}

// newGitHub builds the GitHub App's adapter: installation clients with a
// bounded response cache and API metrics.
func (s *Server) newGitHub(opts Options, cache *snapshot.Cache) (*ghforge.Forge, error) {
	v4 := opts.GitHubV4APIURL
	if v4 == "" {
		v4 = graphQLURL(opts.GitHubV3APIURL)
	}
	cfg := githubapp.Config{WebURL: opts.GitHubWebURL, V3APIURL: opts.GitHubV3APIURL, V4APIURL: v4}
	cfg.App.IntegrationID = opts.GitHubAppID
	cfg.App.PrivateKey = string(opts.GitHubPrivateKey)
	cfg.App.WebhookSecret = string(opts.GitHubWebhookSecret)
	// One byte budget for cached GitHub responses, with a separate view
	// per client (and so per installation).
	httpCache := newBoundedCache(opts.GitHubCacheBytes)
	clientOpts := []githubapp.ClientOption{
		githubapp.WithClientUserAgent("gitward/" + Version),
		githubapp.WithClientTimeout(opts.GitHubTimeout),
		githubapp.WithClientMiddleware(s.metrics.GitHubMiddleware()),
	}
	if opts.GitHubCacheBytes > 0 {
		clientOpts = append(clientOpts, githubapp.WithClientCaching(false, httpCache.view))
	}
	if opts.GitHubTransport != nil {
		clientOpts = append(clientOpts, githubapp.WithTransport(opts.GitHubTransport))
	}
	clients, err := githubapp.NewDefaultCachingClientCreator(cfg, clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("github clients: %w", err)
	}
	if _, err := clients.NewAppClient(); err != nil {
		return nil, fmt.Errorf("github app private key: %w", err)
	}
	return ghforge.New(clients, ghforge.Options{
		AppID:     opts.GitHubAppID,
		WebURL:    opts.GitHubWebURL,
		Snapshots: cache,
		Limits:    opts.SnapshotLimits,
	}), nil
}

// checkGitLabHosts says what is wrong with the GitLab hosts, before
// anything is built from them.
func checkGitLabHosts(hosts []GitLabHost) error {
	seen := map[string]bool{}
	for i, h := range hosts {
		host := gitlabHost(h.BaseURL)
		switch {
		case host == "":
			return fmt.Errorf("gitlab host %d: base URL %q is not an http(s) URL", i+1, h.BaseURL)
		case seen[host]:
			return fmt.Errorf("gitlab host %d: %s is configured twice", i+1, host)
		case len(h.Token) == 0:
			return fmt.Errorf("gitlab host %s: access token is not set", host)
		}
		seen[host] = true
	}
	return nil
}

// newGitLabs builds one adapter per GitLab host (checked by
// checkGitLabHosts), keyed by the host its projects' web URLs name.
func newGitLabs(opts Options, cache *snapshot.Cache, m *Metrics) (map[string]*glforge.Forge, error) {
	out := map[string]*glforge.Forge{}
	for _, h := range opts.GitLabHosts {
		host := gitlabHost(h.BaseURL)
		transport := opts.GitLabTransport
		if transport == nil {
			transport = http.DefaultTransport
		}
		hc := &http.Client{Timeout: opts.GitHubTimeout, Transport: m.GitLabTransport(transport)}
		api := strings.TrimSuffix(h.BaseURL, "/") + "/api/v4"
		client, err := gl.NewClient(string(h.Token), gl.WithBaseURL(api), gl.WithHTTPClient(hc),
			gl.WithUserAgent("gitward/"+Version))
		if err != nil {
			return nil, fmt.Errorf("gitlab host %s: %w", host, err)
		}
		out[host] = glforge.New(client, glforge.Options{Host: host, Snapshots: cache, Limits: opts.SnapshotLimits, Token: h.Token})
	}
	return out, nil
}

// gitlabHost is the host of a GitLab base URL, "" when it is not one.
func gitlabHost(base string) string {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.Host
}
