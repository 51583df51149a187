package config

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// Server is the configuration of one gitward process: a YAML file plus
// GITWARD_* environment variables (see EnvVars), which win over the file.
// Secret values come only from files or the environment.
type Server struct {
	// HTTP is the webhook and health server.
	HTTP HTTPServer `yaml:"server" json:"server"`
	// GitHub is the GitHub App. GitHub Enterprise Server works by setting its URLs.
	GitHub GitHub `yaml:"github" json:"github"`
	// GitLab lists the GitLab instances gitward serves as a bot.
	GitLab GitLab `yaml:"gitlab" json:"gitlab"`
	// Workers is the pool that handles webhook events.
	Workers Workers `yaml:"workers" json:"workers"`
	// Resync is the periodic re-evaluation of open pull requests, which makes
	// up for lost webhook deliveries.
	Resync Resync `yaml:"resync" json:"resync"`
	// Snapshots are repository trees downloaded by SHA and cached on disk.
	Snapshots Snapshots `yaml:"snapshots" json:"snapshots"`
	// Render limits kustomize builds.
	Render Render `yaml:"render" json:"render"`
	// Clusters are the Kubernetes clusters gitward reads and dry-runs
	// against, named so repository configurations can refer to them.
	Clusters []Cluster `yaml:"clusters" json:"clusters,omitempty" unique:"name"`
	// Drift is the scheduled drift scan of default branches.
	Drift DriftScan `yaml:"drift" json:"drift"`
	// Logging sets the log level and format.
	Logging Logging `yaml:"logging" json:"logging"`
	// LeaderElection makes only one of several replicas run the periodic
	// scans, holding a Kubernetes Lease.
	LeaderElection LeaderElection `yaml:"leader_election" json:"leader_election"`
}

// HTTPServer is the HTTP server for webhooks, /healthz, /readyz and /metrics.
type HTTPServer struct {
	// Address is the host:port to listen on.
	Address string `yaml:"address" json:"address" default:":8080" format:"listen-address" env:"GITWARD_SERVER_ADDRESS"`
	// ReadHeaderTimeout bounds reading request headers.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout" json:"read_header_timeout" default:"10s" min:"1s" env:"GITWARD_SERVER_READ_HEADER_TIMEOUT"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout Duration `yaml:"read_timeout" json:"read_timeout" default:"30s" min:"1s" env:"GITWARD_SERVER_READ_TIMEOUT"`
	// WriteTimeout bounds writing a response.
	WriteTimeout Duration `yaml:"write_timeout" json:"write_timeout" default:"30s" min:"1s" env:"GITWARD_SERVER_WRITE_TIMEOUT"`
	// IdleTimeout bounds idle keep-alive connections.
	IdleTimeout Duration `yaml:"idle_timeout" json:"idle_timeout" default:"2m" min:"1s" env:"GITWARD_SERVER_IDLE_TIMEOUT"`
	// ShutdownGracePeriod is how long shutdown waits for in-flight work.
	ShutdownGracePeriod Duration `yaml:"shutdown_grace_period" json:"shutdown_grace_period" default:"30s" min:"1s" env:"GITWARD_SERVER_SHUTDOWN_GRACE_PERIOD"`
	// MaxWebhookBody is the largest webhook body accepted; larger ones get
	// 413. GitHub sends at most 25 MB.
	MaxWebhookBody ByteSize `yaml:"max_webhook_body" json:"max_webhook_body" default:"25MiB" min:"1KiB" max:"25MiB" env:"GITWARD_SERVER_MAX_WEBHOOK_BODY"`
}

