package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/gitward/gitward/report/markdown"
)

// The strict decoder below reads a yaml.Node tree into the configuration
// structs, driven by their struct tags, so that every problem carries the
// line, column and key path where it was written. The same tags drive the
// JSON Schemas (see schema_gen_test.go), the defaults and the environment
// overrides:
//
//	yaml:"key"          the key in the file (json tags repeat it)
//	default:"v"         the default, in the syntax of an environment value
//	required:"true"     the key must be present
//	enum:"a,b"          the allowed values
//	min:"n" max:"n"     bounds for integers, durations and sizes
//	zero:"off"          0 is also allowed, meaning off, whatever min says
//	pattern:"name"      a named pattern from the patterns table
//	format:"name"       a named check from the formats table
//	minItems:"n"        a list needs at least n items
//	unique:"true|key"   list items, or the given key of list items, are unique
//	env:"NAME"          GITWARD_* variable that overrides the value (server only)
//	secret:"NAME"       a Secret: the key is refused in files; NAME is its variable
//	file:"key"          for a Secret, the sibling key naming a file that holds it
//	envkey:"key"        for a Secret, the sibling key naming a variable that holds it
//	hint:"text"         added to the message when a required key is missing
//
// Constraints on a list field (pattern, format, enum, min, max) apply to its items.

// maxConfigBytes bounds the size of a configuration file.
const maxConfigBytes = 1 << 20

// maxNodes bounds the nodes one parse visits, aliases expanded.
const maxNodes = 100000

var (
	globType     = reflect.TypeOf(Glob{})
	durationType = reflect.TypeOf(Duration(0))
	byteSizeType = reflect.TypeOf(ByteSize(0))
	secretType   = reflect.TypeOf(Secret{})
)

// isLeaf reports whether t is decoded from one scalar even though it may be a struct.
func isLeaf(t reflect.Type) bool {
	return t == globType || t == durationType || t == byteSizeType || t == secretType
}

// namedPattern is a regular expression with the words that explain it.
type namedPattern struct {
	re   *regexp.Regexp
	expr string
	says string
}

func newPattern(expr, says string) namedPattern {
	return namedPattern{re: regexp.MustCompile(expr), expr: expr, says: says}
}

// patterns are the string shapes a pattern tag can name.
var patterns = map[string]namedPattern{
	"name": newPattern(`^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$`,
		"a name of lower-case letters, digits, '-', '.' and '_', starting and ending with a letter or digit, at most 63 characters"),
	"namespace": newPattern(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`,
		"a Kubernetes namespace name (lower-case letters, digits and '-', at most 63 characters)"),
	"login": newPattern(`^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$`,
		"a user login without @, like octocat"),
	"team": newPattern(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`,
		"a team slug like sre or org/sre (a group path on GitLab), without @"),
	"label": newPattern(`^[^,\r\n]{1,50}$`,
		"a label of 1 to 50 characters without commas or line breaks"),
	"envname": newPattern(`^[A-Za-z_][A-Za-z0-9_]*$`,
		"an environment variable name"),
	"context": newPattern(`^[^\r\n]+$`,
		"a kubeconfig context name"),
}

// formats are the checks a format tag can name; each returns why a value is bad.
var formats = map[string]func(string) error{
	"glob":                func(s string) error { _, err := ParseGlob(s); return err },
	"object-glob":         checkObjectGlob,
	"repo-path":           checkRepoPath,
	"json-pointer":        checkJSONPointer,
	"git-branch":          checkBranchName,
	"ssh-allowed-signer":  checkAllowedSigner,
	"openpgp-fingerprint": func(s string) error { _, err := NormalizeFingerprint(s); return err },
	"url":                 checkURL,
	"file-path":           checkFilePath,
	"listen-address":      checkListenAddress,
}

// fieldInfo is what the tags say about one struct field.
type fieldInfo struct {
	index    int
	key      string
	typ      reflect.Type
	def      string
	hasDef   bool
	required bool
	enum     []string
	min, max string
	zeroOff  bool
	pattern  string
	format   string
	minItems int
	unique   string
	env      string
	secret   string
	file     string
	envKey   string
	hint     string
}

type structInfo struct {
	fields []*fieldInfo
	byKey  map[string]*fieldInfo
}

var structInfos sync.Map // reflect.Type → *structInfo

