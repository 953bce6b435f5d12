package plan

import (
	"encoding/json"
	"reflect"

	"github.com/invopop/jsonschema"
)

// SchemaID is the $id of the plan's JSON Schema.
const SchemaID = "https://sunsetops.github.io/sunset/sunset.schema.json"

// Patterns the schema gives editors for the plan's string types. They are a first check while
// typing; Parse is the judge.
const (
	durationPattern = `^(0|([0-9]+(w|d|h|m|s|ms))+)$`
	instantPattern  = `^([0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?|[A-Za-z_][A-Za-z0-9_]*\s*([+-]\s*([0-9]+(w|d|h|m|s|ms))+)?)$`
	secretPattern   = `^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$`
)

// Schema returns the JSON Schema (draft 2020-12) of a plan file, generated from the Go types:
// YAML key names, descriptions from the jsonschema tags, no unknown keys, Text as a string or an
// {en, zh} object, instants, durations and secret references as patterned strings, and
// milestones as an object of instants. The output is indented and ends with a newline; the same
// types always give the same bytes. docs/sunset.schema.json is a committed copy.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{
		FieldNameTag: "yaml",
		Mapper:       schemaMapper,
		// A field's jsonschema tag replaces the description of its type; give the mapped types
		// theirs back when the field has none.
		LookupComment: func(t reflect.Type, field string) string {
			if field == "" || t.Kind() != reflect.Struct {
				return ""
			}
			f, ok := t.FieldByName(field)
			if !ok {
				return ""
			}
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if s := schemaMapper(ft); s != nil {
				return s.Description
			}
			return ""
		},
	}
	s := r.Reflect(&Plan{})
	s.ID = SchemaID
	s.Title = "Sunset plan"
	s.Description = "A sunset.yaml: everything needed to retire one service. See https://github.com/sunsetops/sunset."
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func instantSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "string",
		Pattern:     instantPattern,
		Description: "An instant: a date (2027-03-15), a local date and time (2027-03-15T02:00) read in service.timezone, RFC 3339, or a milestone with an optional offset (shutdown-7d, announce+2w).",
		Examples:    []any{"2027-03-15T02:00", "shutdown-7d"},
	}
}

// schemaMapper gives the schema of the types whose YAML form differs from their Go shape.
func schemaMapper(t reflect.Type) *jsonschema.Schema {
	switch t {
	case textType:
		return textSchema()
	case instantType:
		return instantSchema()
	case durationType:
		return &jsonschema.Schema{
			Type:        "string",
			Pattern:     durationPattern,
			Description: "A duration with units w, d, h, m, s, ms: 15m, 2h30m, 7d, 2w.",
			Examples:    []any{"15m", "7d"},
		}
	case reflect.TypeFor[Secret]():
		return &jsonschema.Schema{
			Type:        "string",
			Pattern:     secretPattern,
			Description: "A reference to a secret, never the secret itself: env:NAME or file:PATH.",
			Examples:    []any{"env:SUNSET_SMTP_PASSWORD", "file:/etc/sunset/token"},
		}
	case milestonesType:
		return &jsonschema.Schema{
			Type:                 "object",
			Description:          "Milestone names to instants, in time order: announce, deprecate, read_only, shutdown, delete_data, and any custom name.",
			PropertyNames:        &jsonschema.Schema{Pattern: `^[A-Za-z_][A-Za-z0-9_]*$`},
			AdditionalProperties: instantSchema(),
			Required:             []string{Shutdown},
		}
	}
	return nil
}

func textSchema() *jsonschema.Schema {
	props := jsonschema.NewProperties()
	props.Set("en", &jsonschema.Schema{Type: "string", Description: "English."})
	props.Set("zh", &jsonschema.Schema{Type: "string", Description: "Simplified Chinese."})
	props.Set("zh-CN", &jsonschema.Schema{Type: "string", Description: "Simplified Chinese (same as zh)."})
	return &jsonschema.Schema{
		Description: "Text for people: one string, or {en: ..., zh: ...}.",
		OneOf: []*jsonschema.Schema{
			{Type: "string"},
			{Type: "object", Properties: props, AdditionalProperties: jsonschema.FalseSchema},
		},
	}
}