// GitHub is the GitHub App gitward acts as. It is on when app_id is set, and
// then needs the private key and the webhook secret.
type GitHub struct {
	// AppID is the GitHub App's numeric ID.
	AppID int64 `yaml:"app_id" json:"app_id" min:"0" env:"GITWARD_GITHUB_APP_ID"`
	// WebURL is the GitHub web address; for GitHub Enterprise Server
	// https://HOST/. Setting it alone also sets the API URLs to HOST's.
	WebURL string `yaml:"web_url" json:"web_url" default:"https://github.com/" format:"url" env:"GITWARD_GITHUB_WEB_URL"`
	// V3APIURL is the REST API address; for GitHub Enterprise Server https://HOST/api/v3/.
	V3APIURL string `yaml:"v3_api_url" json:"v3_api_url" default:"https://api.github.com/" format:"url" env:"GITWARD_GITHUB_V3_API_URL"`
	// V4APIURL is the GraphQL API address; for GitHub Enterprise Server https://HOST/api/graphql.
	V4APIURL string `yaml:"v4_api_url" json:"v4_api_url" default:"https://api.github.com/graphql" format:"url" env:"GITWARD_GITHUB_V4_API_URL"`
	// PrivateKeyFile is the path of the app's PEM private key, relative to
	// this file's directory.
	PrivateKeyFile string `yaml:"private_key_file" json:"private_key_file,omitempty" format:"file-path" env:"GITWARD_GITHUB_PRIVATE_KEY_FILE"`
	// WebhookSecretFile is the path of a file holding the webhook secret.
	WebhookSecretFile string `yaml:"webhook_secret_file" json:"webhook_secret_file,omitempty" format:"file-path" env:"GITWARD_GITHUB_WEBHOOK_SECRET_FILE"`
	// HTTPCacheSize is the in-memory HTTP cache for API responses; 0 turns it off.
	HTTPCacheSize ByteSize `yaml:"http_cache_size" json:"http_cache_size" default:"50MiB" min:"0" env:"GITWARD_GITHUB_HTTP_CACHE_SIZE"`

	// PrivateKey is the app's PEM private key, from private_key_file or
	// GITWARD_GITHUB_PRIVATE_KEY.
	PrivateKey Secret `yaml:"private_key" json:"private_key" secret:"GITWARD_GITHUB_PRIVATE_KEY" file:"private_key_file"`
	// WebhookSecret verifies webhook signatures, from webhook_secret_file or
	// GITWARD_GITHUB_WEBHOOK_SECRET.
	WebhookSecret Secret `yaml:"webhook_secret" json:"webhook_secret" secret:"GITWARD_GITHUB_WEBHOOK_SECRET" file:"webhook_secret_file"`
}

// Enabled reports whether the GitHub App is configured.
func (g GitHub) Enabled() bool { return g.AppID != 0 }

func (g *GitHub) check(c *checks) {
	if g.AppID == 0 {
		if g.PrivateKey.IsSet() || g.WebhookSecret.IsSet() {
			c.errorf("app_id", "is required when a GitHub private key or webhook secret is set")
		}
		return
	}
	if !g.PrivateKey.IsSet() {
		c.errorf("private_key_file", "the GitHub App needs its private key: set github.private_key_file or GITWARD_GITHUB_PRIVATE_KEY")
	} else if err := checkPrivateKey(g.PrivateKey.Reveal()); err != nil {
		c.errorf("private_key_file", "%v", err)
	}
	if !g.WebhookSecret.IsSet() {
		c.errorf("webhook_secret_file", "the GitHub App needs its webhook secret: set github.webhook_secret_file or GITWARD_GITHUB_WEBHOOK_SECRET")
	}
}