// infoOf reads the tags of struct type t once.
func infoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byKey: map[string]*fieldInfo{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if key == "" || key == "-" || !f.IsExported() {
			continue
		}
		fi := &fieldInfo{index: i, key: key, typ: f.Type}
		fi.def, fi.hasDef = f.Tag.Lookup("default")
		fi.required = f.Tag.Get("required") == "true"
		if e := f.Tag.Get("enum"); e != "" {
			fi.enum = strings.Split(e, ",")
		}
		fi.min, fi.max = f.Tag.Get("min"), f.Tag.Get("max")
		fi.zeroOff = f.Tag.Get("zero") == "off"
		fi.pattern, fi.format = f.Tag.Get("pattern"), f.Tag.Get("format")
		if fi.pattern != "" {
			if _, ok := patterns[fi.pattern]; !ok {
				panic("config: unknown pattern " + fi.pattern)
			}
		}
		if fi.format != "" && formats[fi.format] == nil {
			panic("config: unknown format " + fi.format)
		}
		if m := f.Tag.Get("minItems"); m != "" {
			fi.minItems, _ = strconv.Atoi(m)
		}
		fi.unique, fi.env, fi.hint = f.Tag.Get("unique"), f.Tag.Get("env"), f.Tag.Get("hint")
		fi.secret, fi.file, fi.envKey = f.Tag.Get("secret"), f.Tag.Get("file"), f.Tag.Get("envkey")
		si.fields = append(si.fields, fi)
		si.byKey[key] = fi
	}
	structInfos.Store(t, si)
	return si
}

// place is where a value came from.
type place struct {
	file      string
	line, col int
}

// decoder reads one file into a configuration struct, collecting problems.
type decoder struct {
	file   string
	errs   Errors
	pos    map[string]place // key path → where its value is written
	budget int
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]place{}, budget: maxNodes}
}

// add records a problem at node n.
func (d *decoder) add(n *yaml.Node, path, msg string) {
	if d.budget <= 0 {
		return // only the budget problem is worth reading now
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Path: path, Msg: msg})
}

// addAt records a problem at the place of path, or of its nearest ancestor.
func (d *decoder) addAt(path, msg string) {
	if d.budget <= 0 {
		return
	}
	p := path
	for {
		if pl, ok := d.pos[p]; ok {
			d.errs = append(d.errs, &Error{File: pl.file, Line: pl.line, Column: pl.col, Path: path, Msg: msg})
			return
		}
		if p == "" {
			d.errs = append(d.errs, &Error{File: d.file, Path: path, Msg: msg})
			return
		}
		p = parentPath(p)
	}
}

func (d *decoder) mark(path string, n *yaml.Node) {
	d.pos[path] = place{file: d.file, line: n.Line, col: n.Column}
}

// parentPath drops the last key or index from a key path.
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// readDocument parses data as one YAML document. It returns the root node,
// nil for an empty document, or the syntax errors.
func readDocument(file string, data []byte) (*yaml.Node, error) {
	if len(data) > maxConfigBytes {
		return nil, Errors{{File: file, Msg: fmt.Sprintf("file is %d bytes; the limit is %d", len(data), maxConfigBytes)}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, Errors{syntaxError(file, data, err)}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, Errors{syntaxError(file, data, err)}
	default:
		return nil, Errors{{File: file, Line: extra.Line, Column: extra.Column,
			Msg: "more than one YAML document (---): put the whole configuration in one"}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil
	}
	return root, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// syntaxError turns a yaml.v3 error into an Error on the line where the
// problem is. yaml.v3 often names the line where the enclosing block began,
// or no line, so the line is found again as the shortest run of leading
// lines that fails with the same message.
func syntaxError(file string, data []byte, err error) *Error {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{File: file, Msg: "invalid YAML: " + err.Error()}
	}
	msg := m[2]
	fails := func(k int) bool {
		var n yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(prefixLines(data, k)))
		for {
			e := dec.Decode(&n)
			if e == nil {
				continue
			}
			em := yamlLineRE.FindStringSubmatch(e.Error())
			return !errors.Is(e, io.EOF) && em != nil && em[2] == msg
		}
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	line := sort.Search(lines, func(i int) bool { return fails(i + 1) }) + 1
	if line > lines {
		line, _ = strconv.Atoi(m[1])
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + msg}
}

// prefixLines returns the first k lines of data.
func prefixLines(data []byte, k int) []byte {
	end := 0
	for i := 0; i < k; i++ {
		j := bytes.IndexByte(data[end:], '\n')
		if j < 0 {
			return data
		}
		end += j + 1
	}
	return data[:end]
}

// deref follows aliases and spends the node budget; nil means stop.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.budget <= 0 {
		return nil
	}
	if d.budget == 1 {
		d.add(n, "", fmt.Sprintf("more than %d values once aliases are expanded", maxNodes))
	}
	d.budget--
	if d.budget == 0 {
		return nil
	}
	return n
}

