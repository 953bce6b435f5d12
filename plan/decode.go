package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxPlanSize is the largest plan, in bytes, that Parse and ParseFile accept. A plan is a few
// kilobytes (the largest example is 5 KB); anything near this size is a mistake or an attack,
// and is refused before parsing. YAML decoding costs about six times the bytes of long values,
// so the limit also keeps a plan made of a few huge values within a few MB.
const MaxPlanSize = 1 << 20

// maxAliasNodes bounds how many nodes the decoder visits through YAML aliases. Anchors and
// aliases are handy for repeated lists, but a few lines of them can multiply into millions of
// nodes (a "billion laughs" alias bomb); past this budget the decoder stops expanding them.
const maxAliasNodes = 50_000

// maxProblems bounds the problems reported for one plan. Past it, a plan is not worth reading
// line by line (it is probably not a plan), and reporting more would only flood the terminal.
const maxProblems = 200

// Parse decodes and validates a plan. file names the plan in problems. The returned Plan is never
// nil: when there are problems it holds whatever could be decoded. Problems are sorted by
// position and hold every problem found, decoding and validation alike; a plan is usable when
// Problems.Err() is nil (warnings do not count).
func Parse(file string, data []byte) (*Plan, Problems) {
	return parsePlan(file, data, false)
}

// ParseStored parses a plan that was valid when it was stored, as Parse does, but without the
// rules that only admit new plans (notice channels without configuration, notices before the
// announcement, guardrail labels and tiers that cannot be measured, credentials in URLs): a
// sunset stored by an earlier version keeps running after an upgrade, while `validate` and
// `apply` refuse such plans.
func ParseStored(file string, data []byte) (*Plan, Problems) {
	return parsePlan(file, data, true)
}

func parsePlan(file string, data []byte, stored bool) (*Plan, Problems) {
	p := &Plan{file: file, positions: map[string]Pos{}}
	if len(data) > MaxPlanSize {
		return p, Problems{{File: file, Message: tooLarge(int64(len(data)))}}
	}
	d := &decoder{
		file:   file,
		pos:    p.positions,
		bad:    map[string]bool{},
		active: map[*yaml.Node]bool{},
		fields: map[reflect.Type]*structInfo{},
	}
	// Validation needs a parsed file, and is pointless on one whose aliases were cut short.
	if d.decode(data, p) && !d.bombed {
		vps, dropped := p.validate(stored)
		d.dropped += dropped
		for _, vp := range vps {
			if !d.underBad(vp.Path) {
				d.problems = append(d.problems, vp)
			}
		}
	}
	if loc, err := time.LoadLocation(p.Service.TimeZone); err == nil {
		p.loc = loc // loaded once: Location is called for every instant
	}
	ps := d.problems
	sortProblems(ps)
	if hidden := max(0, len(ps)-maxProblems) + d.dropped; hidden > 0 {
		ps = append(ps[:min(len(ps), maxProblems):min(len(ps), maxProblems)], Problem{File: file, Message: fmt.Sprintf("%d more problems not shown; fix these and run again", hidden)})
	}
	return p, ps
}

