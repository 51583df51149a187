package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated JSON Schemas")

// ordered is a JSON object that keeps its keys in insertion order.
type ordered []kv

type kv struct {
	k string
	v any
}

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(p.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// docComments reads the doc comments of the package's types and fields, keyed
// "Type" and "Type.Field".
func docComments(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	docs := map[string]string{}
	for _, file := range []string{"repo.go", "server.go", "values.go", "glob.go"} {
		f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				docs[ts.Name.Name] = flatten(doc)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fld := range st.Fields.List {
					for _, n := range fld.Names {
						docs[ts.Name.Name+"."+n.Name] = flatten(fld.Doc)
					}
				}
			}
		}
	}
	return docs
}

func flatten(cg *ast.CommentGroup) string {
	if cg == nil {
		return ""
	}
	return strings.Join(strings.Fields(cg.Text()), " ")
}

// schemaGen builds a JSON Schema from configuration structs and their tags.
type schemaGen struct {
	t    *testing.T
	docs map[string]string
	defs map[string]any
}

// extraRules are the cross-field rules a struct tag cannot say.
var extraRules = map[reflect.Type][]kv{
	reflect.TypeOf(IgnoreRule{}): {{"anyOf", []any{
		ordered{{"required", []string{"json_pointers"}}},
		ordered{{"required", []string{"field_managers"}}},
	}}},
	reflect.TypeOf(GitLabHost{}): {{"oneOf", []any{
		ordered{{"required", []string{"token_file"}}},
		ordered{{"required", []string{"token_env"}}},
	}}},
	reflect.TypeOf(Cluster{}): {
		{"if", ordered{{"properties", ordered{{"in_cluster", ordered{{"const", true}}}}}, {"required", []string{"in_cluster"}}}},
		{"then", ordered{{"not", ordered{{"anyOf", []any{
			ordered{{"required", []string{"kubeconfig"}}},
			ordered{{"required", []string{"context"}}},
		}}}}}},
		{"else", ordered{{"required", []string{"kubeconfig"}}}},
	},
}

func generateSchema(t *testing.T, root reflect.Type, title string) []byte {
	g := &schemaGen{t: t, docs: docComments(t), defs: map[string]any{}}
	body := g.object(root)
	out := ordered{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"title", title},
		{"description", g.docs[root.Name()]},
	}
	out = append(out, body...)
	names := make([]string, 0, len(g.defs))
	for n := range g.defs {
		names = append(names, n)
	}
	sort.Strings(names)
	var defs ordered
	for _, n := range names {
		defs = append(defs, kv{n, g.defs[n]})
	}
	out = append(out, kv{"$defs", defs})
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// object is the schema of a struct type, without $schema.
func (g *schemaGen) object(t reflect.Type) ordered {
	si := infoOf(t)
	var props ordered
	var required []string
	for _, fi := range si.fields {
		if fi.typ == secretType {
			continue
		}
		f := t.Field(fi.index)
		s := g.field(fi)
		if d := g.docs[t.Name()+"."+f.Name]; d != "" {
			if rest, ok := strings.CutPrefix(d, f.Name+" "); ok {
				d = fi.key + " " + rest // speak of the key, not the Go field
			}
			s = append(ordered{{"description", d}}, s...)
		} else {
			g.t.Errorf("field %s.%s has no doc comment", t.Name(), f.Name)
		}
		props = append(props, kv{fi.key, s})
		if fi.required {
			required = append(required, fi.key)
		}
	}
	o := ordered{{"type", "object"}, {"additionalProperties", false}, {"properties", props}}
	if len(required) > 0 {
		o = append(o, kv{"required", required})
	}
	return append(o, extraRules[t]...)
}

// field is the schema of one field, constraints included.
func (g *schemaGen) field(fi *fieldInfo) ordered {
	if fi.typ.Kind() == reflect.Slice && !isLeaf(fi.typ) {
		s := ordered{{"type", "array"}, {"items", g.scalar(fi, fi.typ.Elem(), false)}}
		if fi.unique == "true" {
			s = append(s, kv{"uniqueItems", true})
		}
		if fi.minItems > 0 {
			s = append(s, kv{"minItems", fi.minItems})
		}
		return s
	}
	return g.scalar(fi, fi.typ, true)
}

