package objects

import (
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// What a hidden value is shown as. Each says what kind of value is hidden;
// the head side of a change marks values that differ from the base, so the
// diff shows which keys changed without showing what they hold.
const (
	hiddenSecret        = "<redacted>"
	hiddenSecretChanged = "<redacted, changed>"
	hiddenSops          = "<encrypted with SOPS>"
	hiddenSopsChanged   = "<encrypted with SOPS, changed>"
	hiddenCipher        = "<ciphertext>"
	hiddenCipherChanged = "<ciphertext, changed>"
	hiddenKey           = "<key that is not a string>"
)

// lastApplied is the annotation kubectl apply writes; on a Secret it holds
// the whole Secret, values included.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// class says which of an object's values must not be shown.
type class struct {
	secret bool // kind Secret, of any group: data and stringData are hidden
	sealed bool // a Bitnami SealedSecret: encryptedData is ciphertext
	sops   bool // SOPS-encrypted: ENC[...] values and the sops block's keys are ciphertext
}

func (c class) any() bool { return c.secret || c.sealed || c.sops }

func classify(id ID, n *yaml.Node) class {
	return class{
		secret: id.Kind == "Secret",
		sealed: id.Kind == "SealedSecret" && id.Group == "bitnami.com",
		sops:   n != nil && isSops(n),
	}
}

// isSops reports whether an object was encrypted with SOPS: it has a
// top-level sops mapping with mac or lastmodified, or any ENC[AES256_GCM,...]
// value.
func isSops(n *yaml.Node) bool {
	if s := lookup(n, "sops"); s != nil && (lookup(s, "mac") != nil || lookup(s, "lastmodified") != nil) {
		return true
	}
	return hasEncValue(n)
}

func hasEncValue(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode {
		return false // followed where it is defined
	}
	if n.Kind == yaml.ScalarNode {
		return isEnc(n.Value)
	}
	for _, c := range n.Content {
		if hasEncValue(c) {
			return true
		}
	}
	return false
}

// isEnc reports whether a value is SOPS ciphertext.
func isEnc(s string) bool {
	return strings.HasPrefix(s, "ENC[AES256_GCM,") && strings.HasSuffix(s, "]")
}

// redact replaces, in place, every value of n that class c hides with a
// placeholder. ref is the other side's normalised, unredacted tree, or nil;
// where ref holds a different value at the same path, the placeholder says
// "changed".
func redact(n, ref *yaml.Node, c class) {
	if !c.any() {
		return
	}
	r := redactor{c: c}
	r.walk(n, ref, nil)
}

type redactor struct{ c class }

func (r *redactor) walk(n, ref *yaml.Node, path []string) {
	if h, changedTo, ok := r.hidden(n, path); ok {
		v := h
		if ref != nil && !nodeEqual(n, ref) {
			v = changedTo
		}
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Line: n.Line}
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				// Kubernetes keys are strings; a key that is a structure
				// could carry anything, so it is not shown.
				*k = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: hiddenKey, Line: k.Line}
			}
			var sub *yaml.Node
			if ref != nil && k.Kind == yaml.ScalarNode {
				sub = lookup(ref, k.Value)
			}
			r.walk(n.Content[i+1], sub, append(path, keyName(k)))
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			var sub *yaml.Node
			if ref != nil && ref.Kind == yaml.SequenceNode && i < len(ref.Content) {
				sub = ref.Content[i]
			}
			r.walk(item, sub, append(path, ""))
		}
	}
}

// hidden decides whether the value at path is hidden, and as what.
func (r *redactor) hidden(n *yaml.Node, path []string) (plain, changed string, ok bool) {
	if n.Kind == yaml.ScalarNode && isEnc(n.Value) {
		return hiddenSops, hiddenSopsChanged, true
	}
	c := r.c
	switch {
	case c.secret && len(path) >= 1 && len(path) <= 2 && (path[0] == "data" || path[0] == "stringData"):
		// Each value of data and stringData; the whole field when it is not
		// a mapping of values.
		if len(path) == 2 || (n.Kind != yaml.MappingNode && !isNull(n)) {
			return hiddenSecret, hiddenSecretChanged, true
		}
	case c.secret && len(path) == 3 && path[0] == "metadata" && path[1] == "annotations" && path[2] == lastApplied:
		return hiddenSecret, hiddenSecretChanged, true
	case c.sealed && len(path) >= 2 && len(path) <= 3 && path[0] == "spec" && path[1] == "encryptedData":
		if len(path) == 3 || (n.Kind != yaml.MappingNode && !isNull(n)) {
			return hiddenCipher, hiddenCipherChanged, true
		}
	case c.sealed && len(path) == 2 && path[0] == "spec" && path[1] == "data" && !isNull(n):
		return hiddenCipher, hiddenCipherChanged, true // the pre-v0.6 single ciphertext blob
	case c.sops && len(path) >= 2 && path[0] == "sops" && path[len(path)-1] == "enc":
		return hiddenCipher, hiddenCipherChanged, true // a data key encrypted for one recipient
	}
	return "", "", false
}

