package usage

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Contact is who to tell about a consumer, from the plan's contacts file.
type Contact struct {
	ID     string `json:"id"`
	Email  string `json:"email,omitempty"`
	Name   string `json:"name,omitempty"`
	Locale string `json:"locale,omitempty"`
	Tier   string `json:"tier,omitempty"`
}

// ReadContacts reads a contacts CSV with a header row naming at least the id column; email,
// name, locale and tier are read when present, in any order.
func ReadContacts(r io.Reader) (map[string]Contact, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return map[string]Contact{}, nil
		}
		return nil, err
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["id"]; !ok {
		return nil, fmt.Errorf("line 1: no id column (want id,email,name,locale,tier)")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	out := map[string]Contact{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		c := Contact{ID: get(rec, "id"), Email: get(rec, "email"), Name: get(rec, "name"), Locale: get(rec, "locale"), Tier: get(rec, "tier")}
		if c.ID != "" {
			out[c.ID] = c
		}
	}
}

// ReadContactsFile reads a contacts CSV file.
func ReadContactsFile(path string) (map[string]Contact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := ReadContacts(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return c, nil
}
