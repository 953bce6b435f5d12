// Package yamlnode reads and edits YAML documents as yaml.v3 node trees, keeping their comments
// and key order: how a plan is re-dated (plan.Shift), made harmless for a rehearsal, started
// from a past one, and how an OpenAPI document is annotated.
package yamlnode

import (
	"bytes"

	"go.yaml.in/yaml/v3"
)

// Get returns the value of key in mapping m; nil when m is not a mapping or has no such key.
func Get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// Lookup follows mapping keys from n; nil when one is missing.
func Lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n = Get(n, k); n == nil {
			return nil
		}
	}
	return n
}

// Set sets key in mapping m to v, keeping the key's place when it exists and appending it
// otherwise. It does nothing when m is not a mapping.
func Set(m *yaml.Node, key string, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// Delete removes key from mapping m.
func Delete(m *yaml.Node, key string) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// Encode writes doc as YAML indented by two spaces, the layout of plan files.
func Encode(doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
