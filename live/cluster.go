package live

import (
	"context"
	"time"

	"github.com/gitward/gitward/config"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// FieldManager is the field manager gitward dry-runs its applies as.
const FieldManager = "gitward"

// DefaultConcurrency is how many objects are read and dry-run at once when
// Cluster.Concurrency is not set, the server configuration's default.
const DefaultConcurrency = 4

// Cluster is a connection to one Kubernetes cluster: a dynamic client, and a
// RESTMapper from discovery that maps kinds to resources and says whether
// they are namespaced. It is safe for concurrent use.
type Cluster struct {
	// Name identifies the cluster in errors and reports.
	Name string
	// FieldManager is the manager dry-run applies are made as; "" means
	// FieldManager. Dry-running as the deploying tool's manager (for Flux,
	// kustomize-controller) also shows the fields an apply would remove.
	FieldManager string
	// Concurrency bounds the objects read and dry-run at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// Timeout bounds each request; 0 means none beyond the context's.
	Timeout time.Duration

	dyn    dynamic.Interface
	disc   discovery.DiscoveryInterface
	mapper meta.ResettableRESTMapper
}

// Connect makes a client for a cluster of the server configuration: from
// its kubeconfig file and context, or from the pod's service account. It
// does not contact the cluster; the first Plan or Drift does.
func Connect(c config.Cluster) (*Cluster, error) {
	var cfg *rest.Config
	var err error
	if c.InCluster {
		cfg, err = rest.InClusterConfig()
	} else {
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: c.Kubeconfig}
		overrides := &clientcmd.ConfigOverrides{CurrentContext: c.Context}
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	}
	if err != nil {
		how := "kubeconfig " + c.Kubeconfig
		if c.Context != "" {
			how += ", context " + c.Context
		}
		if c.InCluster {
			how = "in-cluster service account"
		}
		return nil, &Error{Cluster: c.Name, Op: "load " + how, Err: err}
	}
	return New(c.Name, cfg, time.Duration(c.Timeout))
}

// New makes a client for the cluster that cfg reaches; name labels errors.
func New(name string, cfg *rest.Config, timeout time.Duration) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	if timeout > 0 {
		cfg.Timeout = timeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "gitward"
	}
	// client-go's default of 5 requests a second would make a plan of 200
	// objects (two requests each) take over a minute.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, &Error{Cluster: name, Op: "make a client", Err: err}
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, &Error{Cluster: name, Op: "make a discovery client", Err: err}
	}
	cached := memory.NewMemCacheClient(dc)
	return &Cluster{
		Name:    name,
		Timeout: timeout,
		dyn:     dyn,
		disc:    dc,
		mapper:  restmapper.NewDeferredDiscoveryRESTMapper(cached),
	}, nil
}

func (c *Cluster) fieldManager() string {
	if c.FieldManager != "" {
		return c.FieldManager
	}
	return FieldManager
}

func (c *Cluster) concurrency() int {
	if c.Concurrency > 0 {
		return c.Concurrency
	}
	return DefaultConcurrency
}

// Ping asks the cluster for its version: the cheapest request that says
// whether the cluster is reachable and accepts gitward's credentials.
func (c *Cluster) Ping(ctx context.Context) error {
	ctx, cancel := c.requestContext(ctx)
	defer cancel()
	err := c.disc.RESTClient().Get().AbsPath("/version").Do(ctx).Error()
	if err != nil {
		return c.wrap(err, "reach the API server", "get", schema.GroupResource{}, "", "")
	}
	return nil
}

// requestContext bounds one request by the cluster's timeout.
func (c *Cluster) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.Timeout > 0 {
		return context.WithTimeout(ctx, c.Timeout)
	}
	return context.WithCancel(ctx)
}

// mapping is how one kind is served: its resource and scope.
type mapping struct {
	gvr        schema.GroupVersionResource
	namespaced bool
}

// resolve maps a kind to its resource. A kind the cluster does not serve is
// reported with meta.IsNoMatchError true.
func (c *Cluster) resolve(gvk schema.GroupVersionKind) (mapping, error) {
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return mapping{}, err
	}
	return mapping{gvr: m.Resource, namespaced: m.Scope.Name() == meta.RESTScopeNameNamespace}, nil
}

// resource returns the client for a resource in a namespace ("" for
// cluster-scoped resources).
func (c *Cluster) resource(m mapping, namespace string) dynamic.ResourceInterface {
	r := c.dyn.Resource(m.gvr)
	if m.namespaced {
		return r.Namespace(namespace)
	}
	return r
}
