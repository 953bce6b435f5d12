package yamlnode

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

const doc = `# the plan
service:
  name: orders-api-v1 # goes with the value Set replaces
  owners: # kept
    - {name: Li Wei}
milestones:
  announce: 2027-01-05T10:00
`

func TestEditsKeepCommentsOrderAndUntouchedValues(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	m := root.Content[0]
	if n := Lookup(m, "service", "name"); n == nil || n.Value != "orders-api-v1" {
		t.Fatalf("Lookup(service, name) = %v", n)
	}
	for _, miss := range [][]string{{"nope"}, {"service", "nope"}, {"service", "name", "deeper"}, {"service", "owners", "name"}} {
		if n := Lookup(m, miss...); n != nil {
			t.Errorf("Lookup(%q) = %v, want nil", miss, n.Value)
		}
	}
	if Get(nil, "x") != nil {
		t.Error("Get(nil) is not nil")
	}
	svc := Get(m, "service")
	Set(svc, "name", &yaml.Node{Kind: yaml.ScalarNode, Value: "orders-api-v2"})
	Set(svc, "title", &yaml.Node{Kind: yaml.ScalarNode, Value: "TODO"})
	Delete(m, "milestones")
	Delete(m, "absent")
	Set(Get(svc, "owners"), "x", &yaml.Node{Kind: yaml.ScalarNode, Value: "y"}) // not a mapping: no change
	out, err := Encode(&root)
	if err != nil {
		t.Fatal(err)
	}
	want := `# the plan
service:
  name: orders-api-v2
  owners: # kept
    - {name: Li Wei}
  title: TODO
`
	if string(out) != want {
		t.Errorf("Encode:\n%s\nwant:\n%s", out, want)
	}
}
