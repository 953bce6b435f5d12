package notify

import (
	"bytes"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/sunsetops/sunset/notify/channel"
	"github.com/sunsetops/sunset/plan"
)

// Rendered is one message in one locale, ready for a channel (channel.Rendered).
type Rendered = channel.Rendered

// RenderRequest says which message to render for whom.
type RenderRequest struct {
	// Template names a built-in template or one of the plan's templates.
	Template string
	// Notice is the notice's action key ("notice/2"), for the template's .Notice.Key.
	Notice    string
	Mandatory bool
	Recipient Recipient
	// Locale overrides the recipient's locale when set.
	Locale string
	// PublicURL is where Sunset's public pages are served (https://sunset.example.com); links
	// are built under it.
	PublicURL string
	// Usage is the recipient's recent use, when known.
	Usage *plan.UsageData
	// Changes are the milestones a re-plan moved (schedule_changed).
	Changes []MilestoneChange
	// Data is the delivery's own content (tripped guardrails, an owner's task).
	Data Data
	// UnsubscribeKey signs the unsubscribe link; without it the message has none.
	UnsubscribeKey []byte
	// ExportURL returns the recipient's signed data-export link (backup/export's
	// Service.ExportURL); nil, or "" from it, leaves the message without one.
	ExportURL func(sunset, userID string) string
	// TextOnly leaves Rendered.HTML empty, for channels that send only text (all but email).
	TextOnly bool
}

// MilestoneChange is one milestone a re-plan moved. From is zero for a new milestone.
type MilestoneChange struct {
	Milestone string    `json:"milestone"`
	From      time.Time `json:"from,omitzero"`
	To        time.Time `json:"to"`
}

// Locale maps a recipient's locale ("zh-CN", "zh_TW", "en-GB", "") to the locale templates are
// written in: "zh" or "en" (the fallback).
func Locale(l string) string {
	if len(l) >= 2 && strings.EqualFold(l[:2], "zh") {
		return "zh"
	}
	return "en"
}

// Renderer renders notice templates, caching parsed templates. It is safe for concurrent use;
// the zero value is ready.
type Renderer struct {
	cache sync.Map // renderKey → *template.Template
	// bases caches the part of NoticeData that is the same for every recipient of one plan in
	// one locale and time zone (baseKey → *plan.NoticeData).
	bases sync.Map
}

type baseKey struct {
	p          *plan.Plan
	locale, tz string
}

type renderKey struct {
	p            *plan.Plan
	name, locale string
	subject      bool
}

// Render renders the message req asks for from plan p: the template in the recipient's locale
// (English when the template has no such locale), with the recipient's instants in their time
// zone (the plan's when they name none or an unknown one).
func (r *Renderer) Render(p *plan.Plan, req RenderRequest) (Rendered, error) {
	locale := Locale(req.Recipient.Locale)
	if req.Locale != "" {
		locale = Locale(req.Locale)
	}
	msg, locale, err := pickMessage(p, req.Template, locale)
	if err != nil {
		return Rendered{}, err
	}
	data := r.noticeData(p, req, locale)
	subject, err := r.exec(p, req.Template, locale, true, msg.Subject, data)
	if err != nil {
		return Rendered{}, err
	}
	body, err := r.exec(p, req.Template, locale, false, msg.Body, data)
	if err != nil {
		return Rendered{}, err
	}
	subject = strings.Join(strings.Fields(subject), " ") // a subject is one line
	body = strings.TrimSpace(body) + "\n"
	out := Rendered{Locale: locale, Subject: subject, Text: body, Links: data.Links}
	if !req.TextOnly {
		out.HTML = toHTML(subject, body, locale)
	}
	return out, nil
}

// noticeData is NoticeData with the recipient-independent part (service, milestones,
// alternatives, features) built once per plan, locale and time zone and copied for each
// message: a 100,000-recipient notice resolves the plan's instants a handful of times, not
// 100,000.
func (r *Renderer) noticeData(p *plan.Plan, req RenderRequest, locale string) *plan.NoticeData {
	k := baseKey{p: p, locale: locale, tz: req.Recipient.TimeZone}
	var b *base
	if v, ok := r.bases.Load(k); ok {
		b = v.(*base)
	} else {
		loc := recipientLocation(p, req.Recipient)
		b = &base{data: noticeBase(p, loc, locale), loc: loc}
		r.bases.Store(k, b)
	}
	d := *b.data // shallow: the shared slices and map are only read by templates
	fillRecipient(b.loc, &d, p, req, locale)
	return &d
}

// base is the recipient-independent part of a message's data, and the zone it is written in.
type base struct {
	data *plan.NoticeData
	loc  *time.Location
}

