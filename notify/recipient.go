package notify

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Recipient is someone a notice is for: a contact of the plan's consumers, an owner or a
// stakeholder. ID is unique within its sunset; owners and stakeholders get "owner:EMAIL" and
// "stakeholder:NAME" so they never collide with consumer ids.
type Recipient struct {
	ID       string `json:"id"`
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
	Locale   string `json:"locale,omitempty"`
	Tier     string `json:"tier,omitempty"`
	TimeZone string `json:"timezone,omitempty"`
}

// ContactColumns are the columns a contacts CSV may have, in any order; id is required, the rest
// are optional. Unknown columns are ignored.
var ContactColumns = []string{"id", "email", "name", "locale", "tier", "timezone"}

// ReadContacts streams the contacts in r to fn, one at a time, without holding the file in
// memory: a CSV with a header row (ContactColumns), or a JSON array of Recipient objects (the
// first non-space byte decides). It stops at the first error fn returns and returns it. A row
// without an id is an error naming its line.
func ReadContacts(r io.Reader, fn func(Recipient) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		b, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
			continue
		case '[':
			return readJSONContacts(br, fn)
		}
		return readCSVContacts(br, fn)
	}
}

func readCSVContacts(r io.Reader, fn func(Recipient) error) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("contacts: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["id"]; !ok {
		return errors.New("contacts: the header has no id column (want id,email,name,locale,tier)")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
		r := Recipient{
			ID: get(rec, "id"), Email: get(rec, "email"), Name: get(rec, "name"),
			Locale: get(rec, "locale"), Tier: get(rec, "tier"), TimeZone: get(rec, "timezone"),
		}
		if r.ID == "" {
			line, _ := cr.FieldPos(0)
			return fmt.Errorf("contacts: line %d: no id", line)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
}

func readJSONContacts(r io.Reader, fn func(Recipient) error) error {
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil { // [
		return fmt.Errorf("contacts: %w", err)
	}
	for i := 0; dec.More(); i++ {
		var rc Recipient
		if err := dec.Decode(&rc); err != nil {
			return fmt.Errorf("contacts: entry %d: %w", i, err)
		}
		if rc.ID == "" {
			return fmt.Errorf("contacts: entry %d: no id", i)
		}
		if err := fn(rc); err != nil {
			return err
		}
	}
	return nil
}

// ContactTiers reads the contacts in r (as ReadContacts does) and returns each consumer's tier
// by consumer id, for the contacts that have one.
func ContactTiers(r io.Reader) (map[string]string, error) {
	tiers := map[string]string{}
	err := ReadContacts(r, func(c Recipient) error {
		if c.Tier != "" {
			tiers[c.ID] = c.Tier
		}
		return nil
	})
	return tiers, err
}
