package live

import (
	"encoding/base64"
	"errors"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// hidesValues reports whether an object's data and stringData values are
// secret: kind Secret of any group, the rule render/objects applies too.
func hidesValues(u *unstructured.Unstructured) bool {
	return u.GetKind() == "Secret"
}

// minScrubbed is the shortest value scrubbed from error messages; shorter
// ones would mangle the message and tell little.
const minScrubbed = 4

// scrub returns err with every value of the Secret obj, as written and
// base64-decoded, replaced by <redacted>. The API server's messages do not
// quote Secret values today; this keeps it so if one ever does. The result
// does not wrap err, whose text still holds the values.
func scrub(err error, obj *unstructured.Unstructured) error {
	if err == nil || !hidesValues(obj) {
		return err
	}
	var values []string
	for _, field := range []string{"data", "stringData"} {
		m, _ := obj.Object[field].(map[string]any)
		for _, v := range m {
			s, ok := v.(string)
			if !ok {
				continue
			}
			values = append(values, s)
			if d, err := base64.StdEncoding.DecodeString(s); err == nil {
				values = append(values, string(d))
			}
		}
	}
	// Longest first, so that a value containing another goes whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	redact := func(msg string) string {
		for _, v := range values {
			if len(v) >= minScrubbed {
				msg = strings.ReplaceAll(msg, v, "<redacted>")
			}
		}
		return msg
	}
	// An API status keeps its reason and causes, so that it is still
	// classified and can be told briefly (Error.Reason).
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		orig := st.Status()
		s := *orig.DeepCopy()
		s.Message = redact(s.Message)
		if s.Details != nil {
			for i := range s.Details.Causes {
				s.Details.Causes[i].Message = redact(s.Details.Causes[i].Message)
			}
		}
		return &apierrors.StatusError{ErrStatus: s}
	}
	return errors.New(redact(err.Error()))
}

// isSops reports whether a rendered object is SOPS-encrypted: it has a
// top-level sops mapping, or a value that is SOPS ciphertext. Its values in
// the cluster are the decrypted ones, so comparing would only report noise.
func isSops(u *unstructured.Unstructured) bool {
	if s, ok := u.Object["sops"].(map[string]any); ok && (s["mac"] != nil || s["lastmodified"] != nil) {
		return true
	}
	return hasEnc(u.Object)
}

func hasEnc(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.HasPrefix(v, "ENC[AES256_GCM,") && strings.HasSuffix(v, "]")
	case map[string]any:
		for _, c := range v {
			if hasEnc(c) {
				return true
			}
		}
	case []any:
		for _, c := range v {
			if hasEnc(c) {
				return true
			}
		}
	}
	return false
}