// value decodes node n into v, which has the type of field fi (or of its list items).
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string, fi *fieldInfo) {
	if n = d.deref(n); n == nil {
		return
	}
	t := v.Type()
	switch {
	case isLeaf(t) || t.Kind() != reflect.Struct && t.Kind() != reflect.Slice:
		if n.Kind != yaml.ScalarNode {
			d.add(n, path, "must be "+wantName(t)+", got "+gotName(n))
			return
		}
		if !d.scalar(n, v, path) || fi == nil {
			return
		}
		if msg := checkValue(fi, v); msg != "" {
			d.add(n, path, msg)
		}
	case t.Kind() == reflect.Struct:
		d.mapping(n, v, path)
	default:
		d.sequence(n, v, path, fi)
	}
}

// scalar decodes a scalar node into a leaf value; false after a problem.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) bool {
	t, tag := v.Type(), n.ShortTag()
	bad := func() bool {
		d.add(n, path, "must be "+wantName(t)+", got "+gotName(n))
		return false
	}
	fail := func(err error) bool {
		d.add(n, path, err.Error())
		return false
	}
	isStr := tag == "!!str" || tag == "!!timestamp"
	switch {
	case t == globType:
		if !isStr {
			return bad()
		}
		g, err := ParseGlob(n.Value)
		if err != nil {
			return fail(err)
		}
		v.Set(reflect.ValueOf(g))
	case t == durationType:
		if tag == "!!int" && n.Value == "0" {
			v.SetInt(0)
			return true
		}
		if !isStr {
			return bad()
		}
		dur, err := ParseDuration(n.Value)
		if err != nil {
			return fail(err)
		}
		v.SetInt(int64(dur))
	case t == byteSizeType:
		if tag == "!!int" {
			var i int64
			if err := n.Decode(&i); err != nil || i < 0 {
				return fail(fmt.Errorf("invalid size %s: use bytes or a unit, like 512MiB", n.Value))
			}
			v.SetInt(i)
			return true
		}
		if !isStr {
			return bad()
		}
		b, err := ParseByteSize(n.Value)
		if err != nil {
			return fail(err)
		}
		v.SetInt(int64(b))
	case t == secretType:
		return bad()
	case t.Kind() == reflect.String:
		if !isStr {
			return bad()
		}
		v.SetString(n.Value)
	case t.Kind() == reflect.Bool:
		if tag != "!!bool" {
			return bad()
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			return bad()
		}
		v.SetBool(b)
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		if tag != "!!int" {
			return bad()
		}
		var i int64
		if err := n.Decode(&i); err != nil || v.OverflowInt(i) {
			return fail(fmt.Errorf("integer %s is out of range", n.Value))
		}
		v.SetInt(i)
	default:
		return bad()
	}
	return true
}

// mapping decodes a mapping node into struct v.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.add(n, path, "must be a mapping, got "+gotName(n))
		return
	}
	si := infoOf(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.deref(n.Content[i])
		if k == nil {
			return
		}
		val := n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.add(k, path, "keys must be plain strings, got "+gotName(k))
			continue
		}
		key := k.Value
		kpath := joinPath(path, key)
		if k.ShortTag() == "!!merge" {
			d.add(k, kpath, "merge keys (<<) are not supported: write the keys out")
			continue
		}
		if prev, dup := seen[key]; dup {
			d.add(k, kpath, fmt.Sprintf("duplicate key (first at line %d)", prev.Line))
			continue
		}
		seen[key] = k
		fi := si.byKey[key]
		if fi == nil {
			d.add(k, kpath, unknownKey(key, si))
			continue
		}
		if fi.typ == secretType {
			d.add(k, kpath, secretInFile(path, fi))
			continue
		}
		if vn := d.deref(val); vn != nil {
			d.mark(kpath, vn)
		}
		d.value(val, v.Field(fi.index), kpath, fi)
	}
	for _, fi := range si.fields {
		if fi.required && seen[fi.key] == nil {
			msg := "required key is missing"
			if fi.hint != "" {
				msg += "; " + fi.hint
			}
			d.add(n, joinPath(path, fi.key), msg)
		}
	}
}