// ParseFile reads and parses the plan at path, as Parse does. It checks the file's size before
// reading and never reads more than MaxPlanSize+1 bytes of it.
func ParseFile(path string) (*Plan, Problems) {
	fail := func(msg string) (*Plan, Problems) {
		return &Plan{file: path, positions: map[string]Pos{}}, Problems{{File: path, Message: msg}}
	}
	f, err := os.Open(path)
	if err != nil {
		return fail("cannot open the plan: " + osErrText(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fail("cannot read the plan: " + osErrText(err))
	}
	if fi.IsDir() {
		return fail("is a directory; name a plan file such as sunset.yaml")
	}
	if fi.Size() > MaxPlanSize {
		return fail(tooLarge(fi.Size()))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxPlanSize+1))
	if err != nil {
		return fail("cannot read the plan: " + osErrText(err))
	}
	return Parse(path, data)
}

// osErrText drops the path an *os.PathError repeats, since problems already start with it.
func osErrText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func tooLarge(size int64) string {
	if size > MaxPlanSize+1 {
		return fmt.Sprintf("plan is %.1f MB, over the %d MB limit; a plan is a few kilobytes, check that this is the right file", float64(size)/(1<<20), MaxPlanSize>>20)
	}
	return fmt.Sprintf("plan is over the %d MB limit; a plan is a few kilobytes, check that this is the right file", MaxPlanSize>>20)
}

// sortProblems orders problems by line and column; file-level problems (no position) come first
// and problems at the same place keep the order they were found in.
func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// decoder maps a yaml.Node tree onto the plan types by their yaml tags, recording the position of
// every value and collecting every problem instead of stopping at the first.
type decoder struct {
	file     string
	pos      map[string]Pos
	problems Problems
	dropped  int // problems past maxProblems, counted but not kept
	// bad holds the paths whose value could not be decoded; validation problems at or under
	// them are dropped, since the decoding problem already explains them.
	bad map[string]bool
	// active holds the anchored nodes being expanded, to refuse an alias that refers to itself.
	active     map[*yaml.Node]bool
	aliasDepth int
	aliasNodes int
	bombed     bool
	fields     map[reflect.Type]*structInfo
}

func (d *decoder) problem(n *yaml.Node, path, format string, args ...any) {
	if len(d.problems) >= maxProblems {
		d.dropped++
		return
	}
	var pos Pos
	if n != nil {
		pos = Pos{Line: n.Line, Col: n.Column}
	}
	d.problems = append(d.problems, Problem{File: d.file, Pos: pos, Path: path, Message: fmt.Sprintf(format, args...)})
}

// fail records a problem with the value at path and marks the path as undecodable.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.problem(n, path, format, args...)
	d.bad[path] = true
}

// underBad reports whether path is, or lies under, a path whose value could not be decoded.
func (d *decoder) underBad(path string) bool {
	for {
		if d.bad[path] {
			return true
		}
		if path == "" {
			return false
		}
		path = parentPath(path)
	}
}

// decode parses data into p. It reports false when the YAML itself could not be parsed, in which
// case validating the (empty) plan would only add noise.
func (d *decoder) decode(data []byte, p *Plan) bool {
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, size := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		line, col := lineCol(data, off)
		d.problems = append(d.problems, Problem{File: d.file, Pos: Pos{line, col}, Message: "the file is not valid UTF-8 here; save the plan as UTF-8"})
		return false
	}
	// yaml.v3 builds the whole node tree before anything can look at it: bound its size first.
	if _, lp := checkText(data); lp != nil {
		d.limit(lp)
		return false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := safeDecode(dec, &root); err != nil {
		if err == io.EOF {
			return true // an empty file: validation says what is missing
		}
		d.syntaxError(data, err)
		return false
	}
	if lp := checkTree(&root); lp != nil {
		d.limit(lp)
		return false
	}
	var extra yaml.Node
	switch err := safeDecode(dec, &extra); {
	case err == io.EOF:
	case err != nil:
		d.syntaxError(data, err)
		return false
	default:
		d.problem(&extra, "", "the file holds more than one YAML document; a plan is one document, so remove the --- separator or split the file")
	}
	n := &root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return true
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return true
	}
	d.pos[""] = Pos{n.Line, n.Column}
	target := n
	if target.Kind == yaml.AliasNode {
		target = n.Alias
	}
	if target == nil || target.Kind != yaml.MappingNode {
		d.fail(n, "", "expected a mapping of plan sections (service, milestones, features...), got %s", describe(n))
		return true
	}
	d.value(n, reflect.ValueOf(p).Elem(), "")
	return true
}

// limit records that the plan is over one of the limits that protect the server parsing it.
func (d *decoder) limit(lp *limitProblem) {
	d.problems = append(d.problems, Problem{File: d.file, Pos: lp.pos, Message: lp.msg})
}

// safeDecode decodes one document, turning a panic inside the YAML library into an error so that
// no input can crash the caller.
func safeDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed on this input: %v", r)
		}
	}()
	return dec.Decode(n)
}

var (
	yamlLineRe      = regexp.MustCompile(`^line (\d+): (?s)(.*)$`)
	yamlAnchorRe    = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
	yamlErrorPrefix = "yaml: "
)

