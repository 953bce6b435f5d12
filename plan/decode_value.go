package plan

// Decoding of YAML nodes into the plan's Go values, by reflection, recording each value's
// position: scalars, structures (with merge keys and unknown-key hints), lists, maps, and the
// plan's own types (texts, instants, durations, milestones).

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

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