// checkPrivateKey accepts a PEM RSA private key, never quoting it.
func checkPrivateKey(key string) error {
	block, _ := pem.Decode([]byte(key))
	if block == nil {
		return fmt.Errorf("the private key is not PEM-encoded: use the .pem file GitHub generated for the app")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	return fmt.Errorf("the private key (PEM block %q) does not parse as an RSA private key", block.Type)
}

// GitLab is the GitLab bot.
type GitLab struct {
	// Hosts are the GitLab instances served, each with its own token.
	Hosts []GitLabHost `yaml:"hosts" json:"hosts,omitempty" unique:"base_url"`
	// WebhookSecretFile is the path of a file holding the webhook secret token.
	WebhookSecretFile string `yaml:"webhook_secret_file" json:"webhook_secret_file,omitempty" format:"file-path" env:"GITWARD_GITLAB_WEBHOOK_SECRET_FILE"`

	// WebhookSecret is the secret token GitLab sends with webhooks, from
	// webhook_secret_file or GITWARD_GITLAB_WEBHOOK_SECRET.
	WebhookSecret Secret `yaml:"webhook_secret" json:"webhook_secret" secret:"GITWARD_GITLAB_WEBHOOK_SECRET" file:"webhook_secret_file"`
}

// Enabled reports whether any GitLab host is configured.
func (g GitLab) Enabled() bool { return len(g.Hosts) > 0 }

func (g *GitLab) check(c *checks) {
	if g.Enabled() && !g.WebhookSecret.IsSet() {
		c.errorf("webhook_secret_file", "GitLab needs a webhook secret token: set gitlab.webhook_secret_file or GITWARD_GITLAB_WEBHOOK_SECRET")
	}
}

// GitLabHost is one GitLab instance and the access token gitward uses there.
type GitLabHost struct {
	// BaseURL is the instance address, like https://gitlab.com/.
	BaseURL string `yaml:"base_url" json:"base_url" required:"true" format:"url"`
	// TokenFile is the path of a file holding a project or group access token.
	TokenFile string `yaml:"token_file" json:"token_file,omitempty" format:"file-path"`
	// TokenEnv names an environment variable holding the access token.
	TokenEnv string `yaml:"token_env" json:"token_env,omitempty" pattern:"envname"`

	// Token is the access token, from token_file or token_env.
	Token Secret `yaml:"token" json:"token" file:"token_file" envkey:"token_env"`
}

func (h *GitLabHost) check(c *checks) {
	if !h.Token.IsSet() {
		c.errorf("token_file", "the GitLab host needs an access token: set token_file or token_env")
	}
}

// Workers is the pool that handles webhook events.
type Workers struct {
	// Count is the number of events handled at once.
	Count int `yaml:"count" json:"count" default:"4" min:"1" max:"256" env:"GITWARD_WORKERS"`
	// QueueSize is how many events wait for a worker; when the queue is
	// full, the resync picks the work up later.
	QueueSize int `yaml:"queue_size" json:"queue_size" default:"100" min:"1" max:"100000" env:"GITWARD_QUEUE_SIZE"`
}

// Resync is the periodic re-evaluation of open pull requests.
type Resync struct {
	// Interval between resyncs; 0 turns the timer off (a pass still runs
	// at start and when the work queue overflows).
	Interval Duration `yaml:"interval" json:"interval" default:"5m" min:"10s" zero:"off" env:"GITWARD_RESYNC_INTERVAL"`
	// RepoConcurrency is how many pull requests of one repository are
	// re-evaluated at once.
	RepoConcurrency int `yaml:"repo_concurrency" json:"repo_concurrency" default:"2" min:"1" max:"64" env:"GITWARD_RESYNC_REPO_CONCURRENCY"`
}

// Snapshots are repository trees at a SHA, downloaded as archives, extracted
// safely and cached on disk.
type Snapshots struct {
	// Dir is the cache directory. Default: $XDG_CACHE_HOME/gitward/snapshots,
	// or ~/.cache/gitward/snapshots.
	Dir string `yaml:"dir" json:"dir" format:"file-path" env:"GITWARD_SNAPSHOTS_DIR"`
	// CacheSize caps the disk the cache uses; the least recently used
	// snapshots go first. 0 keeps nothing after use.
	CacheSize ByteSize `yaml:"cache_size" json:"cache_size" default:"2GiB" min:"0" env:"GITWARD_SNAPSHOTS_CACHE_SIZE"`
	// MaxSize is the most one snapshot may extract to, all files together.
	MaxSize ByteSize `yaml:"max_size" json:"max_size" default:"512MiB" min:"1KiB" env:"GITWARD_SNAPSHOTS_MAX_SIZE"`
	// MaxFiles is the most files one snapshot may hold.
	MaxFiles int `yaml:"max_files" json:"max_files" default:"100000" min:"1" max:"10000000" env:"GITWARD_SNAPSHOTS_MAX_FILES"`
	// MaxFileSize is the largest single file a snapshot may hold.
	MaxFileSize ByteSize `yaml:"max_file_size" json:"max_file_size" default:"64MiB" min:"1KiB" env:"GITWARD_SNAPSHOTS_MAX_FILE_SIZE"`
}

func (s *Snapshots) check(c *checks) {
	if s.MaxFileSize > s.MaxSize {
		key := "max_file_size"
		if !c.has(key) {
			key = "max_size"
		}
		c.errorf(key, "max_file_size %s is larger than max_size %s", s.MaxFileSize, s.MaxSize)
	}
}

// Render limits kustomize builds.
type Render struct {
	// TimeLimit bounds one app's render.
	TimeLimit Duration `yaml:"time_limit" json:"time_limit" default:"60s" min:"1s" env:"GITWARD_RENDER_TIME_LIMIT"`
	// MaxOutputSize bounds one app's rendered YAML.
	MaxOutputSize ByteSize `yaml:"max_output_size" json:"max_output_size" default:"64MiB" min:"1KiB" env:"GITWARD_RENDER_MAX_OUTPUT_SIZE"`
	// CacheSize caps the in-memory cache of renders by content hash; 0 turns it off.
	CacheSize ByteSize `yaml:"cache_size" json:"cache_size" default:"256MiB" min:"0" env:"GITWARD_RENDER_CACHE_SIZE"`
	// AllowedRemoteBases lists globs of remote kustomize bases that may be
	// fetched, matched against the remote's host and path without scheme,
	// user or query, like github.com/acme/platform/**. Empty: none.
	AllowedRemoteBases []Glob `yaml:"allowed_remote_bases" json:"allowed_remote_bases,omitempty" unique:"true"`
}

// Cluster is one Kubernetes cluster, reached by a kubeconfig or, inside a
// pod, by its service account.
type Cluster struct {
	// Name identifies the cluster in repository configurations.
	Name string `yaml:"name" json:"name" required:"true" pattern:"name"`
	// Kubeconfig is the path of a kubeconfig file, relative to this file's directory.
	Kubeconfig string `yaml:"kubeconfig" json:"kubeconfig,omitempty" format:"file-path"`
	// Context is the kubeconfig context to use; default: its current context.
	Context string `yaml:"context" json:"context,omitempty" pattern:"context"`
	// InCluster uses the pod's service account instead of a kubeconfig.
	InCluster bool `yaml:"in_cluster" json:"in_cluster" default:"false"`
	// Timeout bounds each request to the cluster.
	Timeout Duration `yaml:"timeout" json:"timeout" default:"30s" min:"1s"`
}

func (cl *Cluster) check(c *checks) {
	switch {
	case cl.InCluster && cl.Kubeconfig != "":
		c.errorf("in_cluster", "set either kubeconfig or in_cluster: true, not both")
	case !cl.InCluster && cl.Kubeconfig == "":
		c.errorf("", "set kubeconfig (and optionally context), or in_cluster: true")
	case cl.InCluster && cl.Context != "":
		c.errorf("context", "context needs a kubeconfig; in_cluster uses the service account")
	}
}

// DriftScan is the scheduled drift scan of each repository's default branch.
type DriftScan struct {
	// ScanInterval between scans; 0 turns scanning off.
	ScanInterval Duration `yaml:"scan_interval" json:"scan_interval" default:"15m" min:"1m" zero:"off" env:"GITWARD_DRIFT_SCAN_INTERVAL"`
	// Concurrency is how many objects are dry-run and read at once per cluster.
	Concurrency int `yaml:"concurrency" json:"concurrency" default:"4" min:"1" max:"64" env:"GITWARD_DRIFT_CONCURRENCY"`
}

// Logging sets the log output.
type Logging struct {
	// Level is the least severe level logged.
	Level string `yaml:"level" json:"level" default:"info" enum:"debug,info,warn,error" env:"GITWARD_LOG_LEVEL"`
	// Format is json (one object per line) or console (for people).
	Format string `yaml:"format" json:"format" default:"json" enum:"json,console" env:"GITWARD_LOG_FORMAT"`
}

// LeaderElection makes one replica, the holder of a Kubernetes Lease, run the
// drift scan and resync. It needs in-cluster credentials.
type LeaderElection struct {
	// Enabled turns leader election on; a single replica needs none.
	Enabled bool `yaml:"enabled" json:"enabled" default:"false" env:"GITWARD_LEADER_ELECTION_ENABLED"`
	// Namespace of the Lease; default: the pod's own namespace.
	Namespace string `yaml:"namespace" json:"namespace,omitempty" pattern:"namespace" env:"GITWARD_LEADER_ELECTION_NAMESPACE"`
	// Name of the Lease.
	Name string `yaml:"name" json:"name" default:"gitward" pattern:"name" env:"GITWARD_LEADER_ELECTION_NAME"`
	// LeaseDuration is how long followers wait before taking the lease over.
	LeaseDuration Duration `yaml:"lease_duration" json:"lease_duration" default:"15s" min:"1s" env:"GITWARD_LEADER_ELECTION_LEASE_DURATION"`
	// RenewDeadline is how long the leader tries to renew before giving up.
	RenewDeadline Duration `yaml:"renew_deadline" json:"renew_deadline" default:"10s" min:"1s" env:"GITWARD_LEADER_ELECTION_RENEW_DEADLINE"`
	// RetryPeriod is how often candidates try to acquire or renew.
	RetryPeriod Duration `yaml:"retry_period" json:"retry_period" default:"2s" min:"1s" env:"GITWARD_LEADER_ELECTION_RETRY_PERIOD"`
}

func (l *LeaderElection) check(c *checks) {
	if l.LeaseDuration <= l.RenewDeadline {
		c.errorf("lease_duration", "%s must be longer than renew_deadline %s", l.LeaseDuration, l.RenewDeadline)
	}
	if l.RenewDeadline <= l.RetryPeriod {
		c.errorf("renew_deadline", "%s must be longer than retry_period %s", l.RenewDeadline, l.RetryPeriod)
	}
}

// DefaultServer returns the server configuration with every default and no
// GitHub App, GitLab host or cluster. Snapshots.Dir is left empty;
// LoadServer fills it from the environment.
func DefaultServer() *Server {
	s := &Server{}
	setDefaults(reflect.ValueOf(s).Elem())
	return s
}

// Cluster returns the configured cluster with the given name, which a
// repository configuration refers to.
func (s *Server) Cluster(name string) (Cluster, bool) {
	for _, c := range s.Clusters {
		if c.Name == name {
			return c, true
		}
	}
	return Cluster{}, false
}

// EnvVar is one environment variable LoadServer reads.
type EnvVar struct {
	Name   string // like GITWARD_WORKERS
	Key    string // the key it overrides, like workers.count
	Secret bool   // it holds a secret value rather than overriding a key
}

// EnvVars lists every environment variable LoadServer reads, in the order of
// the configuration's keys. Each overrides the key of the same meaning in
// the file; the secret ones hold values the file cannot.
func EnvVars() []EnvVar {
	var out []EnvVar
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for _, fi := range infoOf(t).fields {
			key := joinPath(path, fi.key)
			switch {
			case fi.env != "":
				out = append(out, EnvVar{Name: fi.env, Key: key})
			case fi.secret != "":
				out = append(out, EnvVar{Name: fi.secret, Key: key, Secret: true})
			case fi.typ.Kind() == reflect.Struct && !isLeaf(fi.typ):
				walk(fi.typ, key)
			}
		}
	}
	walk(reflect.TypeOf(Server{}), "")
	return out
}

