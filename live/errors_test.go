package live

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/internal/livetest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func TestForbidden(t *testing.T) {
	c := testCluster(t)
	ns := newNamespace(t, "podinfo")
	admin := writer(t, "kubectl-client-side-apply")
	web := inNS(t, deployment, ns)
	admin.create(web.DeepCopy())

	// A user the API server authenticates (by client certificate) and RBAC
	// grants nothing beyond discovery.
	user, err := livetest.Env(t).AddUser(envtest.User{Name: "gitward-limited"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	limited, err := New(c.Name, user.Config(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}

	plan := func(t *testing.T) *Error {
		t.Helper()
		r, err := Plan(ctx(t), limited, []*unstructured.Unstructured{web}, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Count(Failed) != 1 {
			t.Fatalf("want one failed object, got:\n%s", report(r))
		}
		var e *Error
		if !errors.As(r.Err(), &e) || !e.Forbidden {
			t.Fatalf("want a forbidden *Error, got %#v", r.Err())
		}
		return e
	}

	t.Run("without read access, the error names get", func(t *testing.T) {
		e := plan(t)
		want := `cluster envtest: forbidden: gitward needs get on deployments.apps in namespace ` + ns +
			`; grant it to user "gitward-limited" (to get Deployment.apps ` + ns + `/web)`
		if e.Error() != want {
			t.Errorf("got  %s\nwant %s", e, want)
		}
		if e.Verb != "get" || e.Resource != (schema.GroupResource{Group: "apps", Resource: "deployments"}) || e.Namespace != ns {
			t.Errorf("verb %q resource %v namespace %q", e.Verb, e.Resource, e.Namespace)
		}
	})

	admin.create(inNS(t, `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read-deployments, namespace: NS}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get]
`, ns))
	admin.create(inNS(t, `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: gitward-limited, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-deployments}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: gitward-limited}
`, ns))

	t.Run("with read access only, the dry-run apply needs patch", func(t *testing.T) {
		var e *Error
		for i := 0; ; i++ { // RBAC sees new bindings through an informer
			e = plan(t)
			if e.Verb != "get" || i == 50 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		want := `cluster envtest: forbidden: gitward needs patch on deployments.apps in namespace ` + ns +
			`; grant it to user "gitward-limited" (to dry-run apply Deployment.apps ` + ns + `/web)`
		if e.Error() != want {
			t.Errorf("got  %s\nwant %s", e, want)
		}
	})
}

func TestForbiddenWording(t *testing.T) {
	c := &Cluster{Name: "prod"}
	deployments := schema.GroupResource{Group: "apps", Resource: "deployments"}
	tests := []struct {
		name string
		err  error
		ns   string
		want string
	}{
		{
			"the RBAC authorizer's message gives user, verb and scope",
			apierrors.NewForbidden(deployments, "web", errors.New(`User "system:serviceaccount:gitward:gitward" cannot get resource "deployments" in API group "apps" in the namespace "podinfo"`)),
			"podinfo",
			`cluster prod: forbidden: gitward needs get on deployments.apps in namespace podinfo; grant it to user "system:serviceaccount:gitward:gitward" (to get Deployment.apps podinfo/web)`,
		},
		{
			"cluster-scoped resources are named as such",
			apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "podinfo", errors.New(`User "jane" cannot get resource "namespaces" in API group "" at the cluster scope`)),
			"",
			`cluster prod: forbidden: gitward needs get on namespaces cluster-wide; grant it to user "jane" (to get Deployment.apps podinfo/web)`,
		},
		{
			"another authorizer's message falls back to the request's verb",
			apierrors.NewForbidden(deployments, "web", errors.New("denied by policy")),
			"podinfo",
			`cluster prod: forbidden: gitward needs get on deployments.apps in namespace podinfo (to get Deployment.apps podinfo/web)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := c.wrap(tt.err, "get", "get", deployments, tt.ns, "Deployment.apps podinfo/web")
			if e.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", e, tt.want)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	c, err := New("down", &rest.Config{Host: "https://" + addr}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Drift(ctx(t), c, []*unstructured.Unstructured{obj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: x}}`)}, "")
	var e *Error
	if !errors.As(err, &e) || !e.Unreachable {
		t.Fatalf("want an unreachable *Error, got %#v", err)
	}
	if !strings.HasPrefix(err.Error(), "cluster down is unreachable: ") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("message: %v", err)
	}
}

func TestConnect(t *testing.T) {
	t.Run("a kubeconfig that does not exist names the cluster and file", func(t *testing.T) {
		_, err := Connect(configCluster("prod", "/nonexistent/kubeconfig", "admin@prod"))
		if err == nil || !strings.HasPrefix(err.Error(), "cluster prod: load kubeconfig /nonexistent/kubeconfig, context admin@prod: ") {
			t.Errorf("got %v", err)
		}
	})

	t.Run("a kubeconfig and context reach the cluster", func(t *testing.T) {
		needCluster(t)
		kc, err := clientcmd.Load(livetest.Env(t).KubeConfig)
		if err != nil {
			t.Fatal(err)
		}
		// A second context that points nowhere proves the named one is used.
		kc.Clusters["nowhere"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
		kc.Contexts["nowhere"] = &clientcmdapi.Context{Cluster: "nowhere", AuthInfo: kc.Contexts[kc.CurrentContext].AuthInfo}
		chosen := kc.CurrentContext
		kc.CurrentContext = "nowhere"
		path := filepath.Join(t.TempDir(), "kubeconfig")
		if err := clientcmd.WriteToFile(*kc, path); err != nil {
			t.Fatal(err)
		}
		c, err := Connect(configCluster("test", path, chosen))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(ctx(t)); err != nil {
			t.Fatal(err)
		}
		if c.Timeout != 5*time.Second {
			t.Errorf("timeout %v", c.Timeout)
		}
	})
}

func configCluster(name, kubeconfig, context string) config.Cluster {
	return config.Cluster{Name: name, Kubeconfig: kubeconfig, Context: context, Timeout: config.Duration(5 * time.Second)}
}
