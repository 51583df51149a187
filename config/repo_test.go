package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultRepoIsSecure(t *testing.T) {
	r := DefaultRepo()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"version is 1", r.Version == 1},
		{"drift only notifies", r.Drift.Mode == DriftNotify},
		{"every pull request needs one approval", r.Approvals.Required == 1},
		{"a push invalidates earlier approvals", r.Approvals.InvalidateOnPush},
		{"authors cannot approve their own change", !r.SeparationOfDuties.AllowSelfApproval},
		{"co-authors count as authors", r.SeparationOfDuties.CoAuthorsAreAuthors},
		{"committers count as authors", r.SeparationOfDuties.CommittersAreAuthors},
		{"commits must be signed", r.Signatures.RequireSignedCommits},
		{"web commits do not count as signed", !r.Signatures.AllowWebCommits},
		{"no allowed-signer list restricts signers yet", !r.Signatures.AllowedSigners.IsSet()},
		{"plaintext secrets are forbidden", r.Secrets.ForbidPlaintext},
		{"no path is exempt from the secrets rule", len(r.Secrets.AllowedPaths) == 0},
		{"nobody may break glass", !r.BreakGlass.Enabled()},
		{"the break-glass label is break-glass", r.BreakGlass.Label == "break-glass"},
		{"a break-glass window lasts an hour", r.BreakGlass.DefaultWindow.Std() == time.Hour},
		{"a break-glass window lasts at most four hours", r.BreakGlass.MaxWindow.Std() == 4*time.Hour},
		{"the ledger lives on gitward/audit", r.Audit.Branch == "gitward/audit"},
		{"only the default branch is audited", r.Audit.Protects("main", "main") && !r.Audit.Protects("dev", "main")},
		{"apps are discovered", len(r.Apps) == 0},
		{"the rendered diff is posted", r.Comments.RenderedDiff},
		{"/approve counts", r.Commands.Approve},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("default: %+v", r)
			}
		})
	}
}