// LookupEnv is the signature of os.LookupEnv, which LoadServer reads the
// environment through.
type LookupEnv func(name string) (string, bool)

// LoadServer reads the server configuration from the YAML file at path (none
// when path is ""), applies the GITWARD_* variables found by lookupEnv
// (normally os.LookupEnv; nil reads none; an empty variable counts as unset), loads the secrets from their files
// or variables and checks the result. Relative paths in the file are
// relative to the file's directory. Every problem found is returned together
// as Errors.
func LoadServer(path string, lookupEnv LookupEnv) (*Server, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	s := DefaultServer()
	rv := reflect.ValueOf(s).Elem()
	d := newDecoder(path)
	baseDir := ""
	if path != "" {
		data, err := readLimited(path)
		if err != nil {
			return nil, fmt.Errorf("read server config: %w", err)
		}
		root, err := readDocument(path, data)
		if err != nil {
			return nil, err
		}
		if root != nil {
			d.mark("", root)
			d.value(root, rv, "", nil)
		}
		baseDir = filepath.Dir(path)
	}
	d.applyEnv(rv, "", lookupEnv)
	d.resolvePaths(rv, "", baseDir)
	s.fillDerived(d, lookupEnv)
	if len(d.errs) == 0 {
		d.loadSecrets(rv, "", lookupEnv)
	}
	if len(d.errs) == 0 {
		d.checkTree(rv, "")
	}
	if err := d.errs.errOrNil(); err != nil {
		return nil, err
	}
	return s, nil
}

