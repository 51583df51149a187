// Package yamlgen makes deterministic pairs of YAML-like texts shaped like
// large rendered CRDs — deep nesting, the same keys and values over and over
// — with a chosen fraction of lines changed, for the diff engine's agreement
// tests with git and its benchmarks.
package yamlgen

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

var words = strings.Fields(`
	the of a to is in for that be this field resource object spec status name
	value type string integer boolean array map list key selector label
	annotation container image port protocol volume mount path secret config
	replica template metadata namespace service account role binding policy
	network ingress egress rule host backend weight timeout retry limit request
	memory cpu storage class claim capacity access mode phase condition reason
	message observed generation update strategy rolling max surge unavailable
	probe liveness readiness startup command args env from ref optional default
	format date time duration pattern minimum maximum items properties required
	description enum nullable preserve unknown fields version served stored
	schema group kind plural singular short names scope cluster namespaced
`)

var types = []string{"string", "string", "string", "integer", "boolean", "object", "array"}

// Document returns n lines of YAML-like text (each ending in "\n") drawn
// from rng.
func Document(rng *rand.Rand, n int) []string {
	g := &gen{rng: rng, n: n}
	g.line(0, "apiVersion: apiextensions.k8s.io/v1")
	g.line(0, "kind: CustomResourceDefinition")
	g.line(0, "metadata:")
	g.line(2, "name: widgets.example.com")
	g.line(0, "spec:")
	g.line(2, "group: example.com")
	g.line(2, "versions:")
	for v := 1; len(g.out) < n; v++ {
		g.line(2, "- name: v"+strconv.Itoa(v))
		g.line(4, "served: true")
		g.line(4, "schema:")
		g.line(6, "openAPIV3Schema:")
		g.line(8, "type: object")
		g.properties(8, 0)
	}
	return g.out[:n]
}

type gen struct {
	rng *rand.Rand
	n   int
	out []string
}

func (g *gen) line(indent int, s string) {
	g.out = append(g.out, strings.Repeat(" ", indent)+s+"\n")
}

func (g *gen) word() string { return words[g.rng.IntN(len(words))] }

func (g *gen) sentence(k int) string {
	ws := make([]string, k)
	for i := range ws {
		ws[i] = g.word()
	}
	return strings.Join(ws, " ")
}

// fieldName draws from a small pool so names repeat across the document.
func (g *gen) fieldName() string {
	a, b := words[g.rng.IntN(40)], words[g.rng.IntN(len(words))]
	return a + strings.ToUpper(b[:1]) + b[1:]
}

func (g *gen) properties(indent, depth int) {
	g.line(indent, "properties:")
	k := 2 + g.rng.IntN(6)
	for i := 0; i < k && len(g.out) < g.n; i++ {
		g.line(indent+2, g.fieldName()+":")
		in := indent + 4
		if g.rng.IntN(3) > 0 {
			g.line(in, "description: "+g.sentence(3+g.rng.IntN(8)))
		}
		t := types[g.rng.IntN(len(types))]
		if depth >= 5 && (t == "object" || t == "array") {
			t = "string"
		}
		g.line(in, "type: "+t)
		switch t {
		case "object":
			if g.rng.IntN(4) == 0 {
				g.line(in, "x-kubernetes-preserve-unknown-fields: true")
			} else {
				g.properties(in, depth+1)
			}
		case "array":
			g.line(in, "items:")
			if g.rng.IntN(2) == 0 {
				g.line(in+2, "type: string")
			} else {
				g.line(in+2, "type: object")
				g.properties(in+2, depth+1)
				g.line(in+2, "required:")
				g.line(in+2, "- name")
			}
		case "string":
			switch g.rng.IntN(5) {
			case 0:
				g.line(in, "format: date-time")
			case 1:
				g.line(in, "enum:")
				for j := 0; j < 2+g.rng.IntN(4); j++ {
					g.line(in, "- "+g.word())
				}
			}
		case "integer":
			g.line(in, "format: int32")
			g.line(in, "default: "+strconv.Itoa(g.rng.IntN(100)))
		}
	}
}

// Change returns a copy of lines in which about frac of them are changed:
// half edited in place, a quarter deleted, and a quarter with a new line
// inserted before them.
func Change(rng *rand.Rand, lines []string, frac float64) []string {
	out := make([]string, 0, len(lines)+len(lines)/8)
	for _, l := range lines {
		if rng.Float64() >= frac {
			out = append(out, l)
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " "))
		switch r := rng.IntN(4); r {
		case 0, 1:
			body := strings.TrimSpace(l)
			if k := strings.LastIndexByte(body, ' '); k > 0 && rng.IntN(2) == 0 {
				body = body[:k+1] + words[rng.IntN(len(words))] + "Changed"
			} else {
				body += " # changed"
			}
			out = append(out, strings.Repeat(" ", indent)+body+"\n")
		case 2:
			// deleted
		default:
			out = append(out, strings.Repeat(" ", indent)+"added"+strconv.Itoa(rng.IntN(1000))+": "+words[rng.IntN(len(words))]+"\n", l)
		}
	}
	return out
}

// Pair returns a document of n lines and a copy with frac of its lines
// changed, the same for the same seed.
func Pair(n int, frac float64, seed uint64) (a, b string) {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	doc := Document(rng, n)
	return strings.Join(doc, ""), strings.Join(Change(rng, doc, frac), "")
}