func TestMinimalFileEqualsDefaults(t *testing.T) {
	r, err := ParseRepo(RepoFile, []byte("version: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, DefaultRepo()) {
		t.Errorf("version: 1 alone gave %+v, want %+v", r, DefaultRepo())
	}
}

func TestExampleParses(t *testing.T) {
	data, err := os.ReadFile("testdata/example.gitward.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRepo(RepoFile, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"two apps are listed", len(r.Apps) == 2},
		{"the prod app names its cluster", r.ClusterFor(r.Apps[1]) == "prod"},
		{"the staging app gets its cluster by path", r.ClusterFor(r.Apps[0]) == "staging"},
		{"an unmapped app has no cluster", r.ClusterFor(App{Name: "x", Path: "sandbox/x"}) == ""},
		{"drift is enforced", r.Drift.Mode == DriftEnforce},
		{"the hpa rule selects Deployments in any namespace", r.Drift.Ignore[0].Match.Matches("apps", "Deployment", "web", "podinfo")},
		{"the hpa rule does not select StatefulSets", !r.Drift.Ignore[0].Match.Matches("apps", "StatefulSet", "web", "db")},
		{"the ca rule selects both webhook kinds", r.Drift.Ignore[1].Match.Matches("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "", "cm")},
		{"prod changes need sre", r.Approvals.Rules[0].Matches("clusters/prod/podinfo/deploy.yaml") && r.Approvals.Rules[0].Teams[0] == "sre"},
		{"controller changes need sre", r.Approvals.Rules[0].Matches("infrastructure/controllers/x.yaml")},
		{"staging changes do not need sre", !r.Approvals.Rules[0].Matches("clusters/staging/podinfo/deploy.yaml")},
		{"the policy rule needs one approval", r.Approvals.Rules[1].Required == 1},
		{"one ssh signer", len(r.Signatures.AllowedSigners.SSH) == 1},
		{"fingerprints are normalised", r.Signatures.AllowedSigners.Fingerprints()[0] == "4F3D8C1A7E5290B61D2CA0E73B9F66C4D1E82A57"},
		{"dev secrets are exempt", r.Secrets.Exempt("clusters/dev/secret.yaml") && !r.Secrets.Exempt("clusters/prod/secret.yaml")},
		{"break glass is on", r.BreakGlass.Enabled()},
		{"release branches are audited", r.Audit.Protects("release/1.0", "main") && r.Audit.Protects("main", "main")},
		{"other branches are not", !r.Audit.Protects("feature/x", "main")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Error("not so")
			}
		})
	}
}

func TestObjectMatchEmptyMeansEmpty(t *testing.T) {
	core := ObjectMatch{Group: "", Kind: "ConfigMap", Namespace: "*", Name: "*"}
	if !core.Matches("", "ConfigMap", "default", "x") {
		t.Error(`group "" did not select a core ConfigMap`)
	}
	if core.Matches("apps", "ConfigMap", "default", "x") {
		t.Error(`group "" selected the apps group`)
	}
	clusterScoped := ObjectMatch{Group: "*", Kind: "*", Namespace: "", Name: "*"}
	if !clusterScoped.Matches("", "Namespace", "", "x") || clusterScoped.Matches("", "ConfigMap", "default", "x") {
		t.Error(`namespace "" did not select exactly cluster-scoped objects`)
	}
	named := ObjectMatch{Group: "*", Kind: "*", Namespace: "team-*", Name: "*"}
	if named.Matches("", "Namespace", "", "x") {
		t.Error(`namespace "team-*" selected a cluster-scoped object`)
	}
}

const signer = "alice@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILT/R0loCm6e0oApYYehzb39ePV02IVUH+8iMIWOKQu8"

// badRepos are configurations ParseRepo rejects, with the exact errors.
var badRepos = []struct {
	name string
	yaml string
	want string
}{
	{"an empty file asks for a version", "", ".gitward.yaml: empty config: set version: 1"},
	{"a file of comments asks for a version", "# nothing yet\n\n# really\n", ".gitward.yaml: empty config: set version: 1"},
	{"a null document asks for a version", "~\n", ".gitward.yaml: empty config: set version: 1"},
	{"a missing version is named", "drift:\n  mode: notify\n",
		".gitward.yaml:1:1: version: required key is missing; set version: 1"},
	{"another version is refused alone", "version: 2\nbogus: true\n",
		".gitward.yaml:1:10: version: unsupported version 2: this gitward reads version 1"},
	{"a quoted version is the wrong type", `version: "1"` + "\n",
		`.gitward.yaml:1:10: version: must be an integer, got string "1"`},
	{"a list at the top is refused", "- version: 1\n",
		".gitward.yaml:1:1: the file must be a mapping of keys, like version: 1; got a list"},
	{"a misspelt key gets a suggestion", "version: 1\naprovals:\n  required: 2\n",
		`.gitward.yaml:2:1: aprovals: unknown key (did you mean "approvals"?)`},
	{"an unknown key lists the known ones", "version: 1\ndrift:\n  color: red\n",
		".gitward.yaml:3:3: drift.color: unknown key; known keys here: ignore, mode"},
	{"a nested misspelling is found", "version: 1\napprovals:\n  rules:\n    - name: prod\n      path: [clusters/prod/**]\n",
		".gitward.yaml:4:7: approvals.rules[0].paths: required key is missing\n" +
			`.gitward.yaml:5:7: approvals.rules[0].path: unknown key (did you mean "paths"?)`},
	{"a bad glob is named with its line", "version: 1\napprovals:\n  rules:\n  - name: prod\n    paths:\n    - clusters/prod/**\n    - clusters/[prod\n",
		`.gitward.yaml:7:7: approvals.rules[0].paths[1]: invalid glob "clusters/[prod": missing closing ]`},
	{"a word for a number is the wrong type", "version: 1\napprovals:\n  required: two\n",
		`.gitward.yaml:3:13: approvals.required: must be an integer, got string "two"`},
	{"a negative count is refused", "version: 1\napprovals:\n  required: -1\n",
		".gitward.yaml:3:13: approvals.required: must be at least 0, got -1"},
	{"a rule needing no approvals is refused", "version: 1\napprovals:\n  rules:\n    - {name: a, paths: [x], required: 0}\n",
		".gitward.yaml:4:39: approvals.rules[0].required: must be at least 1, got 0"},
	{"a float count is the wrong type", "version: 1\napprovals:\n  required: 1.5\n",
		".gitward.yaml:3:13: approvals.required: must be an integer, got number 1.5"},
	{"a huge count is refused", "version: 1\napprovals:\n  required: 1000\n",
		".gitward.yaml:3:13: approvals.required: must be at most 100, got 1000"},
	{"a duration in words is refused", "version: 1\nbreak_glass:\n  max_window: 4 hours\n",
		`.gitward.yaml:3:15: break_glass.max_window: invalid duration "4 hours": use a Go duration like 30s, 5m or 1h30m`},
	{"a negative duration is refused", "version: 1\nbreak_glass:\n  max_window: -4h\n",
		`.gitward.yaml:3:15: break_glass.max_window: invalid duration "-4h": use a Go duration like 30s, 5m or 1h30m`},
	{"a duration without unit is refused", "version: 1\nbreak_glass:\n  max_window: 30\n",
		".gitward.yaml:3:15: break_glass.max_window: must be a duration like 5m, got integer 30"},
	{"a too short window is refused", "version: 1\nbreak_glass:\n  default_window: 30s\n",
		".gitward.yaml:3:19: break_glass.default_window: must be at least 1m, got 30s"},
	{"a default window longer than the maximum is refused", "version: 1\nbreak_glass:\n  default_window: 5h\n",
		".gitward.yaml:3:19: break_glass.default_window: default_window 5h0m0s is longer than max_window 4h0m0s"},
	{"an unknown drift mode lists the modes", "version: 1\ndrift:\n  mode: enfore\n",
		`.gitward.yaml:3:9: drift.mode: must be one of notify, enforce; got "enfore"`},
	{"an empty section is null, not a mapping", "version: 1\ndrift:\n",
		".gitward.yaml:2:7: drift: must be a mapping, got null"},
	{"a mapping where a list belongs is refused", "version: 1\napprovals:\n  rules:\n    name: x\n",
		".gitward.yaml:4:5: approvals.rules: must be a list, got a mapping"},
	{"a list where a string belongs is refused", "version: 1\napps:\n  - name: [a]\n    path: a\n",
		".gitward.yaml:3:11: apps[0].name: must be a string, got a list"},
	{"yes is not a boolean", "version: 1\napprovals:\n  invalidate_on_push: yes\n",
		`.gitward.yaml:3:23: approvals.invalidate_on_push: must be true or false, got string "yes"`},
	{"a duplicate key is refused", "version: 1\ndrift:\n  mode: notify\ndrift:\n  mode: enforce\n",
		".gitward.yaml:4:1: drift: duplicate key (first at line 2)"},
	{"a duplicate app name is refused", "version: 1\napps:\n  - {name: web, path: a}\n  - {name: web, path: b}\n",
		`.gitward.yaml:4:12: apps[1].name: duplicate name "web" (first at line 3)`},
	{"a duplicate app path is refused", "version: 1\napps:\n  - {name: a, path: web}\n  - {name: b, path: web}\n",
		`.gitward.yaml:4:21: apps[1].path: apps[0] has the same path "web"`},
	{"a duplicate user is refused", "version: 1\nbreak_glass:\n  responders:\n    users: [alice, bob, alice]\n",
		`.gitward.yaml:4:25: break_glass.responders.users[2]: duplicate value "alice" (first at column 13)`},
	{"an empty path list is refused", "version: 1\napprovals:\n  rules:\n    - {name: a, paths: []}\n",
		".gitward.yaml:4:24: approvals.rules[0].paths: must list at least 1 item"},
	{"a login with @ is refused", "version: 1\napprovals:\n  rules:\n    - {name: a, paths: [x], users: ['@alice']}\n",
		`.gitward.yaml:4:37: approvals.rules[0].users[0]: must be a user login without @, like octocat, got "@alice"`},
	{"a rule cannot need more users than it lists", "version: 1\napprovals:\n  rules:\n    - {name: a, paths: [x], users: [alice], required: 2}\n",
		".gitward.yaml:4:55: approvals.rules[0].required: needs 2 approvals but only 1 users are listed and no teams"},
	{"an upper-case namespace is refused", "version: 1\napps:\n  - {name: a, path: a, namespace: Prod}\n",
		`.gitward.yaml:3:35: apps[0].namespace: must be a Kubernetes namespace name (lower-case letters, digits and '-', at most 63 characters), got "Prod"`},
	{"an app path may not climb out", "version: 1\napps:\n  - {name: a, path: ../other}\n",
		`.gitward.yaml:3:21: apps[0].path: path "../other" must not contain . or .. segments`},
	{"an app path is relative", "version: 1\napps:\n  - {name: a, path: /srv/a}\n",
		`.gitward.yaml:3:21: apps[0].path: path "/srv/a" must be relative to the repository root: remove the leading /`},
	{"an ignore rule must say what to ignore", "version: 1\ndrift:\n  ignore:\n    - name: all\n",
		".gitward.yaml:4:7: drift.ignore[0]: set json_pointers, field_managers or both, saying what to ignore"},
	{"a JSON pointer starts with /", "version: 1\ndrift:\n  ignore:\n    - {name: r, json_pointers: [spec/replicas]}\n",
		`.gitward.yaml:4:33: drift.ignore[0].json_pointers[0]: invalid JSON pointer "spec/replicas": must start with /, like /spec/replicas`},
	{"an object glob is checked", "version: 1\ndrift:\n  ignore:\n    - {name: r, json_pointers: [/a], match: {kind: 'Deploy[ment'}}\n",
		`.gitward.yaml:4:52: drift.ignore[0].match.kind: invalid glob "Deploy[ment": missing closing ]`},
	{"a short key ID is refused", "version: 1\nsignatures:\n  allowed_signers:\n    openpgp: [3B9F66C4D1E82A57]\n",
		`.gitward.yaml:4:15: signatures.allowed_signers.openpgp[0]: invalid OpenPGP fingerprint "3B9F66C4D1E82A57": this is a key ID; give the full fingerprint (40 hex digits)`},
	{"the same fingerprint spaced differently is refused", "version: 1\nsignatures:\n  allowed_signers:\n    openpgp:\n      - 4F3D8C1A7E5290B61D2CA0E73B9F66C4D1E82A57\n      - 4f3d 8c1a 7e52 90b6 1d2c a0e7 3b9f 66c4 d1e8 2a57\n",
		".gitward.yaml:6:9: signatures.allowed_signers.openpgp[1]: fingerprint repeats openpgp[0]"},
	{"an ssh signer line needs a key", "version: 1\nsignatures:\n  allowed_signers:\n    ssh: [alice@example.com ssh-ed25519]\n",
		`.gitward.yaml:4:11: signatures.allowed_signers.ssh[0]: invalid allowed-signers line: want "principals [options] key-type base64-key [comment]", like "alice@example.com ssh-ed25519 AAAA..."`},
	{"an ssh key must be of its type", "version: 1\nsignatures:\n  allowed_signers:\n    ssh: ['alice ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAILT/R0loCm6e0oApYYehzb39ePV02IVUH+8iMIWOKQu8']\n",
		`.gitward.yaml:4:11: signatures.allowed_signers.ssh[0]: invalid allowed-signers line: key data is not a ssh-rsa key`},
	{"an audit branch with a space is refused", "version: 1\naudit:\n  branch: gitward audit\n",
		`.gitward.yaml:3:11: audit.branch: invalid branch name "gitward audit": must not contain ' '`},
	{"the audit branch cannot be protected", "version: 1\naudit:\n  branch: gitward/audit\n  protected_branches: ['gitward/*']\n",
		`.gitward.yaml:3:11: audit.branch: the audit branch "gitward/audit" must not be a protected branch`},
	{"merge keys are refused", "version: 1\napps:\n  - &a {name: a, path: a}\n  - <<: *a\n    name: b\n",
		".gitward.yaml:4:5: apps[1].<<: merge keys (<<) are not supported: write the keys out\n" +
			".gitward.yaml:4:5: apps[1].path: required key is missing"},
	{"a YAML syntax error keeps its line", "version: 1\napprovals:\n  required: 1\n rules: []\n",
		".gitward.yaml:4: invalid YAML: did not find expected key"},
	{"a tab indent is a syntax error", "version: 1\napprovals:\n\trequired: 1\n",
		".gitward.yaml:3: invalid YAML: found character that cannot start any token"},
	{"a syntax error yaml.v3 places at the block start is found on its line", "version: 1\napps:\n  - name: a\n  path: b\n",
		".gitward.yaml:4: invalid YAML: did not find expected '-' indicator"},
	{"a syntax error yaml.v3 gives no line is found on its line", "version: 1\ndrift: mode: notify\n",
		".gitward.yaml:2: invalid YAML: mapping values are not allowed in this context"},
	{"an unterminated quote points at its start", "version: 1\naudit:\n  branch: 'gitward\n",
		".gitward.yaml:3: invalid YAML: found unexpected end of stream"},
	{"two documents are refused", "version: 1\n---\nversion: 1\n",
		".gitward.yaml:2:1: more than one YAML document (---): put the whole configuration in one"},
}

func TestParseRepoErrors(t *testing.T) {
	for _, tc := range badRepos {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRepo(RepoFile, []byte(tc.yaml))
			if err == nil {
				t.Fatalf("parsed: %+v", r)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Errorf("error is %T, not Errors", err)
			}
		})
	}
}

