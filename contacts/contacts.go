// Package contacts reads a plan's contacts file: who to tell about a retiring service, in which
// language, and how important they are. It is the one reader of that file; the offline plan
// check, the server that stores a plan's bundle, the usage analysis and the rehearsal all use
// it, so they accept and refuse the same files.
//
// The format is CSV with a header row naming its columns, in any order:
//
//	id,email,name,locale,tier,timezone
//
// or a JSON array of objects with those fields (the first character, [, tells them apart).
// id is required and unique; the others are optional. Contacts are personal data: callers keep
// them out of events and logs.
package contacts

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Columns are the columns a contacts file may have; id is required.
var Columns = []string{"id", "email", "name", "locale", "tier", "timezone"}

// MaxProblems is how many problems Read reports before it stops reading.
const MaxProblems = 20

// maxCell bounds one cell; a longer one is a problem, not a memory burden.
const maxCell = 1024

// Contact is one row of a contacts file.
type Contact struct {
	ID       string `json:"id"`
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
	Locale   string `json:"locale,omitempty"`
	Tier     string `json:"tier,omitempty"`
	TimeZone string `json:"timezone,omitempty"`
	// Line is the row's line in the file (the header is line 1).
	Line int `json:"-"`
}

// Summary counts a sunset's contacts, without naming any.
type Summary struct {
	Contacts  int64            `json:"contacts"`
	WithEmail int64            `json:"with_email"`
	Tiers     map[string]int64 `json:"tiers"`
	Locales   map[string]int64 `json:"locales"`
}

// Problem is one thing wrong in a contacts file, at a line and (when known) a column, both
// counted from 1; columns count bytes.
type Problem struct {
	Line, Col int
	Message   string
}

// String formats the problem as LINE:COL: message (LINE: message without a column).
func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%d:%d: %s", p.Line, p.Col, p.Message)
	case p.Line > 0:
		return fmt.Sprintf("%d: %s", p.Line, p.Message)
	}
	return p.Message
}

// Error is the error Read returns for a file it refuses: every problem found, in file order.
type Error struct {
	Problems []Problem
}

// Error implements error.
func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = "line " + p.String()
	}
	return "contacts: " + strings.Join(parts, "; ")
}

// Options refine what Read accepts.
type Options struct {
	// Tiers, when not empty, are the only tiers a contact may have (the plan's consumers.tiers).
	Tiers []string
}

// Read streams the contacts in r to fn in file order, without holding the file in memory: only
// a 12-byte digest of each id is kept, to refuse duplicates. It reads the whole input and
// returns an *Error listing every problem (up to MaxProblems) when the file is not acceptable;
// once a problem is found fn is not called again, so a caller that stores rows as they come
// discards what it stored when Read returns an *Error. An error fn returns stops Read and is
// returned as it is.
func Read(r io.Reader, opt Options, fn func(Contact) error) error {
	rd := &reader{opt: opt, seen: map[uint64]uint32{}, zones: map[string]bool{}}
	return rd.read(r, fn)
}

type reader struct {
	json     bool // a JSON array: problems name entries, not lines
	opt      Options
	col      map[string]int
	problems []Problem
	seed     maphash.Seed
	seen     map[uint64]uint32 // digest of an id → its line
	zones    map[string]bool
}

func (rd *reader) add(line, col int, format string, args ...any) {
	if len(rd.problems) >= MaxProblems {
		return
	}
	rd.problems = append(rd.problems, Problem{Line: line, Col: col, Message: fmt.Sprintf(format, args...)})
}

func (rd *reader) err() error {
	if len(rd.problems) == 0 {
		return nil
	}
	if len(rd.problems) >= MaxProblems {
		rd.problems = append(rd.problems, Problem{Message: fmt.Sprintf("stopped after %d problems; fix these and try again", MaxProblems)})
	}
	return &Error{Problems: rd.problems}
}

func (rd *reader) read(r io.Reader, fn func(Contact) error) error {
	rd.seed = maphash.MakeSeed()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		b, err := br.Peek(1)
		if err != nil || (b[0] != ' ' && b[0] != '\t' && b[0] != '\r' && b[0] != '\n') {
			if err == nil && b[0] == '[' {
				rd.json = true
				return rd.readJSON(br, fn)
			}
			break
		}
		br.ReadByte()
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		rd.add(1, 0, "the file is empty; it needs a header row naming its columns (%s)", strings.Join(Columns, ","))
		return rd.err()
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return fmt.Errorf("contacts: %w", err)
		}
		rd.csvProblem(err)
		return rd.err()
	}
	if !rd.header(header) {
		return rd.err()
	}
	width := len(header)
	for len(rd.problems) < MaxProblems {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("contacts: %w", err)
			}
			rd.csvProblem(err)
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != width {
			rd.add(line, 0, "%d cells, but the header names %d columns", len(rec), width)
			continue
		}
		c, ok := rd.row(cr, rec, line)
		if !ok || len(rd.problems) > 0 {
			continue
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if len(rd.problems) >= MaxProblems {
		// Drain the rest: the caller may hash the whole input.
		if _, err := io.Copy(io.Discard, br); err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
	}
	return rd.err()
}