// readLimited reads a configuration or secret file up to maxConfigBytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxConfigBytes)
	}
	return data, nil
}

// applyEnv sets every env-tagged field under struct v whose variable is set.
func (d *decoder) applyEnv(v reflect.Value, path string, lookupEnv LookupEnv) {
	for _, fi := range infoOf(v.Type()).fields {
		key := joinPath(path, fi.key)
		f := v.Field(fi.index)
		if fi.env == "" {
			if f.Kind() == reflect.Struct && !isLeaf(fi.typ) {
				d.applyEnv(f, key, lookupEnv)
			}
			continue
		}
		s, ok := lookupEnv(fi.env)
		if !ok || s == "" {
			continue // an empty variable counts as unset
		}
		src := "env " + fi.env
		d.pos[key] = place{file: src}
		val, err := parseString(fi.typ, s)
		if err != nil {
			d.errs = append(d.errs, &Error{File: src, Path: key, Msg: err.Error()})
			continue
		}
		if msg := checkValue(fi, val); msg != "" {
			d.errs = append(d.errs, &Error{File: src, Path: key, Msg: msg})
			continue
		}
		f.Set(val)
	}
}

// resolvePaths makes file paths written in the file relative to its directory.
func (d *decoder) resolvePaths(v reflect.Value, path, baseDir string) {
	for _, fi := range infoOf(v.Type()).fields {
		key := joinPath(path, fi.key)
		f := v.Field(fi.index)
		switch {
		case fi.format == "file-path":
			if pl, ok := d.pos[key]; ok && pl.file == d.file && baseDir != "" && f.String() != "" && !filepath.IsAbs(f.String()) {
				f.SetString(filepath.Join(baseDir, f.String()))
			}
		case f.Kind() == reflect.Struct && !isLeaf(fi.typ):
			d.resolvePaths(f, key, baseDir)
		case f.Kind() == reflect.Slice && fi.typ.Elem().Kind() == reflect.Struct && !isLeaf(fi.typ.Elem()):
			for i := 0; i < f.Len(); i++ {
				d.resolvePaths(f.Index(i), indexPath(key, i), baseDir)
			}
		}
	}
}