func (r *Renderer) exec(p *plan.Plan, name, locale string, subject bool, text string, data *plan.NoticeData) (string, error) {
	k := renderKey{p: p, name: name, locale: locale, subject: subject}
	var t *template.Template
	if v, ok := r.cache.Load(k); ok {
		t = v.(*template.Template)
	} else {
		var err error
		t, err = template.New(name).Option("missingkey=error").Parse(text)
		if err != nil {
			return "", fmt.Errorf("template %s (%s): %w", name, locale, err)
		}
		r.cache.Store(k, t)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("template %s (%s): %w", name, locale, err)
	}
	return b.String(), nil
}

// pickMessage finds template name in locale: the plan's own template first, then the built-in
// one; English when the locale is missing.
func pickMessage(p *plan.Plan, name, locale string) (*plan.Message, string, error) {
	var cands []plan.Template
	if t, ok := p.Templates[name]; ok {
		cands = append(cands, t)
	}
	if t, ok := Builtin[name]; ok {
		cands = append(cands, t)
	}
	if len(cands) == 0 {
		return nil, "", fmt.Errorf("unknown template %q", name)
	}
	for _, l := range []string{locale, "en", "zh"} {
		for _, t := range cands {
			m := t.EN
			if l == "zh" {
				m = t.ZH
			}
			if m != nil {
				return m, l, nil
			}
		}
	}
	return nil, "", fmt.Errorf("template %q has no message", name)
}

// NoticeData builds what a template sees for req from plan p, in locale ("en" or "zh").
func NoticeData(p *plan.Plan, req RenderRequest, locale string) *plan.NoticeData {
	loc := recipientLocation(p, req.Recipient)
	d := noticeBase(p, loc, locale)
	fillRecipient(loc, d, p, req, locale)
	return d
}

// recipientLocation is the recipient's time zone, the plan's when they name none or an unknown
// one.
func recipientLocation(p *plan.Plan, r Recipient) *time.Location {
	if tz := r.TimeZone; tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			return l
		}
	}
	return p.Location()
}

// noticeBase builds the part of what a template sees that is the same for every recipient of
// plan p reading locale in loc: the service, milestones, alternatives and features.
func noticeBase(p *plan.Plan, loc *time.Location, locale string) *plan.NoticeData {
	when := func(t time.Time) string { return FormatInstant(t, loc, locale) }
	d := &plan.NoticeData{
		Service: plan.ServiceData{
			Name: p.Service.Name, Title: p.Service.Title.In(locale), Description: p.Service.Description.In(locale),
			Docs: p.Service.Docs, TimeZone: loc.String(),
		},
		Milestones: map[string]string{},
	}
	if d.Service.Title == "" {
		d.Service.Title = p.Service.Name
	}
	for _, m := range plan.StandardMilestones {
		d.Milestones[m] = ""
	}
	ms, err := p.MilestoneTimes()
	if err == nil {
		for name, t := range ms {
			d.Milestones[name] = when(t)
		}
	}
	for _, a := range p.Alternatives {
		d.Alternatives = append(d.Alternatives, plan.AlternativeData{Name: a.Name, URL: a.URL, Guide: a.Guide, Description: a.Description.In(locale)})
	}
	if len(d.Alternatives) > 0 {
		d.Alternative = d.Alternatives[0]
	}
	for _, f := range p.Features {
		if f.Core && f.Gone == nil {
			continue
		}
		gone, ok := ms[plan.Shutdown]
		if f.Gone != nil {
			if t, err := p.Resolve(*f.Gone, ms); err == nil {
				gone, ok = t, true
			}
		}
		if !ok {
			continue
		}
		title := f.Title.In(locale)
		if title == "" {
			title = f.Name
		}
		d.Features = append(d.Features, plan.FeatureData{Name: f.Name, Title: title, Gone: when(gone), Redirect: f.Redirect})
	}
	return d
}