// sequence decodes a sequence node into slice v.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string, fi *fieldInfo) {
	if n.Kind != yaml.SequenceNode {
		d.add(n, path, "must be a list, got "+gotName(n))
		return
	}
	t := v.Type()
	out := reflect.MakeSlice(t, 0, len(n.Content))
	for i, item := range n.Content {
		ipath := indexPath(path, i)
		ev := reflect.New(t.Elem()).Elem()
		setDefaults(ev)
		if in := d.deref(item); in != nil {
			d.mark(ipath, in)
		} else {
			return
		}
		d.value(item, ev, ipath, fi)
		out = reflect.Append(out, ev)
	}
	v.Set(out)
	if fi == nil {
		return
	}
	if len(n.Content) < fi.minItems {
		d.add(n, path, "must list at least "+markdown.Count(fi.minItems, "item", "items"))
	}
	if fi.unique == "" {
		return
	}
	firstAt := map[string]place{}
	for i := 0; i < out.Len(); i++ {
		ipath := indexPath(path, i)
		ev, label := out.Index(i), "value"
		if fi.unique != "true" {
			ev = ev.Field(infoOf(t.Elem()).byKey[fi.unique].index)
			ipath, label = joinPath(ipath, fi.unique), fi.unique
		}
		s := scalarString(ev)
		if s == "" {
			continue
		}
		if first, dup := firstAt[s]; dup {
			at := "line " + strconv.Itoa(first.line)
			if first.line == d.pos[ipath].line {
				at = "column " + strconv.Itoa(first.col)
			}
			d.addAt(ipath, fmt.Sprintf("duplicate %s %q (first at %s)", label, s, at))
			continue
		}
		firstAt[s] = d.pos[ipath]
	}
}

func scalarString(v reflect.Value) string {
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprint(v.Interface())
}

// checkValue applies the enum, bounds, pattern and format of fi to a decoded
// scalar and says what is wrong, or "".
func checkValue(fi *fieldInfo, v reflect.Value) string {
	t := v.Type()
	if len(fi.enum) > 0 {
		s := scalarString(v)
		found := false
		for _, e := range fi.enum {
			found = found || e == s
		}
		if !found {
			if len(fi.enum) == 1 {
				return fmt.Sprintf("must be %s, got %s", fi.enum[0], quoteIfString(t, s))
			}
			return fmt.Sprintf("must be one of %s; got %s", strings.Join(fi.enum, ", "), quoteIfString(t, s))
		}
	}
	if fi.min != "" || fi.max != "" {
		n := v.Int()
		if fi.zeroOff && n == 0 {
			return ""
		}
		bound := func(s string) int64 {
			b, err := parseString(t, s)
			if err != nil {
				panic("config: bad bound " + s)
			}
			return b.Int()
		}
		if fi.min != "" && n < bound(fi.min) {
			if fi.zeroOff {
				return fmt.Sprintf("must be 0 (off) or at least %s, got %s", fi.min, scalarString(v))
			}
			return fmt.Sprintf("must be at least %s, got %s", fi.min, scalarString(v))
		}
		if fi.max != "" && n > bound(fi.max) {
			return fmt.Sprintf("must be at most %s, got %s", fi.max, scalarString(v))
		}
	}
	if t.Kind() == reflect.String {
		s := v.String()
		if fi.pattern != "" && !patterns[fi.pattern].re.MatchString(s) {
			return fmt.Sprintf("must be %s, got %q", patterns[fi.pattern].says, s)
		}
		if fi.format != "" {
			if err := formats[fi.format](s); err != nil {
				return err.Error()
			}
		}
	}
	return ""
}

func quoteIfString(t reflect.Type, s string) string {
	if t.Kind() == reflect.String {
		return strconv.Quote(s)
	}
	return s
}

// parseString reads a default or an environment value of type t.
func parseString(t reflect.Type, s string) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	switch {
	case t == globType:
		g, err := ParseGlob(s)
		if err != nil {
			return v, err
		}
		v.Set(reflect.ValueOf(g))
	case t == durationType:
		dur, err := ParseDuration(s)
		if err != nil {
			return v, err
		}
		v.SetInt(int64(dur))
	case t == byteSizeType:
		b, err := ParseByteSize(s)
		if err != nil {
			return v, err
		}
		v.SetInt(int64(b))
	case t.Kind() == reflect.String:
		v.SetString(s)
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return v, fmt.Errorf("must be true or false, got %q", s)
		}
		v.SetBool(b)
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(i) {
			return v, fmt.Errorf("must be an integer, got %q", s)
		}
		v.SetInt(i)
	default:
		return v, fmt.Errorf("cannot be set from a string")
	}
	return v, nil
}