// fillDerived sets the defaults that depend on the environment or on other keys.
func (s *Server) fillDerived(d *decoder, lookupEnv LookupEnv) {
	if s.Snapshots.Dir == "" {
		if x, ok := lookupEnv("XDG_CACHE_HOME"); ok && filepath.IsAbs(x) {
			s.Snapshots.Dir = filepath.Join(x, "gitward", "snapshots")
		} else if h, ok := lookupEnv("HOME"); ok && filepath.IsAbs(h) {
			s.Snapshots.Dir = filepath.Join(h, ".cache", "gitward", "snapshots")
		} else {
			d.addAt("snapshots.dir", "has no default because HOME and XDG_CACHE_HOME are unset: set snapshots.dir or GITWARD_SNAPSHOTS_DIR")
		}
	}
	_, v3Set := d.pos["github.v3_api_url"]
	_, v4Set := d.pos["github.v4_api_url"]
	g := &s.GitHub
	g.WebURL = withSlash(g.WebURL)
	if g.WebURL != "https://github.com/" {
		if !v3Set {
			g.V3APIURL = g.WebURL + "api/v3/"
		}
		if !v4Set {
			g.V4APIURL = g.WebURL + "api/graphql"
		}
	}
	g.V3APIURL = withSlash(g.V3APIURL)
	for i := range s.GitLab.Hosts {
		s.GitLab.Hosts[i].BaseURL = withSlash(s.GitLab.Hosts[i].BaseURL)
	}
}

