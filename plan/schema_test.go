package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// schemaFile is the committed copy of Schema(), for editors.
const schemaFile = "../docs/sunset.schema.json"

func init() {
	// -update may already be defined by another test file of the package (golden files).
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite generated files")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestSchemaCurrent fails when the committed docs/sunset.schema.json differs from Schema().
func TestSchemaCurrent(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	if updating() {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("docs/sunset.schema.json is not the schema of the current plan types (%v); regenerate it with\n"+
			"\tgo run ./cmd/sunset plan schema > docs/sunset.schema.json\nor\n"+
			"\tgo test ./plan -run TestSchemaCurrent -update", err)
	}
	again, _ := Schema()
	if !bytes.Equal(got, again) {
		t.Error("Schema() is not deterministic")
	}
}

// compileSchema compiles Schema() with an independent JSON Schema implementation.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// yamlToJSON reads a YAML file as a JSON instance, as an editor's YAML language server does.
func yamlToJSON(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestSchemaAgreesWithParse checks that the schema accepts the plans Parse accepts, and rejects
// those whose problem a schema can see (unknown keys, wrong types, clear secrets).
func TestSchemaAgreesWithParse(t *testing.T) {
	s := compileSchema(t)
	valid, _ := filepath.Glob("testdata/valid/*.yaml")
	valid = append(valid, "../examples/api-v2.yaml", "../examples/webapp-closing.yaml")
	for _, f := range valid {
		if err := s.Validate(yamlToJSON(t, f)); err != nil {
			t.Errorf("schema rejects valid plan %s: %v", f, err)
		}
	}
	for _, name := range []string{"unknown_key", "unknown_section", "wrong_type_int", "wrong_type_list", "wrong_type_mapping",
		"secret_in_clear", "secret_bad_env", "text_unknown_language", "bad_duration", "duration_without_unit", "missing_shutdown", "owner_role", "risk_level"} {
		if err := s.Validate(yamlToJSON(t, "testdata/invalid/"+name+".yaml")); err == nil {
			t.Errorf("schema accepts testdata/invalid/%s.yaml", name)
		}
	}
}

// TestSchemaShape spot-checks what editors rely on.
func TestSchemaShape(t *testing.T) {
	b, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"$schema": "https://json-schema.org/draft/2020-12/schema"`,
		`"additionalProperties": false`,
		`"min_notice"`, `"read_only"`, `"shutdown"`,
		`"oneOf"`,
		`env:NAME or file:PATH`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("schema lacks %s", want)
		}
	}
	if strings.Contains(string(b), `"MinNotice"`) {
		t.Error("schema uses Go field names instead of YAML keys")
	}
}