// fillRecipient sets the parts of d that depend on the request: the recipient, the notice, their
// usage, the moved milestones, tripped guardrails, task and links, with instants written in loc.
func fillRecipient(loc *time.Location, d *plan.NoticeData, p *plan.Plan, req RenderRequest, locale string) {
	when := func(t time.Time) string { return FormatInstant(t, loc, locale) }
	d.Recipient = plan.RecipientData{
		ID: req.Recipient.ID, Name: req.Recipient.Name, Email: req.Recipient.Email, Locale: locale,
		Tier: req.Recipient.Tier, TimeZone: loc.String(),
	}
	d.Notice = plan.NoticeInfo{Key: req.Notice, Template: req.Template, Locale: locale, Mandatory: req.Mandatory}
	switch {
	case req.Recipient.ID == Broadcast:
		// A chat room or a social network: everyone who reads it.
		d.Recipient.Name = map[string]string{"en": "everyone", "zh": "各位"}[locale]
	case d.Recipient.Name == "":
		d.Recipient.Name = map[string]string{"en": "there", "zh": "用户"}[locale]
		if locale == "en" && req.Recipient.Email == "" {
			d.Recipient.Name = req.Recipient.ID
		}
	}
	if req.Usage != nil {
		d.Usage = *req.Usage
	}
	for _, c := range req.Changes {
		ch := plan.ChangeData{Milestone: c.Milestone, To: when(c.To)}
		if !c.From.IsZero() {
			ch.From = when(c.From)
		}
		d.Changes = append(d.Changes, ch)
	}
	for _, g := range req.Data.Guardrails {
		d.Guardrails = append(d.Guardrails, plan.GuardrailData{Name: g.Name, Condition: g.Condition,
			Value: strconv.FormatFloat(g.Value, 'g', 4, 64)})
	}
	if t := req.Data.Task; t != nil {
		d.Task = plan.TaskData{Key: t.Key, Kind: t.Kind, Name: t.Name, Detail: t.Detail, At: when(t.At), Areas: t.Areas}
		if t.Lead > 0 {
			d.Task.Lead = plan.FormatDuration(t.Lead)
		}
	}
	if a := req.Data.Alert; a != nil {
		d.Alert = plan.AlertData{Kind: a.Kind, Notice: a.Notice, Channel: a.Channel, Since: when(a.Since),
			LastError: a.LastError, Count: a.Count}
	}
	if f := req.Data.Failure; f != nil {
		d.Failure = plan.FailureData{Error: f.Error, Attempts: f.Attempts}
	}
	d.Links = Links(p, req.PublicURL, req.Recipient, req.Mandatory, req.UnsubscribeKey)
	if p.Data.Export != nil && req.ExportURL != nil && req.Recipient.ID != "" && !strings.Contains(req.Recipient.ID, ":") {
		d.Recipient.ExportURL = req.ExportURL(p.Service.Name, req.Recipient.ID)
	}
}

// Links returns the links of a message to recipient r about plan p's service: the public
// status page, the feedback form, the one-click unsubscribe link signed with key (empty when
// the notice is mandatory or there is no key) and the migration guide.
func Links(p *plan.Plan, publicURL string, r Recipient, mandatory bool, key []byte) plan.LinksData {
	if publicURL == "" {
		publicURL = defaultPublicURL
	}
	root := strings.TrimRight(publicURL, "/")
	l := plan.LinksData{Status: root + PublicPath(p.Service.Name), Feedback: root + "/feedback/" + url.PathEscape(p.Service.Name),
		Survey: root + "/survey/" + url.PathEscape(p.Service.Name), Docs: p.Service.Docs}
	if !mandatory {
		l.Unsubscribe = UnsubscribeURL(publicURL, key, r)
	}
	if len(p.Alternatives) > 0 {
		l.Guide = p.Alternatives[0].Guide
	}
	return l
}

// PublicPath is the path of a service's public status page under Sunset's public URL.
func PublicPath(service string) string { return "/p/" + url.PathEscape(service) }

// defaultPublicURL is where links point when no public URL is configured: sunset serve's
// default address.
const defaultPublicURL = "http://127.0.0.1:8080"

// FormatInstant writes t in loc the way a reader of locale expects: "1 April 2027 00:00 CST" or
// "2027年4月1日 00:00 CST".
func FormatInstant(t time.Time, loc *time.Location, locale string) string {
	t = t.In(loc)
	if locale == "zh" {
		return t.Format("2006年1月2日 15:04 MST")
	}
	return t.Format("2 January 2006 15:04 MST")
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"，。）]+`)

// toHTML turns a plain-text body into a small HTML document: blank lines separate paragraphs,
// URLs become links.
func toHTML(subject, body, locale string) string {
	lang := "en"
	if locale == "zh" {
		lang = "zh-CN"
	}
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="` + lang + `"><head><meta charset="utf-8"><title>`)
	b.WriteString(html.EscapeString(subject))
	b.WriteString("</title></head><body>\n")
	for _, para := range strings.Split(strings.TrimSpace(body), "\n\n") {
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>\n")
			}
			last := 0
			for _, m := range linkRE.FindAllStringIndex(line, -1) {
				b.WriteString(html.EscapeString(line[last:m[0]]))
				u := html.EscapeString(line[m[0]:m[1]])
				b.WriteString(`<a href="` + u + `">` + u + `</a>`)
				last = m[1]
			}
			b.WriteString(html.EscapeString(line[last:]))
		}
		b.WriteString("</p>\n")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}
