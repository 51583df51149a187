package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Error is a request to a cluster that failed. Its message names the
// cluster and the object, says when the cluster could not be reached, and,
// when RBAC refused the request, names the verb and resource gitward needs.
type Error struct {
	Cluster string
	// Op is what gitward was doing, like "dry-run apply".
	Op string
	// Object names the object, like "Deployment.apps podinfo/web"; "" when
	// the request was about the cluster, not an object.
	Object string
	// Unreachable is set when no answer came: refused connection, DNS
	// failure, timeout.
	Unreachable bool
	// Unauthorized is set when the cluster refused gitward's credentials.
	Unauthorized bool
	// Forbidden is set when RBAC refused the request; Verb, Resource and
	// Namespace then say what permission is missing ("" namespace:
	// cluster-wide), and User whom the cluster took gitward for, when it said.
	Forbidden bool
	Verb      string
	Resource  schema.GroupResource
	Namespace string
	User      string
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster %s", e.Cluster)
	switch {
	case e.Forbidden:
		b.WriteString(": ")
		b.WriteString(e.missing())
		if e.User != "" {
			fmt.Fprintf(&b, "; grant it to user %q", e.User)
		}
		if e.Object != "" {
			fmt.Fprintf(&b, " (to %s %s)", e.Op, e.Object)
		}
		return b.String()
	case e.Unreachable:
		fmt.Fprintf(&b, " is unreachable: %v", e.Err)
		return b.String()
	case e.Unauthorized:
		fmt.Fprintf(&b, ": the API server refused gitward's credentials; check the kubeconfig or service account token: %v", e.Err)
		return b.String()
	}
	b.WriteString(": ")
	b.WriteString(e.Op)
	if e.Object != "" {
		b.WriteString(" ")
		b.WriteString(e.Object)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// missing says, for a forbidden request, which permission gitward lacks.
func (e *Error) missing() string {
	where := " cluster-wide"
	if e.Namespace != "" {
		where = " in namespace " + e.Namespace
	}
	return fmt.Sprintf("forbidden: gitward needs %s on %s%s", e.Verb, e.Resource, where)
}

// Reason says briefly why the request failed, without naming the cluster
// or the object, for a one-line title such as "spec.replicas: Invalid
// value: -1: must be greater than or equal to 0". Error says it in full.
func (e *Error) Reason() string {
	switch {
	case e.Forbidden:
		return e.missing()
	case e.Unreachable:
		return "the cluster is unreachable"
	case e.Unauthorized:
		return "the API server refused gitward's credentials"
	}
	var st apierrors.APIStatus
	if errors.As(e.Err, &st) && st.Status().Details != nil {
		var causes []string
		for _, c := range st.Status().Details.Causes {
			if c.Field != "" {
				causes = append(causes, c.Field+": "+c.Message)
			} else if c.Message != "" {
				causes = append(causes, c.Message)
			}
		}
		if len(causes) > 0 {
			return strings.Join(causes, "; ")
		}
	}
	return e.Err.Error()
}

// forbiddenMessage is how the RBAC authorizer words a refusal, for example
// `User "jane" cannot get resource "deployments" in API group "apps" in the
// namespace "podinfo"`. The verb it names is the one the server checked,
// which for an apply that creates an object may differ from the request's.
var forbiddenMessage = regexp.MustCompile(`User "([^"]*)" cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]*)")?`)

// wrap classifies err from a request gitward made: op and object for the
// message; verb, resource and namespace are the request's, used when RBAC
// refused it and the server's message does not say more precisely.
func (c *Cluster) wrap(err error, op, verb string, gr schema.GroupResource, namespace, object string) *Error {
	e := &Error{Cluster: c.Name, Op: op, Object: object, Err: err}
	switch {
	case apierrors.IsForbidden(err):
		e.Forbidden, e.Verb, e.Resource, e.Namespace = true, verb, gr, namespace
		if m := forbiddenMessage.FindStringSubmatch(err.Error()); m != nil {
			e.User, e.Verb, e.Namespace = m[1], m[2], m[5]
			e.Resource = schema.GroupResource{Group: m[4], Resource: m[3]}
		}
	case apierrors.IsUnauthorized(err):
		e.Unauthorized = true
	case unreachable(err):
		e.Unreachable = true
	}
	return e
}

// unreachable reports whether err says the request got no answer.
func unreachable(err error) bool {
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}
