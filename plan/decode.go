package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
