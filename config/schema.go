package config

import _ "embed"

// The schemas are generated from the configuration structs and their doc
// comments by the test TestSchemasAreUpToDate; regenerate them with
//
//	go test ./config -run TestSchemasAreUpToDate -update

//go:embed schema/gitward.schema.json
var repoSchema []byte

//go:embed schema/gitward-server.schema.json
var serverSchema []byte

// RepoSchema returns the JSON Schema (draft 2020-12) of .gitward.yaml, for
// editors and `gitward config schema`. Rules it cannot say, such as unique
// names, are still enforced by ParseRepo; the gitward-specific formats (glob,
// repo-path, git-branch, ssh-allowed-signer, openpgp-fingerprint,
// object-glob) are checked by ParseRepo and are annotations to other tools.
func RepoSchema() []byte { return append([]byte(nil), repoSchema...) }

// ServerSchema returns the JSON Schema (draft 2020-12) of the server
// configuration file.
func ServerSchema() []byte { return append([]byte(nil), serverSchema...) }