// syntaxError turns a yaml.v3 parse error ("yaml: line 3: mapping values are not allowed in this
// context") into a positioned problem. yaml.v3 gives only a line; the column is that of the
// line's first non-blank character.
func (d *decoder) syntaxError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), yamlErrorPrefix)
	var pos Pos
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		pos = Pos{Line: line, Col: firstCol(data, line)}
		msg = m[2]
	} else if m := yamlAnchorRe.FindStringSubmatch(msg); m != nil {
		if off := bytes.Index(data, []byte("*"+m[1])); off >= 0 {
			line, col := lineCol(data, off)
			pos = Pos{line, col}
		}
		msg = fmt.Sprintf("alias *%s names no anchor; define &%s before using it", m[1], m[1])
	}
	d.problems = append(d.problems, Problem{File: d.file, Pos: pos, Message: "invalid YAML: " + msg + syntaxHint(msg)})
}

// syntaxHint adds what to do for the parse errors people meet most.
func syntaxHint(msg string) string {
	switch {
	case strings.Contains(msg, "found character that cannot start any token"), strings.Contains(msg, "found a tab"):
		return " (indent with spaces, not tabs, and quote values that start with @, ` or %)"
	case strings.Contains(msg, "mapping values are not allowed"):
		return " (quote values that contain \": \", or fix the indentation)"
	case strings.Contains(msg, "did not find expected key"), strings.Contains(msg, "did not find expected node content"):
		return " (check the indentation of this line and the one before)"
	case strings.Contains(msg, "could not find expected ':'"):
		return " (a key needs a colon and a space after it)"
	}
	return ""
}

// lineCol converts a byte offset to a 1-based line and column (columns count characters).
func lineCol(data []byte, off int) (int, int) {
	off = min(off, len(data))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(data[start:off])
}

// firstCol returns the column of the first non-blank character of line, or 1.
func firstCol(data []byte, line int) int {
	for i := 1; i < line; i++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			return 1
		}
		data = data[j+1:]
	}
	if j := bytes.IndexByte(data, '\n'); j >= 0 {
		data = data[:j]
	}
	for i, c := range data {
		if c != ' ' {
			return 1 + utf8.RuneCount(data[:i])
		}
	}
	return 1
}

var (
	textType       = reflect.TypeFor[Text]()
	instantType    = reflect.TypeFor[Instant]()
	durationType   = reflect.TypeFor[Duration]()
	milestonesType = reflect.TypeFor[Milestones]()
)

// value decodes n into v and records its position under path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		d.alias(n, func(target *yaml.Node) { d.value(target, v, path) }, path)
		return
	}
	if d.aliasDepth > 0 {
		d.aliasNodes++
	}
	d.pos[path] = Pos{Line: n.Line, Col: n.Column}
	switch v.Type() {
	case textType:
		d.text(n, v.Addr().Interface().(*Text), path)
		return
	case instantType:
		d.instant(n, v.Addr().Interface().(*Instant), path)
		return
	case durationType:
		d.duration(n, v.Addr().Interface().(*Duration), path)
		return
	case milestonesType:
		d.milestones(n, v.Addr().Interface().(*Milestones), path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.list(n, v, path)
	case reflect.Map:
		d.dict(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "expected a string, got %s", describe(n))
			return
		}
		if isNull(n) {
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64, reflect.Int32:
		if isNull(n) {
			return
		}
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil || v.OverflowInt(i) {
			d.fail(n, path, "expected a whole number, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		if isNull(n) {
			return
		}
		f, ok := parseNumber(n)
		if !ok {
			d.fail(n, path, "expected a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.fail(n, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(strings.EqualFold(n.Value, "true"))
	default:
		// Unreachable for the plan types; a new field kind needs a case above.
		d.fail(n, path, "this value cannot be decoded (unsupported field type %s)", v.Type())
	}
}

// parseNumber reads an !!int or !!float scalar as a finite float64.
func parseNumber(n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode {
		return 0, false
	}
	switch n.ShortTag() {
	case "!!int":
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil {
			return 0, false
		}
		return float64(i), true
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, false
		}
		return f, true
	}
	return 0, false
}

// alias expands an alias node by calling fn on its target, refusing self-reference and keeping
// the expansion within maxAliasNodes.
func (d *decoder) alias(n *yaml.Node, fn func(*yaml.Node), path string) {
	target := n.Alias
	switch {
	case target == nil:
		d.fail(n, path, "alias *%s names no anchor", n.Value)
		return
	case d.active[target]:
		d.fail(n, path, "alias *%s refers to a value that contains it; aliases may not be recursive", n.Value)
		return
	case d.bombed:
		d.bad[path] = true
		return
	case d.aliasNodes > maxAliasNodes:
		d.bombed = true
		d.fail(n, path, "aliases expand to more than %d values; write the plan out instead of multiplying anchors", maxAliasNodes)
		return
	}
	d.active[target] = true
	d.aliasDepth++
	fn(target)
	d.aliasDepth--
	delete(d.active, target)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		if n.Alias != nil {
			return describe(n.Alias)
		}
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!bool":
			return "a boolean"
		case "!!int":
			return "a whole number"
		case "!!float":
			return "a number"
		case "!!timestamp":
			return "a date"
		case "!!str":
			return "a string"
		case "!!binary":
			return "binary data"
		}
		return "a value tagged " + n.ShortTag()
	}
	return "nothing"
}