func (rd *reader) csvProblem(err error) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrBareQuote) || errors.Is(pe.Err, csv.ErrQuote) {
			msg += ` (a quote inside a cell must be doubled: "a ""quoted"" word")`
		}
		rd.add(pe.Line, pe.Column, "not valid CSV: %s", msg)
		return
	}
	rd.add(0, 0, "cannot read the file: %v", err)
}

// header checks the header row and records where each column is.
func (rd *reader) header(h []string) bool {
	rd.col = map[string]int{}
	allowed := strings.Join(Columns, ", ")
	for i, name := range h {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		key := strings.ToLower(strings.TrimSpace(name))
		switch {
		case !utf8.ValidString(name):
			rd.add(1, 0, "the header is not valid UTF-8; save the file as UTF-8")
			return false
		case key == "":
			rd.add(1, 0, "column %d has no name (allowed: %s)", i+1, allowed)
		case !contains(Columns, key):
			rd.add(1, 0, "unknown column %q (allowed: %s)", name, allowed)
		default:
			if _, dup := rd.col[key]; dup {
				rd.add(1, 0, "column %q appears twice", key)
			}
			rd.col[key] = i
		}
	}
	if _, ok := rd.col["id"]; !ok {
		rd.add(1, 0, "the header has no id column (allowed: %s; id is required)", allowed)
	}
	return len(rd.problems) == 0
}

// row checks one record and returns it as a Contact.
func (rd *reader) row(cr *csv.Reader, rec []string, line int) (Contact, bool) {
	ok := true
	for i, cell := range rec {
		l, col := cr.FieldPos(i)
		ok = rd.cell(func(shift int, format string, args ...any) { rd.add(l, col+shift, format, args...) }, cell) && ok
	}
	get := func(name string) string {
		if i, found := rd.col[name]; found {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	c := Contact{Line: line, ID: get("id"), Email: get("email"), Name: get("name"), Locale: get("locale"), Tier: get("tier"), TimeZone: get("timezone")}
	ok = rd.fields(c, func(name string) func(string, ...any) {
		col := 0
		if i, found := rd.col[name]; found {
			_, col = cr.FieldPos(i)
		}
		return func(format string, args ...any) { rd.add(line, col, format, args...) }
	}) && ok
	return c, ok
}

// cell checks one cell's bytes; report adds a problem at the cell, shift bytes into it.
func (rd *reader) cell(report func(shift int, format string, args ...any), cell string) bool {
	switch {
	case !utf8.ValidString(cell):
		report(invalidAt(cell), "not valid UTF-8; save the file as UTF-8")
		return false
	case len(cell) > maxCell:
		report(0, "a cell of %d bytes (at most %d)", len(cell), maxCell)
		return false
	}
	if t := strings.TrimLeft(cell, " "); t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0])) {
		report(0, "the cell starts with %q: a spreadsheet would run it as a formula (CSV injection); remove that character or put a letter first", t[:1])
		return false
	}
	return true
}

// fields checks a contact's values; at(column) reports a problem at that column.
func (rd *reader) fields(c Contact, at func(column string) func(string, ...any)) bool {
	ok := true
	if c.ID == "" {
		at("id")("the id is empty; every contact needs one")
		ok = false
	} else if strings.IndexFunc(c.ID, unicode.IsControl) >= 0 {
		at("id")("the id holds a control character")
		ok = false
	} else {
		h := maphash.String(rd.seed, c.ID)
		if first, dup := rd.seen[h]; dup {
			at("id")("duplicate id %q: %s has it too", c.ID, rd.place(first))
			ok = false
		} else {
			rd.seen[h] = uint32(c.Line)
		}
	}
	if c.Email != "" && !plainAddress(c.Email) {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || !strings.Contains(a.Address, "@") {
			at("email")("%q is not an email address (write only the address: name@example.com)", c.Email)
			ok = false
		}
	}
	if c.Locale != "" && !KnownLocale(c.Locale) {
		at("locale")("unknown locale %q (Sunset writes notices in en and zh: use en, en-GB, zh, zh-CN…)", c.Locale)
		ok = false
	}
	if c.Tier != "" && len(rd.opt.Tiers) > 0 && !contains(rd.opt.Tiers, c.Tier) {
		at("tier")("unknown tier %q (the plan's consumers.tiers: %s)", c.Tier, strings.Join(rd.opt.Tiers, ", "))
		ok = false
	}
	if c.TimeZone != "" {
		valid, known := rd.zones[c.TimeZone]
		if !known {
			_, err := time.LoadLocation(c.TimeZone)
			valid = err == nil && len(rd.zones) < 1000
			rd.zones[c.TimeZone] = valid
		}
		if !valid {
			at("timezone")("unknown time zone %q (an IANA name such as Asia/Shanghai)", c.TimeZone)
			ok = false
		}
	}
	return ok
}

