package public

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/sunsetops/sunset/web/httpx"
)

// AtomNS is the namespace of Atom (RFC 4287).
const AtomNS = "http://www.w3.org/2005/Atom"

// atomFeed is an Atom feed document (RFC 4287 §4.1.1): id, title, updated, author, links and
// entries.
type atomFeed struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang     string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	ID       string      `xml:"id"`
	Title    atomText    `xml:"title"`
	Subtitle *atomText   `xml:"subtitle,omitempty"`
	Updated  string      `xml:"updated"`
	Author   atomPerson  `xml:"author"`
	Links    []atomLink  `xml:"link"`
	Entries  []atomEntry `xml:"entry"`
}

// atomEntry is one entry (RFC 4287 §4.1.2).
type atomEntry struct {
	ID        string     `xml:"id"`
	Title     atomText   `xml:"title"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published"`
	Links     []atomLink `xml:"link"`
	Content   atomText   `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel      string `xml:"rel,attr"`
	Type     string `xml:"type,attr,omitempty"`
	Href     string `xml:"href,attr"`
	HrefLang string `xml:"hreflang,attr,omitempty"`
}

// handlePublicFeed serves GET /p/{name}/feed.atom: the service's announcements that asked for
// the feed, newest first, as an Atom feed in the reader's language (?lang=zh or
// Accept-Language). The feed's id is its status page's URL; an entry's id is the URL of the
// announcement on that page, so ids stay the same across languages and restarts.
func (s *Server) handlePublicFeed(w http.ResponseWriter, r *http.Request) {
	lang := httpx.PageLanguage(r)
	p, st, anns, err := s.publicService(r, lang)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t := publicTexts[lang]
	base := s.publicURL(r)
	page := base + "/p/" + url.PathEscape(p.Service.Name)
	title := p.Service.Title.In(notifyLocale(lang))
	if title == "" {
		title = p.Service.Name
	}
	q := ""
	if lang == "zh-Hans" {
		q = "?lang=zh"
	}
	f := atomFeed{
		Lang: lang, ID: page, Title: atomText{Type: "text", Body: t.Title + " " + title},
		Author: atomPerson{Name: title},
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: page + "/feed.atom" + q},
			{Rel: "alternate", Type: "text/html", Href: page + q, HrefLang: lang},
		},
	}
	if d := p.Service.Description.In(notifyLocale(lang)); d != "" {
		f.Subtitle = &atomText{Type: "text", Body: d}
	}
	// The feed changed last when its newest entry appeared, or when the sunset was made.
	updated := st.CreatedAt
	for _, a := range anns {
		if !slices.Contains(a.Notice.Channels, "feed") {
			continue
		}
		at := a.At.UTC().Format(time.RFC3339)
		if a.At.After(updated) {
			updated = a.At
		}
		f.Entries = append(f.Entries, atomEntry{
			ID: page + "#" + a.ID, Title: atomText{Type: "text", Body: a.Title}, Updated: at, Published: at,
			Links:   []atomLink{{Rel: "alternate", Type: "text/html", Href: page + q + "#" + a.ID}},
			Content: atomText{Type: "text", Body: a.Text},
		})
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	body, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/atom+xml; charset=utf-8")
	h.Set("Vary", "Accept-Language")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