// structInfo maps YAML keys to struct fields.
type structInfo struct {
	index map[string]int
	names []string
}

func (d *decoder) info(t reflect.Type) *structInfo {
	if si, ok := d.fields[t]; ok {
		return si
	}
	si := &structInfo{index: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		si.index[name] = i
		si.names = append(si.names, name)
	}
	d.fields[t] = si
	return si
}

// pair is one key and value of a mapping; merged pairs come from a "<<" merge key.
type pair struct {
	key, val *yaml.Node
	merged   bool
}

// pairs returns the keys and values of mapping n, with "<<: *anchor" merges expanded after the
// mapping's own keys (which win over merged ones).
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		out = append(out, pair{key: k, val: v})
	}
	if len(n.Content)%2 != 0 { // cannot come from the parser; guards hand-made nodes
		d.fail(n, path, "mapping has a key without a value")
	}
	for _, m := range merges {
		d.merge(m, path, &out, true)
	}
	return out
}

// merge appends the pairs of the merged value m (a mapping, an alias to one, or a list of those)
// to out, skipping keys already present.
func (d *decoder) merge(m *yaml.Node, path string, out *[]pair, top bool) {
	add := func(target *yaml.Node) {
		if target.Kind != yaml.MappingNode {
			d.fail(m, path, "<< merges a mapping or a list of mappings, got %s", describe(target))
			return
		}
		d.aliasNodes += len(target.Content) / 2
		have := make(map[string]bool, len(*out))
		for _, p := range *out {
			have[p.key.Value] = true
		}
		for _, p := range d.pairs(target, path) {
			if !have[p.key.Value] {
				have[p.key.Value] = true
				p.merged = true
				*out = append(*out, p)
			}
		}
	}
	switch {
	case m.Kind == yaml.AliasNode:
		d.alias(m, add, path)
	case m.Kind == yaml.SequenceNode && top:
		for _, e := range m.Content {
			d.merge(e, path, out, false)
		}
	default:
		add(m)
	}
}

// mappingKey checks that a key is a plain scalar and not a repeat, and returns its text.
func (d *decoder) mappingKey(p pair, seen map[string]*yaml.Node, path string) (string, bool) {
	k := p.key
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode || isNull(k) && k.Value == "" {
		d.problem(p.key, path, "keys must be plain names, got %s", describe(p.key))
		return "", false
	}
	if prev, dup := seen[k.Value]; dup {
		if !p.merged {
			d.problem(p.key, joinPath(path, k.Value), "duplicate key %q, already set at line %d column %d; keep one of them", k.Value, prev.Line, prev.Column)
		}
		return "", false
	}
	seen[k.Value] = p.key
	return k.Value, true
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	si := d.info(v.Type())
	seen := map[string]*yaml.Node{}
	for _, p := range d.pairs(n, path) {
		key, ok := d.mappingKey(p, seen, path)
		if !ok {
			continue
		}
		i, ok := si.index[key]
		if !ok {
			if len(d.problems) >= maxProblems {
				d.dropped++ // not formatted: a suggestion costs an edit distance per known key
				continue
			}
			d.problem(p.key, joinPath(path, key), "unknown key %q%s%s", key, unknownHint(key, si.names), flowHint(n, p))
			continue
		}
		d.value(p.val, v.Field(i), joinPath(path, key))
	}
}