// readJSON reads a JSON array of objects with the fields of Contact, checked as CSV rows are;
// problems name the entry (counted from 1).
func (rd *reader) readJSON(r io.Reader, fn func(Contact) error) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if _, err := dec.Token(); err != nil {
		return rd.jsonProblem(0, err)
	}
	for i := 1; dec.More() && len(rd.problems) < MaxProblems; i++ {
		var c Contact
		if err := dec.Decode(&c); err != nil {
			return rd.jsonProblem(i, err)
		}
		c.Line = i + 1
		report := func(format string, args ...any) {
			rd.add(0, 0, "entry %d: %s", i, fmt.Sprintf(format, args...))
		}
		ok := true
		for _, v := range []string{c.ID, c.Email, c.Name, c.Locale, c.Tier, c.TimeZone} {
			ok = rd.cell(func(_ int, format string, args ...any) { report(format, args...) }, v) && ok
		}
		c.ID, c.Email, c.Name = strings.TrimSpace(c.ID), strings.TrimSpace(c.Email), strings.TrimSpace(c.Name)
		c.Locale, c.Tier, c.TimeZone = strings.TrimSpace(c.Locale), strings.TrimSpace(c.Tier), strings.TrimSpace(c.TimeZone)
		ok = rd.fields(c, func(string) func(string, ...any) { return report }) && ok
		if !ok || len(rd.problems) > 0 {
			continue
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if len(rd.problems) < MaxProblems {
		if _, err := dec.Token(); err != nil {
			return rd.jsonProblem(0, err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			rd.add(0, 0, "text after the JSON array")
		}
	}
	if _, err := io.Copy(io.Discard, io.MultiReader(dec.Buffered(), r)); err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	return rd.err()
}

// jsonProblem records a JSON syntax or type error (entry 0: before the first entry) and
// returns the file's problems; an error reading r is returned as it is.
func (rd *reader) jsonProblem(entry int, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se), errors.As(err, &te), errors.Is(err, io.ErrUnexpectedEOF) && rd.json, errors.Is(err, io.EOF):
		if entry > 0 {
			rd.add(0, 0, "entry %d: not a contact: %v", entry, err)
		} else {
			rd.add(0, 0, "not a JSON array of contacts: %v", err)
		}
		return rd.err()
	}
	var de *json.InvalidUnmarshalError
	if errors.As(err, &de) || strings.HasPrefix(err.Error(), "json:") || strings.HasPrefix(err.Error(), "invalid character") {
		rd.add(0, 0, "entry %d: %v", entry, err)
		return rd.err()
	}
	return fmt.Errorf("contacts: %w", err)
}

// place names where the contact numbered line was: its line, or its entry in a JSON file.
func (rd *reader) place(line uint32) string {
	if rd.json {
		return fmt.Sprintf("entry %d", line-1)
	}
	return fmt.Sprintf("line %d", line)
}

// plainAddress reports whether s is an address net/mail would surely accept as written: one @
// between a local part of letters, digits and ._%+- and a domain of dotted labels. Most
// addresses are; the others go through net/mail, which is much slower.
func plainAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || at == len(s)-1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._%+-", c) >= 0) {
			return false
		}
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// KnownLocale reports whether Sunset writes notices in locale: a language tag whose language
// is en or zh (en, en-GB, zh, zh-CN, zh_TW).
func KnownLocale(locale string) bool {
	lang, rest, _ := strings.Cut(strings.ReplaceAll(locale, "_", "-"), "-")
	lang = strings.ToLower(lang)
	if lang != "en" && lang != "zh" {
		return false
	}
	if rest == "" {
		return true
	}
	for _, sub := range strings.Split(rest, "-") {
		if sub == "" || len(sub) > 8 || strings.IndexFunc(sub, func(r rune) bool {
			return !(r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)))
		}) >= 0 {
			return false
		}
	}
	return true
}

// invalidAt is the byte offset of the first invalid UTF-8 sequence in s.
func invalidAt(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return i
			}
		}
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