// SecretChange lists, by key, how the hidden values of a secret-bearing
// object changed. Values are compared but never shown, nor any digest of
// them.
type SecretChange struct {
	Added   []string
	Removed []string
	Changed []string
}

// hiddenValues collects the values an object hides, by key: for a Secret the
// keys of data and stringData, for a SealedSecret those of
// spec.encryptedData, and for other SOPS-encrypted objects the path of each
// encrypted value.
func hiddenValues(n *yaml.Node, c class) map[string][]*yaml.Node {
	vals := map[string][]*yaml.Node{}
	if n == nil {
		return vals
	}
	addMap := func(m *yaml.Node, whole string) {
		switch {
		case m == nil || isNull(m):
		case m.Kind != yaml.MappingNode:
			vals[whole] = append(vals[whole], m)
		default:
			for i := 0; i+1 < len(m.Content); i += 2 {
				k := keyName(m.Content[i])
				vals[k] = append(vals[k], m.Content[i+1])
			}
		}
	}
	switch {
	case c.secret:
		addMap(lookup(n, "data"), "data")
		addMap(lookup(n, "stringData"), "stringData")
	case c.sealed:
		addMap(lookup(lookup(n, "spec"), "encryptedData"), "encryptedData")
	case c.sops:
		var walk func(n *yaml.Node, path []string)
		walk = func(n *yaml.Node, path []string) {
			switch n.Kind {
			case yaml.ScalarNode:
				if isEnc(n.Value) {
					p := joinPath(path)
					vals[p] = append(vals[p], n)
				}
			case yaml.MappingNode:
				for i := 0; i+1 < len(n.Content); i += 2 {
					k := keyName(n.Content[i])
					if len(path) == 0 && k == "sops" {
						continue
					}
					walk(n.Content[i+1], append(path, k))
				}
			case yaml.SequenceNode:
				for i, item := range n.Content {
					walk(item, append(path, "["+strconv.Itoa(i)+"]"))
				}
			}
		}
		walk(n, nil)
	}
	return vals
}

func secretChange(base, head *yaml.Node, c class) *SecretChange {
	b, h := hiddenValues(base, c), hiddenValues(head, c)
	s := &SecretChange{}
	for k, hv := range h {
		bv, ok := b[k]
		switch {
		case !ok:
			s.Added = append(s.Added, k)
		case !valuesEqual(bv, hv):
			s.Changed = append(s.Changed, k)
		}
	}
	for k := range b {
		if _, ok := h[k]; !ok {
			s.Removed = append(s.Removed, k)
		}
	}
	sort.Strings(s.Added)
	sort.Strings(s.Removed)
	sort.Strings(s.Changed)
	return s
}

func valuesEqual(a, b []*yaml.Node) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !nodeEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// SecretFinding is a Secret that carries plaintext values: its identity,
// where it is in the stream, and the keys that hold plaintext. It never holds
// a value.
type SecretFinding struct {
	ID   ID
	Doc  int
	Line int
	Keys []string
}

// PlaintextSecrets finds the Secrets of a rendered stream that carry
// plaintext: a Secret (kind Secret, any group) whose data or stringData has a
// non-empty value that is not SOPS ciphertext. SealedSecrets,
// ExternalSecrets and SOPS-encrypted Secrets pass; a SOPS file that leaves a
// data key unencrypted does not. Empty values hold nothing and do not count.
// A stream that does not parse, or a Secret that names a key twice, is an
// error, so that the rule fails closed.
func PlaintextSecrets(stream []byte) ([]SecretFinding, error) {
	objs, err := Parse(stream)
	if err != nil {
		return nil, err
	}
	var out []SecretFinding
	for _, o := range objs {
		if o.ID.Kind != "Secret" {
			continue
		}
		n, err := normalize(o)
		if err != nil {
			return nil, err
		}
		keys := map[string]bool{}
		for _, field := range []string{"data", "stringData"} {
			m := lookup(n, field)
			switch {
			case m == nil || isNull(m):
			case m.Kind != yaml.MappingNode:
				keys[field] = true
			default:
				for i := 0; i+1 < len(m.Content); i += 2 {
					if plaintext(m.Content[i+1]) {
						keys[keyName(m.Content[i])] = true
					}
				}
			}
		}
		if len(keys) == 0 {
			continue
		}
		f := SecretFinding{ID: o.ID, Doc: o.Doc, Line: o.Line}
		for k := range keys {
			f.Keys = append(f.Keys, k)
		}
		sort.Strings(f.Keys)
		out = append(out, f)
	}
	return out, nil
}

func plaintext(v *yaml.Node) bool {
	if v.Kind != yaml.ScalarNode {
		return true
	}
	return !isNull(v) && v.Value != "" && !isEnc(v.Value)
}
