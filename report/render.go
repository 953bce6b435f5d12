package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Document is a report or an assessment: both render as JSON, Markdown and HTML.
type Document interface {
	// WriteJSON writes the document as indented JSON.
	WriteJSON(w io.Writer) error
	// WriteMarkdown writes the document as GitHub-flavoured Markdown in lang ("en" or "zh").
	WriteMarkdown(w io.Writer, lang string) error
	// WriteHTML writes the document as one self-contained HTML file in lang: inline CSS and
	// SVG, no script, no external URL.
	WriteHTML(w io.Writer, lang string) error
}

// Interface guards.
var (
	_ Document = (*Report)(nil)
	_ Document = (*Assessment)(nil)
)

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error { return writeJSON(w, r) }

// WriteMarkdown writes r as Markdown in lang.
func (r *Report) WriteMarkdown(w io.Writer, lang string) error {
	return reportPage(r, lang).markdown(w)
}

// WriteHTML writes r as one self-contained HTML file in lang.
func (r *Report) WriteHTML(w io.Writer, lang string) error { return reportPage(r, lang).html(w) }

// WriteJSON writes a as indented JSON.
func (a *Assessment) WriteJSON(w io.Writer) error { return writeJSON(w, a) }

// WriteMarkdown writes a as Markdown in lang.
func (a *Assessment) WriteMarkdown(w io.Writer, lang string) error {
	return assessmentPage(a, lang).markdown(w)
}

// WriteHTML writes a as one self-contained HTML file in lang.
func (a *Assessment) WriteHTML(w io.Writer, lang string) error {
	return assessmentPage(a, lang).html(w)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func sortStrings(s []string) { slices.Sort(s) }

// mdCell escapes a table cell: pipes and line breaks would break the row.
func mdCell(s string) string {
	if s == "" {
		return " "
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", "<br>")
}

func (p *page) markdown(out io.Writer) error {
	w := bufio.NewWriter(out)
	fmt.Fprintf(w, "# %s\n\n", mdCell(p.title))
	fmt.Fprintf(w, "`%s`\n\n", p.subtitle)
	for _, f := range p.meta {
		fmt.Fprintf(w, "- **%s**: %s\n", f.label, mdCell(f.value))
	}
	for _, s := range p.sections {
		fmt.Fprintf(w, "\n## %s\n\n", s.heading)
		for _, f := range s.facts {
			fmt.Fprintf(w, "- **%s**: %s\n", f.label, mdCell(f.value))
		}
		if len(s.facts) > 0 && (len(s.tables) > 0 || s.text != "" || s.empty != "") {
			fmt.Fprintln(w)
		}
		for i, tb := range s.tables {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if tb.caption != "" {
				fmt.Fprintf(w, "**%s**\n\n", tb.caption)
			}
			fmt.Fprint(w, "|")
			for _, h := range tb.head {
				fmt.Fprintf(w, " %s |", mdCell(h))
			}
			fmt.Fprint(w, "\n|")
			for i := range tb.head {
				if i < len(tb.right) && tb.right[i] {
					fmt.Fprint(w, " ---: |")
				} else {
					fmt.Fprint(w, " --- |")
				}
			}
			fmt.Fprintln(w)
			for _, row := range tb.rows {
				fmt.Fprint(w, "|")
				for _, c := range row {
					fmt.Fprintf(w, " %s |", mdCell(c))
				}
				fmt.Fprintln(w)
			}
		}
		if s.text != "" {
			fmt.Fprintln(w, strings.TrimRight(s.text, "\n"))
		}
		if s.empty != "" {
			fmt.Fprintln(w, s.empty)
		}
	}
	return w.Flush()
}