// scalar is the schema of a value of type t under the constraints of fi.
func (g *schemaGen) scalar(fi *fieldInfo, t reflect.Type, withDefault bool) ordered {
	var s ordered
	switch {
	case t == globType:
		g.def("Glob", ordered{{"description", g.docs["Glob"]}, {"type", "string"}, {"minLength", 1}, {"format", "glob"}})
		s = ordered{{"$ref", "#/$defs/Glob"}}
	case t == durationType:
		g.def("Duration", ordered{{"description", g.docs["Duration"]}, {"anyOf", []any{
			ordered{{"type", "string"}, {"pattern", durationPattern}},
			ordered{{"type", "integer"}, {"const", 0}},
		}}})
		s = ordered{{"$ref", "#/$defs/Duration"}}
	case t == byteSizeType:
		g.def("ByteSize", ordered{{"description", g.docs["ByteSize"]}, {"anyOf", []any{
			ordered{{"type", "integer"}, {"minimum", 0}},
			ordered{{"type", "string"}, {"pattern", byteSizePattern}},
		}}})
		s = ordered{{"$ref", "#/$defs/ByteSize"}}
	case t.Kind() == reflect.Struct:
		if _, done := g.defs[t.Name()]; !done {
			g.defs[t.Name()] = nil // break cycles
			g.defs[t.Name()] = append(ordered{{"description", g.docs[t.Name()]}}, g.object(t)...)
		}
		return ordered{{"$ref", "#/$defs/" + t.Name()}}
	case t.Kind() == reflect.String:
		s = ordered{{"type", "string"}}
		if fi.pattern != "" {
			s = append(s, kv{"pattern", patterns[fi.pattern].expr})
		}
		if fi.format != "" {
			s = append(s, kv{"format", fi.format})
		}
	case t.Kind() == reflect.Bool:
		s = ordered{{"type", "boolean"}}
	default:
		s = ordered{{"type", "integer"}}
		if fi.min != "" {
			n, _ := strconv.Atoi(fi.min)
			s = append(s, kv{"minimum", n})
		}
		if fi.max != "" {
			n, _ := strconv.Atoi(fi.max)
			s = append(s, kv{"maximum", n})
		}
	}
	if len(fi.enum) > 0 {
		var vals []any
		for _, e := range fi.enum {
			if n, err := strconv.Atoi(e); err == nil && t.Kind() == reflect.Int {
				vals = append(vals, n)
			} else {
				vals = append(vals, e)
			}
		}
		s = append(s, kv{"enum", vals})
	}
	if withDefault && fi.hasDef {
		v, err := parseString(t, fi.def)
		if err != nil {
			g.t.Fatal(err)
		}
		var def any = fi.def
		switch t.Kind() {
		case reflect.Bool:
			def = v.Bool()
		case reflect.Int, reflect.Int64:
			if !isLeaf(t) {
				def = v.Int()
			}
		}
		s = append(s, kv{"default", def})
	}
	return s
}

func (g *schemaGen) def(name string, s ordered) {
	g.defs[name] = s
}

func TestSchemasAreUpToDate(t *testing.T) {
	for _, tc := range []struct {
		file  string
		typ   reflect.Type
		title string
		have  []byte
	}{
		{"schema/gitward.schema.json", reflect.TypeOf(Repo{}), "gitward repository configuration (.gitward.yaml)", RepoSchema()},
		{"schema/gitward-server.schema.json", reflect.TypeOf(Server{}), "gitward server configuration", ServerSchema()},
	} {
		t.Run(tc.file+" matches the Go types", func(t *testing.T) {
			want := generateSchema(t, tc.typ, tc.title)
			if *update {
				if err := os.WriteFile(tc.file, want, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !bytes.Equal(tc.have, want) {
				t.Errorf("%s is stale: run go test ./config -run TestSchemasAreUpToDate -update", tc.file)
			}
		})
	}
}
