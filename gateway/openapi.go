package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sunsetops/sunset/plan/yamlnode"
	"github.com/sunsetops/sunset/policy"
)

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// AnnotateOpenAPI marks, in an OpenAPI 3 document (JSON or YAML), every operation the policy
// retires: `deprecated: true`, `x-sunset` (when it is gone, RFC 3339), `x-deprecation` (when
// the Deprecation header starts), `x-sunset-feature` (the plan feature, absent for the service
// as a whole) and, for a redirected feature, `x-sunset-successor`. Operations are matched to
// features as requests are, with the path template's {params} as path segments. The document
// keeps its order and format (JSON in, JSON out).
func AnnotateOpenAPI(spec []byte, pol *policy.Policy) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("read the OpenAPI document: %v", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the OpenAPI document is not a mapping")
	}
	paths := yamlnode.Get(doc.Content[0], "paths")
	if paths == nil || paths.Kind != yaml.MappingNode {
		return nil, errors.New("the OpenAPI document has no paths")
	}
	for i := 0; i+1 < len(paths.Content); i += 2 {
		path, item := paths.Content[i].Value, paths.Content[i+1]
		if item.Kind != yaml.MappingNode {
			continue
		}
		for _, m := range openAPIMethods {
			op := yamlnode.Get(item, m)
			if op == nil || op.Kind != yaml.MappingNode {
				continue
			}
			f := pol.FeatureOf(strings.ToUpper(m), "", path)
			if f.Times.Gone.IsZero() {
				continue
			}
			mapSet(op, "deprecated", "!!bool", "true")
			mapSet(op, "x-sunset", "!!str", f.Times.Gone.UTC().Format(time.RFC3339))
			if !f.Times.Deprecated.IsZero() {
				mapSet(op, "x-deprecation", "!!str", f.Times.Deprecated.UTC().Format(time.RFC3339))
			}
			if f.Index >= 0 {
				mapSet(op, "x-sunset-feature", "!!str", f.Name)
			}
			if f.Redirect != "" {
				mapSet(op, "x-sunset-successor", "!!str", f.Redirect)
			}
		}
	}
	if t := bytes.TrimSpace(spec); len(t) > 0 && t[0] == '{' {
		var buf bytes.Buffer
		if err := writeJSON(&buf, doc.Content[0], ""); err != nil {
			return nil, err
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	}
	return yamlnode.Encode(&doc)
}

func mapSet(m *yaml.Node, key, tag, value string) {
	if v := yamlnode.Get(m, key); v != nil {
		v.Kind, v.Tag, v.Value, v.Content = yaml.ScalarNode, tag, value, nil
		return
	}
	m.Content = append(m.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value})
}

// writeJSON writes a YAML node tree as indented JSON, keeping key order.
func writeJSON(buf *bytes.Buffer, n *yaml.Node, indent string) error {
	switch n.Kind {
	case yaml.AliasNode:
		return writeJSON(buf, n.Alias, indent)
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteString("{\n")
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, _ := json.Marshal(n.Content[i].Value)
			buf.WriteString(indent + "  ")
			buf.Write(k)
			buf.WriteString(": ")
			if err := writeJSON(buf, n.Content[i+1], indent+"  "); err != nil {
				return err
			}
			if i+2 < len(n.Content) {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "}")
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			buf.WriteString("[]")
			return nil
		}
		buf.WriteString("[\n")
		for i, c := range n.Content {
			buf.WriteString(indent + "  ")
			if err := writeJSON(buf, c, indent+"  "); err != nil {
				return err
			}
			if i+1 < len(n.Content) {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "]")
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!bool", "!!null":
			buf.WriteString(n.Value)
		case "!!int", "!!float":
			if _, err := strconv.ParseFloat(n.Value, 64); err == nil {
				buf.WriteString(n.Value)
				return nil
			}
			fallthrough
		default:
			s, _ := json.Marshal(n.Value)
			buf.Write(s)
		}
	default:
		return fmt.Errorf("unexpected YAML node kind %d", n.Kind)
	}
	return nil
}