func TestParseRepoCollectsEveryProblemSortedByLine(t *testing.T) {
	in := `version: 1
drift:
  mode: enfore
approvals:
  required: -1
  rules:
    - name: Prod
      paths: ["clusters/[prod"]
aprovals: {}
`
	_, err := ParseRepo(RepoFile, []byte(in))
	want := `.gitward.yaml:3:9: drift.mode: must be one of notify, enforce; got "enfore"
.gitward.yaml:5:13: approvals.required: must be at least 0, got -1
.gitward.yaml:7:13: approvals.rules[0].name: must be a name of lower-case letters, digits, '-', '.' and '_', starting and ending with a letter or digit, at most 63 characters, got "Prod"
.gitward.yaml:8:15: approvals.rules[0].paths[0]: invalid glob "clusters/[prod": missing closing ]
.gitward.yaml:9:1: aprovals: unknown key (did you mean "approvals"?)`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	var es Errors
	if errors.As(err, &es) && (len(es) != 5 || es[0].Line != 3 || es[0].Column != 9 || es[0].Path != "drift.mode") {
		t.Errorf("structured errors: %+v", es[0])
	}
}

func TestAliasExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ndiscovery:\n  exclude: &p [")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "a%d,", i)
	}
	b.WriteString("z]\napprovals:\n  rules:\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "  - {name: r%d, paths: *p}\n", i)
	}
	// The error shows that expansion stopped at the bound; how long that
	// took depends on the machine, so it is not asserted.
	_, err := ParseRepo(RepoFile, []byte(b.String()))
	if err == nil || !strings.HasPrefix(err.Error(), ".gitward.yaml:3:") ||
		!strings.HasSuffix(err.Error(), ": more than 100000 values once aliases are expanded") || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %.600v", err)
	}
}

func TestOversizedFileIsRefused(t *testing.T) {
	data := append([]byte("version: 1\n#"), make([]byte, maxConfigBytes)...)
	_, err := ParseRepo(RepoFile, data)
	if err == nil || !strings.Contains(err.Error(), "the limit is 1048576") {
		t.Errorf("got %v", err)
	}
}

func TestErrorsPrintAtMostFifty(t *testing.T) {
	var es Errors
	for i := 1; i <= 60; i++ {
		es = append(es, &Error{File: "f", Line: i, Msg: "bad"})
	}
	lines := strings.Split(es.Error(), "\n")
	if len(lines) != 51 || lines[50] != "... and 10 more" {
		t.Errorf("got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
}