// setDefaults fills the default of every tagged field of struct v, recursively.
func setDefaults(v reflect.Value) {
	if v.Kind() != reflect.Struct || isLeaf(v.Type()) {
		return
	}
	for _, fi := range infoOf(v.Type()).fields {
		f := v.Field(fi.index)
		if fi.hasDef {
			dv, err := parseString(fi.typ, fi.def)
			if err != nil {
				panic(fmt.Sprintf("config: bad default for %s: %v", fi.key, err))
			}
			f.Set(dv)
		}
		setDefaults(f)
	}
}

// checker is implemented by configuration structs with rules that span fields.
type checker interface {
	check(c *checks)
}

// checks reports cross-field problems for the struct at path.
type checks struct {
	d    *decoder
	path string
}

// errorf reports a problem at key (relative to the struct; "" for the struct).
func (c *checks) errorf(key, format string, args ...any) {
	p := c.path
	if key != "" {
		if strings.HasPrefix(key, "[") {
			p += key
		} else {
			p = joinPath(p, key)
		}
	}
	c.d.addAt(p, fmt.Sprintf(format, args...))
}

// has reports whether key was written in the file (or set from the environment).
func (c *checks) has(key string) bool {
	_, ok := c.d.pos[joinPath(c.path, key)]
	return ok
}

// checkTree runs the cross-field rules of every struct under v.
func (d *decoder) checkTree(v reflect.Value, path string) {
	if v.Kind() != reflect.Struct || isLeaf(v.Type()) {
		return
	}
	if ck, ok := v.Addr().Interface().(checker); ok {
		ck.check(&checks{d: d, path: path})
	}
	for _, fi := range infoOf(v.Type()).fields {
		f := v.Field(fi.index)
		switch {
		case f.Kind() == reflect.Struct:
			d.checkTree(f, joinPath(path, fi.key))
		case f.Kind() == reflect.Slice:
			for i := 0; i < f.Len(); i++ {
				d.checkTree(f.Index(i), indexPath(joinPath(path, fi.key), i))
			}
		}
	}
}

// wantName says what type t is written as.
func wantName(t reflect.Type) string {
	switch {
	case t == globType:
		return "a glob pattern string"
	case t == durationType:
		return "a duration like 5m"
	case t == byteSizeType:
		return "a size like 512MiB"
	case t == secretType:
		return "set from a file or the environment"
	case t.Kind() == reflect.Struct:
		return "a mapping"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	default:
		return "an integer"
	}
}

// gotName says what node n holds.
func gotName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := markdown.Clip(n.Value, 40)
	switch tag := n.ShortTag(); tag {
	case "!!null":
		return "null"
	case "!!str":
		return "string " + strconv.Quote(v)
	case "!!int":
		return "integer " + v
	case "!!float":
		return "number " + v
	case "!!bool":
		return "boolean " + v
	case "!!timestamp":
		return "timestamp " + v
	default:
		return tag + " " + strconv.Quote(v)
	}
}

// unknownKey explains an unknown key, suggesting the closest known one.
func unknownKey(key string, si *structInfo) string {
	best, bestDist := "", 3
	keys := make([]string, 0, len(si.fields))
	for _, fi := range si.fields {
		if fi.typ == secretType {
			continue
		}
		keys = append(keys, fi.key)
		if d := editDistance(key, fi.key); d < bestDist && d < len(fi.key)/2 {
			best, bestDist = fi.key, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", best)
	}
	sort.Strings(keys)
	return "unknown key; known keys here: " + strings.Join(keys, ", ")
}

// secretInFile explains that a secret value cannot be written in a file.
func secretInFile(path string, fi *fieldInfo) string {
	var ways []string
	if fi.file != "" {
		ways = append(ways, "name a file with "+joinPath(path, fi.file))
	}
	if fi.envKey != "" {
		ways = append(ways, "name an environment variable with "+joinPath(path, fi.envKey))
	}
	if fi.secret != "" {
		ways = append(ways, "set "+fi.secret)
	}
	return "secret values cannot be written in the config file: " + strings.Join(ways, " or ")
}

// editDistance is the optimal-string-alignment distance (Levenshtein plus
// transpositions), for key suggestions.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
