package feedback

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// MaxImportRows bounds one CSV import.
const MaxImportRows = 100_000

// ImportProblem is a row of a CSV import that was not imported, and why.
type ImportProblem struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// ImportCSV reads feedback exported from a support tool: a header row naming columns among at,
// mood, rating, category, text, contact, consumer and locale (others are ignored and reported
// once), then one row per message. Rows with problems are skipped and reported with their line;
// every other row is returned. at accepts RFC 3339, "2006-01-02 15:04[:05]" (read in loc) or a
// date; rows without it get now.
func ImportCSV(sunsetName string, r io.Reader, loc *time.Location, now time.Time) ([]Feedback, []ImportProblem, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("the CSV file is empty; it needs a header row such as at,mood,category,text,contact,consumer")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("CSV header: %v", err)
	}
	col := map[string]int{}
	var ignored []string
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "at", "mood", "rating", "category", "text", "contact", "consumer", "locale":
			col[h] = i
		default:
			ignored = append(ignored, h)
		}
	}
	if _, ok := col["mood"]; !ok {
		if _, ok := col["rating"]; !ok {
			return nil, nil, errors.New("the CSV header has neither a mood nor a rating column")
		}
	}
	var out []Feedback
	var problems []ImportProblem
	if len(ignored) > 0 {
		problems = append(problems, ImportProblem{Line: 1, Message: "ignored columns: " + strings.Join(ignored, ", ")})
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				problems = append(problems, ImportProblem{Line: pe.Line, Message: pe.Err.Error()})
				if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
					continue
				}
			}
			return out, problems, fmt.Errorf("CSV: %v", err)
		}
		line, _ := cr.FieldPos(0)
		if len(out)+len(problems) >= MaxImportRows {
			return out, problems, fmt.Errorf("more than %d rows; split the file", MaxImportRows)
		}
		in := Input{
			Mood: get(rec, "mood"), Category: get(rec, "category"), Text: get(rec, "text"),
			Contact: get(rec, "contact"), Consumer: get(rec, "consumer"), Locale: get(rec, "locale"),
		}
		if r := strings.TrimSpace(get(rec, "rating")); r != "" {
			n, err := strconv.Atoi(r)
			if err != nil {
				problems = append(problems, ImportProblem{Line: line, Message: fmt.Sprintf("rating: %q is not a number", clip(r, 20))})
				continue
			}
			in.Rating = n
		}
		at := now
		if s := strings.TrimSpace(get(rec, "at")); s != "" {
			t, err := parseAt(s, loc)
			if err != nil {
				problems = append(problems, ImportProblem{Line: line, Message: err.Error()})
				continue
			}
			at = t
		}
		f, err := New(sunsetName, in, at, "import")
		if err != nil {
			problems = append(problems, ImportProblem{Line: line, Message: err.Error()})
			continue
		}
		out = append(out, f)
	}
	return out, problems, nil
}

func parseAt(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("at: cannot read %q as a time; use RFC 3339 or 2006-01-02 15:04", clip(s, 40))
}
