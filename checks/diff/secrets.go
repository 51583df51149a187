package diff

import (
	"bufio"
	"bytes"
	"context"
	"path"
	"sort"
	"strings"

	"github.com/gitward/gitward/render"
	"github.com/gitward/gitward/render/objects"
)

// SecretSource is a rendered Secret with plaintext values, traced back to
// the file in the repository it most likely comes from. It never holds a
// value.
type SecretSource struct {
	App string
	// File and Line locate the source: the manifest declaring the Secret,
	// or the kustomization whose secretGenerator makes it; the app's
	// kustomization (line 0) when neither is found.
	File string
	Line int
	// Object names the Secret, as "Secret namespace/name".
	Object string
	Keys   []string
	// Unchecked is set when the app could not be rendered or read, so
	// nothing in it was checked; Object then says why.
	Unchecked bool
}

// PlaintextSecrets renders, at head, the apps the change affects and
// returns their Secrets that carry plaintext. An app that does not render at
// head cannot be checked: it is returned as a finding that says so, so the
// rule fails closed.
func (e *Engine) PlaintextSecrets(ctx context.Context, in *Inputs) ([]SecretSource, error) {
	p, err := in.planned()
	if err != nil {
		return nil, err
	}
	headGraph := p.head
	headTree := headGraph.Tree()
	var out []SecretSource
	for _, t := range p.targets {
		if !t.AtHead {
			continue
		}
		res, err := e.Renderer.Render(ctx, headGraph, t.App)
		if err != nil {
			return nil, err
		}
		kfile := kustomizationFile(headTree, t.App.Path)
		if res.Err != nil {
			out = append(out, SecretSource{App: t.App.Name, File: kfile, Unchecked: true,
				Object: "the rendered manifests of " + t.App.Name + " (they do not render at head, so they cannot be checked for plaintext Secrets)"})
			continue
		}
		found, err := objects.PlaintextSecrets(res.YAML)
		if err != nil {
			out = append(out, SecretSource{App: t.App.Name, File: kfile, Unchecked: true,
				Object: "the rendered manifests of " + t.App.Name + " (they cannot be read: " + err.Error() + ")"})
			continue
		}
		for _, s := range found {
			src := SecretSource{App: t.App.Name, Object: describe(s.ID), Keys: s.Keys}
			src.File, src.Line = locate(headTree, headGraph.Files(t.App), s.ID.Name, kfile)
			out = append(out, src)
		}
	}
	return out, nil
}

func describe(id objects.ID) string {
	if id.Namespace == "" {
		return "Secret " + id.Name
	}
	return "Secret " + id.Namespace + "/" + id.Name
}

// kustomizationFile names the kustomization file of an app directory.
func kustomizationFile(t *render.Tree, dir string) string {
	for _, name := range render.KustomizationFileNames {
		p := path.Join(dir, name)
		if _, err := t.ReadFile(p); err == nil {
			return p
		}
	}
	return path.Join(dir, "kustomization.yaml")
}

// locate finds the source of a rendered Secret among the files its app
// reads: first a manifest document of kind Secret whose name is the
// rendered name or a part of it (namePrefix and nameSuffix change names),
// then a kustomization whose secretGenerator makes it (generated names end
// in a content hash). It is a best effort: kustomize does not say where an
// object came from unless asked to annotate every object, which would
// change the output gitward must keep identical to the CLI's.
func locate(t *render.Tree, files []string, rendered, fallback string) (string, int) {
	sort.Strings(files)
	bestFile, bestLine, bestLen := "", 0, 0
	for _, f := range files {
		if !strings.HasSuffix(f, ".yaml") && !strings.HasSuffix(f, ".yml") && path.Base(f) != "Kustomization" {
			continue
		}
		data, err := t.ReadFile(f)
		if err != nil {
			continue
		}
		for _, d := range secretDocs(data) {
			if d.name != "" && strings.Contains(rendered, d.name) && len(d.name) > bestLen {
				bestFile, bestLine, bestLen = f, d.line, len(d.name)
			}
		}
		for _, g := range generatorNames(data) {
			if strings.HasPrefix(rendered, g.name) || strings.Contains(rendered, g.name+"-") {
				if len(g.name) > bestLen {
					bestFile, bestLine, bestLen = f, g.line, len(g.name)
				}
			}
		}
	}
	if bestFile == "" {
		return fallback, 0
	}
	return bestFile, bestLine
}

type namedLine struct {
	name string
	line int
}

// secretDocs finds "kind: Secret" documents and their metadata.name, by
// line, without a YAML parser: the source may hold Flux ${VAR} strings and
// other things that are not valid YAML until kustomize or Flux handles them.
func secretDocs(data []byte) []namedLine {
	var out []namedLine
	var kindLine int
	var isSecret, inMeta bool
	name := ""
	flush := func() {
		if isSecret {
			out = append(out, namedLine{name, kindLine})
		}
		isSecret, inMeta, name, kindLine = false, false, "", 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "---"):
			flush()
		case line == "kind: Secret" || strings.HasPrefix(line, "kind: Secret ") || line == `kind: "Secret"`:
			isSecret, kindLine = true, n
		case line == "metadata:":
			inMeta = true
		case inMeta && strings.HasPrefix(line, "  name:"):
			name = strings.Trim(strings.TrimSpace(strings.TrimPrefix(trimmed, "name:")), `"'`)
		case len(line) > 0 && line[0] != ' ' && line[0] != '#':
			inMeta = false
		}
	}
	flush()
	return out
}

// generatorNames finds the names under secretGenerator in a kustomization.
func generatorNames(data []byte) []namedLine {
	var out []namedLine
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "secretGenerator:"):
			in = true
		case in && len(line) > 0 && line[0] != ' ' && line[0] != '-' && line[0] != '#':
			in = false
		case in:
			t := strings.TrimSpace(line)
			t = strings.TrimPrefix(t, "- ")
			if strings.HasPrefix(t, "name:") {
				out = append(out, namedLine{strings.Trim(strings.TrimSpace(strings.TrimPrefix(t, "name:")), `"'`), n})
			}
		}
	}
	return out
}