func withSlash(u string) string {
	if u == "" || strings.HasSuffix(u, "/") {
		return u
	}
	return u + "/"
}

// loadSecrets fills every Secret under struct v from its file or variable.
func (d *decoder) loadSecrets(v reflect.Value, path string, lookupEnv LookupEnv) {
	si := infoOf(v.Type())
	for _, fi := range si.fields {
		key := joinPath(path, fi.key)
		f := v.Field(fi.index)
		switch {
		case fi.typ == secretType:
			d.loadSecret(v, path, fi, si, lookupEnv)
		case f.Kind() == reflect.Struct && !isLeaf(fi.typ):
			d.loadSecrets(f, key, lookupEnv)
		case f.Kind() == reflect.Slice && fi.typ.Elem().Kind() == reflect.Struct && !isLeaf(fi.typ.Elem()):
			for i := 0; i < f.Len(); i++ {
				d.loadSecrets(f.Index(i), indexPath(key, i), lookupEnv)
			}
		}
	}
}

// loadSecret reads one Secret from the one source configured for it.
func (d *decoder) loadSecret(v reflect.Value, path string, fi *fieldInfo, si *structInfo, lookupEnv LookupEnv) {
	type source struct{ what, key, env, file string }
	var found []source
	if fi.secret != "" {
		if s, ok := lookupEnv(fi.secret); ok && s != "" {
			found = append(found, source{what: fi.secret, key: joinPath(path, fi.key), env: fi.secret})
		}
	}
	if fi.file != "" {
		if p := v.Field(si.byKey[fi.file].index).String(); p != "" {
			found = append(found, source{what: joinPath(path, fi.file), key: joinPath(path, fi.file), file: p})
		}
	}
	if fi.envKey != "" {
		if name := v.Field(si.byKey[fi.envKey].index).String(); name != "" {
			found = append(found, source{what: joinPath(path, fi.envKey), key: joinPath(path, fi.envKey), env: name})
		}
	}
	switch len(found) {
	case 0:
		return
	case 1:
	default:
		d.addAt(found[1].key, fmt.Sprintf("set either %s or %s, not both", found[0].what, found[1].what))
		return
	}
	src := found[0]
	var value string
	if src.file != "" {
		data, err := readLimited(src.file)
		if err != nil {
			d.addAt(src.key, fmt.Sprintf("cannot read the secret: %v", err))
			return
		}
		value = strings.TrimRight(string(data), "\r\n")
	} else {
		s, ok := lookupEnv(src.env)
		if !ok {
			d.addAt(src.key, fmt.Sprintf("environment variable %s is not set", src.env))
			return
		}
		value = strings.TrimRight(s, "\r\n")
		if strings.Contains(value, `\n`) && !strings.Contains(value, "\n") && strings.Contains(value, "-----BEGIN") {
			value = strings.ReplaceAll(value, `\n`, "\n") // a PEM key flattened into one line
		}
	}
	if value == "" {
		d.addAt(src.key, fmt.Sprintf("the secret from %s is empty", src.what))
		return
	}
	v.Field(fi.index).Set(reflect.ValueOf(NewSecret(value)))
}

// checkListenAddress accepts host:port, with an empty host for all interfaces.
func checkListenAddress(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil || port == "" {
		return fmt.Errorf("invalid listen address %q: want host:port, like :8080 or 127.0.0.1:8080", s)
	}
	return nil
}