// unknownHint suggests the closest known key, or lists them all when none is close.
func unknownHint(key string, names []string) string {
	if s := suggestName(key, names); s != "" {
		return s
	}
	return "; expected one of: " + listNames(names)
}

// flowHint explains the usual cause of a stray key without a value in a {...} mapping: an
// unquoted comma in the previous value.
func flowHint(m *yaml.Node, p pair) string {
	if m.Style&yaml.FlowStyle != 0 && isNull(p.val) && p.val.Value == "" {
		return " (inside {...} a comma starts a new key: quote text that holds commas)"
	}
	return ""
}

func (d *decoder) list(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list, got %s; write [a, b] or one \"- item\" per line", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		d.value(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

func (d *decoder) dict(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping of names to values, got %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.fail(n, path, "this mapping cannot be decoded (unsupported key type %s)", v.Type().Key())
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for _, p := range d.pairs(n, path) {
		key, ok := d.mappingKey(p, seen, path)
		if !ok {
			continue
		}
		e := reflect.New(v.Type().Elem()).Elem()
		d.value(p.val, e, joinPath(path, key))
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), e)
	}
	v.Set(m)
}

// text decodes a Text: a plain string, or a mapping with en and zh (or zh-CN).
func (d *decoder) text(n *yaml.Node, t *Text, path string) {
	switch {
	case isNull(n):
		return
	case n.Kind == yaml.ScalarNode:
		t.EN = n.Value
		return
	case n.Kind != yaml.MappingNode:
		d.fail(n, path, "expected a string or a mapping {en: ..., zh: ...}, got %s", describe(n))
		return
	}
	seen := map[string]*yaml.Node{}
	for _, p := range d.pairs(n, path) {
		key, ok := d.mappingKey(p, seen, path)
		if !ok {
			continue
		}
		var dst *string
		switch key {
		case "en":
			dst = &t.EN
		case "zh", "zh-CN":
			if other := map[string]string{"zh": "zh-CN", "zh-CN": "zh"}[key]; seen[other] != nil {
				d.problem(p.key, joinPath(path, key), "both zh and zh-CN are set; keep one of them")
				continue
			}
			dst = &t.ZH
		default:
			d.problem(p.key, joinPath(path, key), "unknown language %q; use en, zh or zh-CN%s", key, flowHint(n, p))
			continue
		}
		var s string
		d.value(p.val, reflect.ValueOf(&s).Elem(), joinPath(path, key))
		*dst = s
	}
}

// instant decodes an Instant from its scalar's text. yaml.v3 tags 2027-09-15 as !!timestamp;
// the text is what counts.
func (d *decoder) instant(n *yaml.Node, in *Instant, path string) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.fail(n, path, "expected an instant such as 2027-03-15T02:00 or shutdown-7d, got %s", describe(n))
		return
	}
	v, err := ParseInstant(n.Value)
	if err != nil {
		d.fail(n, path, "%v", err)
		return
	}
	*in = v
}

func (d *decoder) duration(n *yaml.Node, du *Duration, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected a duration such as 15m, 2h or 7d, got %s", describe(n))
		return
	}
	if n.ShortTag() == "!!int" && n.Value != "0" {
		d.fail(n, path, "duration %s has no unit; write it as %sm, %sh or %sd", n.Value, n.Value, n.Value, n.Value)
		return
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		d.fail(n, path, "%v", err)
		return
	}
	*du = Duration(v)
}

// milestones decodes the milestones mapping in file order. A milestone whose instant cannot be
// read is kept with a zero instant, so that references to it do not add "unknown milestone" noise.
func (d *decoder) milestones(n *yaml.Node, ms *Milestones, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping of milestone names to instants (shutdown: 2027-03-15T02:00), got %s", describe(n))
		return
	}
	seen := map[string]*yaml.Node{}
	for _, p := range d.pairs(n, path) {
		key, ok := d.mappingKey(p, seen, path)
		if !ok {
			continue
		}
		m := Milestone{Name: key}
		d.value(p.val, reflect.ValueOf(&m.At).Elem(), joinPath(path, key))
		*ms = append(*ms, m)
	}
}

// joinPath appends a key to a field path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// parentPath returns the path one level up: "features[1]" for "features[1].routes", "features"
// for "features[1]", "" for "service".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}
