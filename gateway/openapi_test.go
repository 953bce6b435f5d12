package gateway

import (
	"encoding/json"
	"testing"

	"github.com/sunsetops/sunset/policy"
)

func TestAnnotateOpenAPIMarksRetiredOperations(t *testing.T) {
	pol, err := policy.Compile(examplePlan(t), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec := `{"openapi":"3.1.0","info":{"title":"Orders","version":"1"},"paths":{
"/v1/reports/{id}":{"get":{"responses":{"200":{"description":"ok"}}}},
"/v1/exports/{id}":{"get":{"responses":{"200":{"description":"ok"}}}}}}`
	out, err := AnnotateOpenAPI([]byte(spec), pol)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	get := doc.Paths["/v1/reports/{id}"]["get"]
	if get["deprecated"] != true || get["x-sunset"] != "2027-01-31T18:00:00Z" || get["x-sunset-feature"] != "reports" {
		t.Errorf("reports: %v", get)
	}
	if exp := doc.Paths["/v1/exports/{id}"]["get"]; exp["x-sunset-successor"] != "https://api.example.com/v2/exports" {
		t.Errorf("exports: %v", exp)
	}
}
