package plan

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The limits below keep a plan from the network from exhausting the server that parses it. The
// largest real plans (examples/*.yaml) count about 460 values, nest 5 deep and have no line over
// 140 bytes nor a value over 240; each limit leaves a margin of 10 times or more (40 for values).
// At the limits, a plan still decodes in a few MB: the node tree costs about 300 bytes a value.
const (
	// MaxNodes bounds the values of a plan — keys, scalars, list items, lists and mappings —
	// as counted over its bytes before YAML decoding starts. yaml.v3 builds a whole node tree
	// (a few hundred bytes per value) before a caller can look at it, so the count is taken on
	// the text: one per line that holds more than a comment, plus one per ", ", "- ", ": ",
	// "? ", "[" and "{" wherever they appear (quoted text and comments included, so the
	// count may be above the true number of values, never far below it).
	MaxNodes = 20_000
	// MaxDepth bounds how deeply lists and mappings nest.
	MaxDepth = 64
	// MaxLineBytes bounds one line, and so any value written on one line.
	MaxLineBytes = 64 << 10
	// MaxScalarBytes bounds one value (a scalar, however many lines it spans).
	MaxScalarBytes = 256 << 10
)

// limitProblem is why a plan's text is over a limit, and where.
type limitProblem struct {
	pos Pos
	msg string
}

// checkText counts a plan's values and measures its lines before YAML decoding, and returns the
// count and the first limit crossed with the position where it was crossed. It reads each byte once and
// allocates nothing unless it refuses, so refusing a bomb costs a pass over its bytes.
func checkText(data []byte) (int, *limitProblem) {
	nodes := 0
	flow := 0 // an estimate of the flow nesting ([ and {), for deciding what ":" means
	for lineNo, start := 1, 0; start < len(data); lineNo++ {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += start
		}
		line := data[start:end]
		next := end + 1
		if len(line) > MaxLineBytes {
			return nodes, &limitProblem{Pos{lineNo, 1}, fmt.Sprintf("line %d is %d KB long, over the %d KB limit for one line; a plan's lines are short", lineNo, len(line)>>10, MaxLineBytes>>10)}
		}
		i := 0
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		// A line that is blank or only a comment creates no value, whatever surrounds it.
		if i == len(line) || line[i] == '#' || line[i] == '\r' && i == len(line)-1 {
			start = next
			continue
		}
		nodes++
		for j := i; j < len(line); j++ {
			c := line[j]
			switch c {
			case '[', '{':
				flow++
				nodes++
			case ']', '}':
				if flow > 0 {
					flow--
				}
			case ',':
				nodes++
			case '-', '?', ':':
				after := byte(' ')
				if j+1 < len(line) {
					after = line[j+1]
				}
				switch {
				case after == ' ' || after == '\t' || after == '\r':
					nodes++
				case c == ':' && flow > 0 && (after == ',' || after == ']' || after == '}' || after == '[' || after == '{'):
					nodes++
				case c == ':' && j > 0 && (line[j-1] == '"' || line[j-1] == '\''):
					nodes++ // a JSON-like key: "a":1
				}
			default:
				continue
			}
			if nodes > MaxNodes {
				return nodes, &limitProblem{Pos{lineNo, 1 + utf8.RuneCount(line[:j])}, fmt.Sprintf("the plan holds more than %d values (keys, list items, mappings); a plan holds a few hundred, so this is not a plan", MaxNodes)}
			}
		}
		if nodes > MaxNodes {
			return nodes, &limitProblem{Pos{lineNo, 1 + i}, fmt.Sprintf("the plan holds more than %d values (keys, list items, mappings); a plan holds a few hundred, so this is not a plan", MaxNodes)}
		}
		start = next
	}
	return nodes, nil
}

// checkTree walks the decoded YAML tree, without following aliases, and returns where a
// collection nests deeper than MaxDepth or a value is longer than MaxScalarBytes. checkText has
// bounded the tree's size, so the walk is short; it keeps its own stack to stay flat however
// deep the tree.
func checkTree(root *yaml.Node) *limitProblem {
	type item struct {
		n     *yaml.Node
		depth int
	}
	stack := []item{{root, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := it.n
		switch n.Kind {
		case yaml.ScalarNode:
			if len(n.Value) > MaxScalarBytes {
				return &limitProblem{Pos{n.Line, n.Column}, fmt.Sprintf("this value is %d KB long, over the %d KB limit for one value; keep long texts in files and name them", len(n.Value)>>10, MaxScalarBytes>>10)}
			}
		case yaml.DocumentNode, yaml.SequenceNode, yaml.MappingNode:
			depth := it.depth
			if n.Kind != yaml.DocumentNode {
				depth++
			}
			if depth > MaxDepth {
				return &limitProblem{Pos{n.Line, n.Column}, fmt.Sprintf("lists and mappings nest more than %d deep here; a plan nests a handful of levels", MaxDepth)}
			}
			for i := len(n.Content) - 1; i >= 0; i-- {
				stack = append(stack, item{n.Content[i], depth})
			}
		}
	}
	return nil
}
