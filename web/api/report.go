package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/web/httpx"
)

// Reports keeps what a sunset's report needs beyond the engine's answers; *store.DB implements
// it. Errors follow the Engine's vocabulary (ENOTFOUND for an unknown sunset).
type Reports interface {
	// ReportData fills in the usage counts, the notice ledger and awareness, the latest runbook
	// run and the lessons learned of the sunset named name.
	ReportData(ctx context.Context, name string, in *report.Input) error
	// PutLessons replaces the sunset's lessons learned.
	PutLessons(ctx context.Context, name string, l report.Lessons) error
}

// Limits of the report routes.
const (
	// MaxAccountsCSV bounds the accounts CSV posted with a report request, in bytes.
	MaxAccountsCSV = 8 << 20
)

// reportMediaTypes maps a report format to the media type it is served as.
var reportMediaTypes = map[string]string{
	"json": "application/json",
	"md":   "text/markdown; charset=utf-8",
	"html": "text/html; charset=utf-8",
}

// handleReport serves GET and POST /api/v1/sunsets/{name}/report. POST carries an accounts CSV
// (text/csv) for the business impact. The report (not the assessment) of a shut-down sunset
// moves it to evaluated, recorded as a sunset.evaluated event by the caller.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	if s.Reports == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Reports are not kept by this server."))
		return
	}
	name := r.PathValue("name")
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "json"
	}
	mediaType, ok := reportMediaTypes[format]
	if !ok {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "format %q: use json, md or html", format))
		return
	}
	lang := q.Get("lang")
	switch lang {
	case "":
		lang = "en"
	case "en", "zh":
	default:
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "lang %q: use en or zh", lang))
		return
	}
	assessment := false
	switch q.Get("assessment") {
	case "", "0", "false":
	case "1", "true":
		assessment = true
	default:
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "assessment %q: use 1 or 0", q.Get("assessment")))
		return
	}
	var accounts []report.Account
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxAccountsCSV))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				err = httpx.TooLarge("the accounts CSV", MaxAccountsCSV)
			}
			s.writeError(w, r, err)
			return
		}
		if accounts, err = report.ReadAccounts(bytes.NewReader(body)); err != nil {
			s.writeError(w, r, &sunset.Error{Code: sunset.EINVALID, Message: err.Error()})
			return
		}
	}
	if !assessment {
		if err := s.evaluate(r, name); err != nil {
			s.writeError(w, r, err)
			return
		}
	} else if _, err := s.Engine.Status(r.Context(), name); err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := s.reportInput(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in.Accounts = accounts
	var doc report.Document
	if assessment {
		doc = report.Assess(*in)
	} else {
		doc = report.Build(*in)
	}
	var buf bytes.Buffer
	switch format {
	case "json":
		err = doc.WriteJSON(&buf)
	case "md":
		err = doc.WriteMarkdown(&buf, lang)
	default:
		err = doc.WriteHTML(&buf, lang)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// evaluate moves a shut-down sunset to evaluated, by the request's actor, as reading its report
// does; any other state is left as it is. An unknown sunset is an error.
func (s *Server) evaluate(r *http.Request, name string) error {
	st, err := s.Engine.Status(r.Context(), name)
	if err != nil {
		return err
	}
	if st.State != engine.StateShutDown {
		return nil
	}
	actor, err := s.actor(r)
	if err != nil {
		return err
	}
	_, err = s.Engine.MarkEvaluated(r.Context(), name, actor)
	return err
}

// reportInput gathers the report's input from the engine, the report store, the feedback and
// the plan's contacts file.
func (s *Server) reportInput(ctx context.Context, name string) (*report.Input, error) {
	return s.ReportInput(ctx, name, true)
}

// ReportInput gathers the report's input of the sunset called name; themes asks for the
// feedback's themes too (found by Themer; the overview's history needs the mood, not the
// themes, and must not wait for the Chinese dictionary to load).
func (s *Server) ReportInput(ctx context.Context, name string, themes bool) (*report.Input, error) {
	if !themes {
		return s.reportInputWith(ctx, name, nil)
	}
	return s.reportInputWith(ctx, name, s.Themer)
}

// reportInputWith is reportInput with the feedback's themes found by themer; nil leaves them
// out (the overview's history needs the mood, not the themes, and must not wait for the
// Chinese dictionary to load).
func (s *Server) reportInputWith(ctx context.Context, name string, themer *feedback.Themer) (*report.Input, error) {
	st, err := s.Engine.Status(ctx, name)
	if err != nil {
		return nil, err
	}
	p, _, err := s.Engine.Plan(ctx, name)
	if err != nil {
		return nil, err
	}
	in := &report.Input{Name: name, State: string(st.State), Plan: p, Signoffs: st.Signoffs, Now: s.now()}
	acts, err := s.Engine.Actions(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, a := range acts {
		in.Actions = append(in.Actions, report.Action{Key: a.Key, Kind: a.Kind, Name: a.Name, Status: string(a.Status), At: a.At, DoneAt: a.DoneAt})
	}
	evs, err := s.Engine.Events(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		in.Events = append(in.Events, report.Event{Seq: e.Seq, At: e.At, Type: e.Type, Actor: e.Actor, Data: e.Data})
	}
	v, err := s.Engine.VerifyEvents(ctx, name)
	if err != nil {
		return nil, err
	}
	in.Verification = &report.Verification{OK: v.OK, Events: v.Events, Head: v.Head, Problems: v.Problems}
	// The operator UI builds figures without a report store too; they then lack usage and notices.
	if s.Reports != nil {
		if err := s.Reports.ReportData(ctx, name, in); err != nil {
			return nil, err
		}
	}
	if s.Feedback != nil {
		items, err := s.Feedback.List(ctx, name, time.Time{})
		if err != nil {
			return nil, err
		}
		sum := feedback.Summarize(name, items, p.Location(), themer)
		in.Feedback = &sum
	}
	if p.Consumers.Contacts != "" {
		if err := s.readContacts(ctx, name, in); err != nil {
			// The report stands without names and tiers; say why in the log.
			s.logger().Warn("report without contacts", "sunset", name, "err", err)
		}
	}
	return in, nil
}

// readContacts reads the contacts stored with the sunset's plan bundle into in.Contacts.
func (s *Server) readContacts(ctx context.Context, name string, in *report.Input) error {
	if s.Contacts == nil {
		return errors.New("the server keeps no contacts")
	}
	return s.Contacts.EachContact(ctx, name, func(c contacts.Contact) error {
		in.Contacts = append(in.Contacts, report.Contact{ID: c.ID, Name: c.Name, Tier: c.Tier})
		return nil
	})
}

// lessonsRequest is the body of PUT /api/v1/sunsets/{name}/lessons.
type lessonsRequest struct {
	Text string `json:"text"`
}

// handleLessonsPut serves PUT /api/v1/sunsets/{name}/lessons: it replaces the lessons learned
// shown in the sunset's report.
func (s *Server) handleLessonsPut(w http.ResponseWriter, r *http.Request) {
	if s.Reports == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Reports are not kept by this server."))
		return
	}
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req lessonsRequest
	// Up to 4 bytes a character in UTF-8, plus the JSON around the text.
	if err := httpx.DecodeJSON(http.MaxBytesReader(w, r.Body, 4*httpx.MaxLessons+1024), &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len([]rune(req.Text)) > httpx.MaxLessons {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "text: the lessons are longer than %d characters", httpx.MaxLessons))
		return
	}
	l := report.Lessons{Text: strings.TrimSpace(req.Text) + "\n", UpdatedBy: actor, UpdatedAt: s.now().UTC()}
	if strings.TrimSpace(req.Text) == "" {
		l.Text = ""
	}
	if err := s.Reports.PutLessons(r.Context(), r.PathValue("name"), l); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Audit(r, r.PathValue("name"), "lessons.updated", actor, map[string]any{"characters": len([]rune(l.Text))}); err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, l)
}
