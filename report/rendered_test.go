package report_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/render/objects"
	"github.com/gitward/gitward/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; run go test ./report -update and review the diff.\n--- got ---\n%s", name, got)
	}
}

const baseStream = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: podinfo
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.5.0
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: podinfo
data:
  password: aHVudGVyMg==
  user: YWRtaW4=
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: old
  namespace: podinfo
data:
  a: "1"
`

const headStream = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: podinfo
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.6.0
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: podinfo
stringData:
  password: correct-horse-battery-staple
  token: s3cr3t-t0ken
---
apiVersion: v1
kind: Service
metadata:
  name: podinfo
  namespace: podinfo
spec:
  ports:
    - port: 9898
`

func sampleDiff(t *testing.T) report.RenderedDiff {
	t.Helper()
	d, err := objects.Diff([]byte(baseStream), []byte(headStream), objects.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return report.RenderedDiff{
		BaseSHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
		HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
		Apps: []report.AppDiff{
			{Name: "apps/podinfo", Path: "apps/podinfo", Diff: d},
			{Name: "apps/broken", Path: "apps/broken", Failure: "accumulating resources: open apps/broken/missing.yaml: no such file or directory", FailedAt: "head", FailureFile: "apps/broken/kustomization.yaml", FailureLine: 4},
			{Name: "apps/quiet", Path: "apps/quiet", Diff: &objects.AppDiff{}},
		},
	}
}

func TestRenderedDiffComment(t *testing.T) {
	d := sampleDiff(t)
	header, sections := report.RenderedDiffComment(d)
	bodies := report.Split(sticky.Marker, header, sections, 65536)
	if len(bodies) != 1 {
		t.Fatalf("got %d parts", len(bodies))
	}
	for _, secret := range []string{"hunter2", "aHVudGVyMg", "correct-horse", "s3cr3t-t0ken", "YWRtaW4", "admin"} {
		if strings.Contains(bodies[0], secret) {
			t.Errorf("the comment shows the secret value %q", secret)
		}
	}
	golden(t, "rendered-diff.md", bodies[0])
}

func TestRenderedDiffCommentWithoutApps(t *testing.T) {
	header, sections := report.RenderedDiffComment(report.RenderedDiff{BaseSHA: "aaaaaaaa", HeadSHA: "bbbbbbbb"})
	if len(sections) != 0 || !strings.Contains(header, "no app renders differently") {
		t.Errorf("header %q, %d sections", header, len(sections))
	}
}

func TestDiffCheck(t *testing.T) {
	d := sampleDiff(t)
	run := report.DiffCheck(forge.CheckRun{Name: report.DiffCheckName}, d)
	if run.Conclusion != forge.ConclusionFailure {
		t.Errorf("conclusion %s, want failure while an app does not render at head", run.Conclusion)
	}
	if len(run.Annotations) != 1 || run.Annotations[0].Path != "apps/broken/kustomization.yaml" || run.Annotations[0].StartLine != 4 {
		t.Errorf("annotations = %+v", run.Annotations)
	}
	golden(t, "diff-check.md", run.Title+"\n\n"+run.Summary)

	d.Apps[1].FailedAt = "base"
	if run := report.DiffCheck(forge.CheckRun{}, d); run.Conclusion != forge.ConclusionSuccess || len(run.Annotations) != 0 {
		t.Errorf("a failure at base only gave %s with %d annotations, want success", run.Conclusion, len(run.Annotations))
	}
	if run := report.DiffCheck(forge.CheckRun{}, report.RenderedDiff{}); run.Conclusion != forge.ConclusionSuccess {
		t.Errorf("no affected apps gave %s", run.Conclusion)
	}
}
