package config

import (
	"reflect"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// RepoFile is the name of the repository configuration file, at the
// repository root.
const RepoFile = ".gitward.yaml"

// RepoVersion is the repository configuration format this gitward reads.
const RepoVersion = 1

// Repo is the repository configuration, .gitward.yaml, read at a pull
// request's base SHA so that a pull request cannot weaken its own rules.
type Repo struct {
	// Version of the configuration format. Must be 1.
	Version int `yaml:"version" json:"version" required:"true" enum:"1" hint:"set version: 1"`
	// Apps lists the apps (kustomization roots) gitward renders. When absent,
	// every directory with a kustomization.yaml, kustomization.yml or
	// Kustomization file is an app, named after its path.
	Apps []App `yaml:"apps" json:"apps,omitempty" unique:"name"`
	// Discovery tunes how apps are found when apps is absent.
	Discovery Discovery `yaml:"discovery" json:"discovery"`
	// Clusters maps apps to the clusters of the server configuration by
	// path. The first entry whose paths match an app's path applies; an app's
	// own cluster setting wins. An app with no cluster is not checked for drift.
	Clusters []ClusterMapping `yaml:"clusters" json:"clusters,omitempty"`
	// Drift sets how drift between git and the live cluster is treated.
	Drift Drift `yaml:"drift" json:"drift"`
	// Approvals sets how many approvals a pull request needs, overall and by path.
	Approvals Approvals `yaml:"approvals" json:"approvals"`
	// SeparationOfDuties sets whose approvals do not count.
	SeparationOfDuties SeparationOfDuties `yaml:"separation_of_duties" json:"separation_of_duties"`
	// Signatures sets the commit signature rule.
	Signatures Signatures `yaml:"signatures" json:"signatures"`
	// Secrets sets the rule against plaintext Kubernetes Secrets.
	Secrets SecretsPolicy `yaml:"secrets" json:"secrets"`
	// BreakGlass sets who may bypass change control in an emergency, and how.
	BreakGlass BreakGlass `yaml:"break_glass" json:"break_glass"`
	// Audit sets where evidence of merged changes is recorded.
	Audit Audit `yaml:"audit" json:"audit"`
	// Comments sets what gitward posts on pull requests.
	Comments Comments `yaml:"comments" json:"comments"`
	// Commands sets which comment commands gitward acts on.
	Commands Commands `yaml:"commands" json:"commands"`
}

// App is one kustomization root that gitward renders, diffs and checks.
type App struct {
	// Name identifies the app in reports, commands and branch names.
	Name string `yaml:"name" json:"name" required:"true" pattern:"name"`
	// Path is the directory holding the kustomization, relative to the
	// repository root; "." is the root itself.
	Path string `yaml:"path" json:"path" required:"true" format:"repo-path"`
	// Cluster names a cluster from the server configuration that this app
	// deploys to. It overrides the clusters mapping.
	Cluster string `yaml:"cluster" json:"cluster,omitempty" pattern:"name"`
	// Namespace is given to the app's namespaced objects that set none.
	Namespace string `yaml:"namespace" json:"namespace,omitempty" pattern:"namespace"`
}

// Discovery tunes app discovery.
type Discovery struct {
	// Exclude lists globs of directories that are never apps, such as
	// components or bases that do not build alone.
	Exclude []Glob `yaml:"exclude" json:"exclude,omitempty" unique:"true"`
}

// ClusterMapping assigns the apps under some paths to a cluster.
type ClusterMapping struct {
	// Name is the cluster's name in the server configuration.
	Name string `yaml:"name" json:"name" required:"true" pattern:"name"`
	// Paths are globs matched against app paths, like clusters/prod/**.
	Paths []Glob `yaml:"paths" json:"paths" required:"true" minItems:"1" unique:"true"`
}

// Drift sets how gitward treats differences between git and the cluster.
type Drift struct {
	// Mode is notify (drift makes the gitward/drift check neutral) or enforce
	// (drift fails it until it is captured in git or an ignore rule covers it).
	Mode string `yaml:"mode" json:"mode" default:"notify" enum:"notify,enforce"`
	// Ignore rules hide expected differences, such as replicas an autoscaler sets.
	Ignore []IgnoreRule `yaml:"ignore" json:"ignore,omitempty" unique:"name"`
}

// Drift modes.
const (
	DriftNotify  = "notify"
	DriftEnforce = "enforce"
)

// IgnoreRule hides differences in matching objects. With both json_pointers
// and field_managers, a difference is hidden only when it lies under one of
// the pointers and was written by one of the managers.
type IgnoreRule struct {
	// Name identifies the rule in reports ("3 fields hidden by rule hpa-replicas").
	Name string `yaml:"name" json:"name" required:"true" pattern:"name"`
	// Match selects the objects the rule applies to; every field defaults to any.
	Match ObjectMatch `yaml:"match" json:"match"`
	// JSONPointers lists the fields to ignore as RFC 6901 pointers, like /spec/replicas.
	JSONPointers []string `yaml:"json_pointers" json:"json_pointers,omitempty" minItems:"1" unique:"true" format:"json-pointer"`
	// FieldManagers lists managedFields managers whose changes are expected,
	// like kube-controller-manager for an autoscaler writing /scale.
	FieldManagers []string `yaml:"field_managers" json:"field_managers,omitempty" minItems:"1" unique:"true" pattern:"context"`
}

func (r *IgnoreRule) check(c *checks) {
	if len(r.JSONPointers) == 0 && len(r.FieldManagers) == 0 {
		c.errorf("", "set json_pointers, field_managers or both, saying what to ignore")
	}
}

// ObjectMatch selects Kubernetes objects by globs over their identity. An
// empty string matches only the empty value: group "" is the core group,
// namespace "" a cluster-scoped object.
type ObjectMatch struct {
	// Group is the API group, like apps; "" is the core group.
	Group string `yaml:"group" json:"group" default:"*" format:"object-glob"`
	// Kind is the object kind, like Deployment.
	Kind string `yaml:"kind" json:"kind" default:"*" format:"object-glob"`
	// Namespace is the object's namespace; "" selects cluster-scoped objects.
	Namespace string `yaml:"namespace" json:"namespace" default:"*" format:"object-glob"`
	// Name is the object's name.
	Name string `yaml:"name" json:"name" default:"*" format:"object-glob"`
}

// Matches reports whether an object with this identity is selected.
func (m ObjectMatch) Matches(group, kind, namespace, name string) bool {
	return matchObjectGlob(m.Group, group) && matchObjectGlob(m.Kind, kind) &&
		matchObjectGlob(m.Namespace, namespace) && matchObjectGlob(m.Name, name)
}

// matchObjectGlob matches s against pattern, where "" matches only "".
func matchObjectGlob(pattern, s string) bool {
	if pattern == "" || s == "" {
		return pattern == s || pattern == "*"
	}
	g, err := ParseGlob(pattern)
	return err == nil && g.Match(s)
}

// Approvals sets the approvals a pull request needs.
type Approvals struct {
	// Required is the number of approvals every pull request needs, from
	// people with write permission who are not excluded by separation of duties.
	Required int `yaml:"required" json:"required" default:"1" min:"0" max:"100"`
	// Rules add requirements for changes under some paths. Every rule whose
	// paths match a changed file must be satisfied, as well as required.
	Rules []ApprovalRule `yaml:"rules" json:"rules,omitempty" unique:"name"`
	// InvalidateOnPush makes a push to the pull request discard the approvals
	// given on earlier head SHAs.
	InvalidateOnPush bool `yaml:"invalidate_on_push" json:"invalidate_on_push" default:"true"`
}

// ApprovalRule requires approvals from some people for changes under some paths.
type ApprovalRule struct {
	// Name identifies the rule in the check's summary.
	Name string `yaml:"name" json:"name" required:"true" pattern:"name"`
	// Paths are globs over changed file paths, like clusters/prod/**.
	Paths []Glob `yaml:"paths" json:"paths" required:"true" minItems:"1" unique:"true"`
	// Required is the number of approvals from eligible people the rule needs.
	Required int `yaml:"required" json:"required" default:"1" min:"1" max:"100"`
	// Teams whose members may approve, as team slugs of the repository's
	// organization (org/slug also works), or group paths on GitLab.
	Teams []string `yaml:"teams" json:"teams,omitempty" unique:"true" pattern:"team"`
	// Users who may approve, by login. When teams and users are both empty,
	// anyone with write permission may.
	Users []string `yaml:"users" json:"users,omitempty" unique:"true" pattern:"login"`
}

func (r *ApprovalRule) check(c *checks) {
	if len(r.Teams) == 0 && len(r.Users) > 0 && r.Required > len(r.Users) {
		c.errorf("required", "needs %d approvals but only %d users are listed and no teams", r.Required, len(r.Users))
	}
}

// Matches reports whether the rule applies to a changed file.
func (r ApprovalRule) Matches(path string) bool { return MatchAny(r.Paths, path) }

// SeparationOfDuties sets whose approvals do not count.
type SeparationOfDuties struct {
	// AllowSelfApproval lets the pull request's author and commit authors
	// approve their own change. Off by default.
	AllowSelfApproval bool `yaml:"allow_self_approval" json:"allow_self_approval" default:"false"`
	// CoAuthorsAreAuthors treats people named in Co-authored-by trailers as
	// authors, whose approvals do not count.
	CoAuthorsAreAuthors bool `yaml:"co_authors_are_authors" json:"co_authors_are_authors" default:"true"`
	// CommittersAreAuthors treats commit committers as authors, whose
	// approvals do not count.
	CommittersAreAuthors bool `yaml:"committers_are_authors" json:"committers_are_authors" default:"true"`
}

// Signatures sets the commit signature rule.
type Signatures struct {
	// RequireSignedCommits requires every commit in a pull request to carry a
	// signature the forge verified.
	RequireSignedCommits bool `yaml:"require_signed_commits" json:"require_signed_commits" default:"true"`
	// AllowedSigners, when set, makes gitward verify each signature itself and
	// accept only these signers.
	AllowedSigners AllowedSigners `yaml:"allowed_signers" json:"allowed_signers"`
	// AllowWebCommits counts commits made in the forge's web interface, which
	// the forge signs with its own key, as signed.
	AllowWebCommits bool `yaml:"allow_web_commits" json:"allow_web_commits" default:"false"`
}

// AllowedSigners lists the signers gitward accepts.
type AllowedSigners struct {
	// SSH lists lines in ssh-keygen's allowed-signers format:
	// "principals [options] key-type base64-key [comment]".
	SSH []string `yaml:"ssh" json:"ssh,omitempty" unique:"true" format:"ssh-allowed-signer"`
	// OpenPGP lists full OpenPGP key fingerprints (40 or 64 hex digits;
	// spaces allowed). Short key IDs are refused.
	OpenPGP []string `yaml:"openpgp" json:"openpgp,omitempty" unique:"true" format:"openpgp-fingerprint"`
}

// IsSet reports whether any signer is listed.
func (a AllowedSigners) IsSet() bool { return len(a.SSH) > 0 || len(a.OpenPGP) > 0 }

// Fingerprints returns the OpenPGP fingerprints upper-case, without spaces.
func (a AllowedSigners) Fingerprints() []string {
	out := make([]string, 0, len(a.OpenPGP))
	for _, f := range a.OpenPGP {
		if n, err := NormalizeFingerprint(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func (a *AllowedSigners) check(c *checks) {
	seen := map[string]int{}
	for i, f := range a.OpenPGP {
		n, err := NormalizeFingerprint(f)
		if err != nil {
			continue
		}
		if j, dup := seen[n]; dup {
			c.errorf(indexKey("openpgp", i), "fingerprint repeats openpgp[%d]", j)
		}
		seen[n] = i
	}
}

// SecretsPolicy is the rule against plaintext Kubernetes Secrets.
type SecretsPolicy struct {
	// ForbidPlaintext fails change control when a rendered Secret carries data
	// or stringData. SealedSecrets, SOPS-encrypted files and ExternalSecrets pass.
	ForbidPlaintext bool `yaml:"forbid_plaintext" json:"forbid_plaintext" default:"true"`
	// AllowedPaths lists globs of source files exempt from the rule.
	AllowedPaths []Glob `yaml:"allowed_paths" json:"allowed_paths,omitempty" unique:"true"`
}

// Exempt reports whether a source file is exempt from the plaintext rule.
func (s SecretsPolicy) Exempt(path string) bool { return MatchAny(s.AllowedPaths, path) }

// BreakGlass sets the emergency bypass.
type BreakGlass struct {
	// Responders may use /breakglass; they also need write permission. With
	// no responders, break-glass is off.
	Responders Principals `yaml:"responders" json:"responders"`
	// Label is put on pull requests merged by break-glass.
	Label string `yaml:"label" json:"label" default:"break-glass" pattern:"label"`
	// DefaultWindow is how long a break-glass window for manual cluster
	// changes stays open when the command names no duration.
	DefaultWindow Duration `yaml:"default_window" json:"default_window" default:"1h" min:"1m"`
	// MaxWindow is the longest window a command may ask for.
	MaxWindow Duration `yaml:"max_window" json:"max_window" default:"4h" min:"1m" max:"168h"`
}

func (b *BreakGlass) check(c *checks) {
	if b.DefaultWindow > b.MaxWindow {
		key := "default_window"
		if !c.has(key) {
			key = "max_window"
		}
		c.errorf(key, "default_window %s is longer than max_window %s", b.DefaultWindow, b.MaxWindow)
	}
}

// Enabled reports whether anyone may break glass.
func (b BreakGlass) Enabled() bool { return !b.Responders.IsEmpty() }

// Principals names people by login and by team.
type Principals struct {
	// Users by login.
	Users []string `yaml:"users" json:"users,omitempty" unique:"true" pattern:"login"`
	// Teams as team slugs of the repository's organization, or group paths on GitLab.
	Teams []string `yaml:"teams" json:"teams,omitempty" unique:"true" pattern:"team"`
}

// IsEmpty reports whether nobody is named.
func (p Principals) IsEmpty() bool { return len(p.Users) == 0 && len(p.Teams) == 0 }

// Audit sets where evidence of merged changes goes.
type Audit struct {
	// Branch holds the hash-chained ledger of evidence records.
	Branch string `yaml:"branch" json:"branch" default:"gitward/audit" format:"git-branch"`
	// ProtectedBranches are globs of the branches whose merges are recorded
	// and whose direct pushes are reported. When absent, the repository's
	// default branch.
	ProtectedBranches []Glob `yaml:"protected_branches" json:"protected_branches,omitempty" minItems:"1" unique:"true"`
}

func (a *Audit) check(c *checks) {
	if MatchAny(a.ProtectedBranches, a.Branch) {
		c.errorf("branch", "the audit branch %q must not be a protected branch", a.Branch)
	}
}

// Protects reports whether merges into branch are recorded.
func (a Audit) Protects(branch, defaultBranch string) bool {
	if len(a.ProtectedBranches) == 0 {
		return branch == defaultBranch
	}
	return MatchAny(a.ProtectedBranches, branch)
}

// Comments sets what gitward posts on pull requests.
type Comments struct {
	// RenderedDiff posts the sticky comment with the rendered manifest diff.
	// The check runs are published either way.
	RenderedDiff bool `yaml:"rendered_diff" json:"rendered_diff" default:"true"`
}

// Commands sets which comment commands gitward acts on.
type Commands struct {
	// Approve lets /approve count as an approval, under the same rules as a review.
	Approve bool `yaml:"approve" json:"approve" default:"true"`
}

// DefaultRepo returns the configuration of a repository without .gitward.yaml:
// version 1 with every default, which is the secure choice.
func DefaultRepo() *Repo {
	r := &Repo{}
	setDefaults(reflect.ValueOf(r).Elem())
	r.Version = RepoVersion
	return r
}

// ClusterFor returns the cluster an app deploys to: its own cluster setting,
// else the first clusters entry whose paths match its path, else "".
func (r *Repo) ClusterFor(app App) string {
	if app.Cluster != "" {
		return app.Cluster
	}
	for _, m := range r.Clusters {
		if MatchAny(m.Paths, app.Path) {
			return m.Name
		}
	}
	return ""
}

// ParseRepo parses and checks a .gitward.yaml. filename only labels errors.
// Every problem found is returned together as Errors, sorted by line.
func ParseRepo(filename string, data []byte) (*Repo, error) {
	root, err := readDocument(filename, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, Errors{{File: filename, Msg: "empty config: set version: 1"}}
	}
	if v := mappingValue(root, "version"); v != nil && v.ShortTag() == "!!int" {
		if n, err := strconv.Atoi(v.Value); err != nil || n != RepoVersion {
			return nil, Errors{{File: filename, Line: v.Line, Column: v.Column, Path: "version",
				Msg: "unsupported version " + v.Value + ": this gitward reads version 1"}}
		}
	}
	if root.Kind != yaml.MappingNode {
		return nil, Errors{{File: filename, Line: root.Line, Column: root.Column,
			Msg: "the file must be a mapping of keys, like version: 1; got " + gotName(root)}}
	}
	r := &Repo{}
	setDefaults(reflect.ValueOf(r).Elem())
	d := newDecoder(filename)
	d.mark("", root)
	d.value(root, reflect.ValueOf(r).Elem(), "", nil)
	if len(d.errs) == 0 {
		d.checkTree(reflect.ValueOf(r).Elem(), "")
	}
	if err := d.errs.errOrNil(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Repo) check(c *checks) {
	firstAt := map[string]int{}
	for i, a := range r.Apps {
		if j, dup := firstAt[a.Path]; dup {
			c.errorf(indexKey("apps", i)+".path", "apps[%d] has the same path %q", j, a.Path)
			continue
		}
		firstAt[a.Path] = i
	}
}

// mappingValue returns the value of key in a mapping node, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func indexKey(key string, i int) string { return indexPath(key, i) }
