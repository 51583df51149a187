package live

import (
	"encoding/base64"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// lastApplied is the annotation client-side kubectl apply keeps, and the API
// server updates on server-side applies to objects that carry it. It repeats
// the object (on a Secret, its values), so it is never compared.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// bookkeeping lists the metadata fields the API server sets on every write.
// They differ between a dry-run result and the live object, or say nothing
// about what git asked for.
var bookkeeping = []string{
	"managedFields", "resourceVersion", "generation", "uid",
	"creationTimestamp", "selfLink",
}

// forApply returns the copy of a rendered object that is dry-run applied:
// in its namespace, without bookkeeping or status a `kubectl get -o yaml`
// copy may carry (a resourceVersion would make the apply conditional), and
// for a core Secret with stringData folded into data as the API server does
// on write, so that both sides hold data.
func forApply(obj *unstructured.Unstructured, namespace string) *unstructured.Unstructured {
	u := obj.DeepCopy()
	u.SetNamespace(namespace)
	for _, f := range bookkeeping {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(u.Object, "status")
	if isCoreSecret(u) {
		foldStringData(u.Object)
	}
	return u
}

// comparable returns the parts of an object that a difference is reported
// in: everything but status, the metadata bookkeeping and the
// last-applied annotation. The dry-run result and the live object are both
// defaulted by the server, so defaults need no special treatment.
func comparable(obj *unstructured.Unstructured) map[string]any {
	u := obj.DeepCopy()
	for _, f := range bookkeeping {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(u.Object, "status")
	if ann := u.GetAnnotations(); ann != nil {
		if _, ok := ann[lastApplied]; ok {
			unstructured.RemoveNestedField(u.Object, "metadata", "annotations", lastApplied)
			if len(ann) == 1 {
				unstructured.RemoveNestedField(u.Object, "metadata", "annotations")
			}
		}
	}
	return u.Object
}

// foldStringData moves a Secret's stringData into data, base64-encoded,
// stringData winning for a key in both.
func foldStringData(obj map[string]any) {
	sd, ok := obj["stringData"].(map[string]any)
	if !ok {
		return
	}
	for _, v := range sd {
		if _, ok := v.(string); !ok {
			return // not what the API server accepts; it will say so
		}
	}
	data, _ := obj["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		data[k] = base64.StdEncoding.EncodeToString([]byte(v.(string)))
	}
	obj["data"] = data
	delete(obj, "stringData")
}

func isCoreSecret(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Secret"
}
