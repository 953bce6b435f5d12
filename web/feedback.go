package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io"
	"net/http"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/web/httpx"
	"github.com/sunsetops/sunset/web/intake"
)

// FeedbackStore keeps users' feedback (store.Feedback implements it).
type FeedbackStore interface {
	// Add stores items, all for one sunset, and sets their IDs; sunset.ENOTFOUND for an
	// unknown sunset.
	Add(ctx context.Context, items []feedback.Feedback) error
	// List returns the sunset's feedback since an instant, oldest first.
	List(ctx context.Context, sunsetName string, since time.Time) ([]feedback.Feedback, error)
}

// Limits of the feedback intake.
const (
	maxFeedbackForm  = 16 << 10 // bytes of a form post
	maxFeedbackCSV   = 10 << 20 // bytes of a CSV import
	honeypotField    = "website"
	feedbackFormPath = "/feedback/"
)

// feedbackEnabled answers 404 problem when the server has no feedback store.
func (s *Server) feedbackEnabled(w http.ResponseWriter, r *http.Request) bool {
	if s.Feedback == nil {
		s.writeError(w, r, sunset.Errorf(sunset.ENOTFOUND, "Feedback is not kept by this server."))
		return false
	}
	return true
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// handleFeedbackCreate serves POST /api/v1/sunsets/{name}/feedback.
// It takes application/json only and refuses a browser's post from another site (package web/intake).
func (s *Server) handleFeedbackCreate(w http.ResponseWriter, r *http.Request) {
	if !s.feedbackEnabled(w, r) {
		return
	}
	if err := s.intakes().CheckAPI(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.allowFeedback(w, r) {
		return
	}
	name := r.PathValue("name")
	var in feedback.Input
	if err := httpx.ReadJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.intakes().AllowSunset(name) {
		s.writeError(w, r, intake.TooManyForSunset(w))
		return
	}
	f, err := feedback.New(name, in, s.now(), "api")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f.Sender = s.senderOf(r)
	items := []feedback.Feedback{f}
	if err := s.Feedback.Add(r.Context(), items); err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, items[0])
}

// handleFeedbackImport serves POST /api/v1/sunsets/{name}/feedback/import: a CSV export from a
// support tool. Valid rows are stored; the others are listed with their line.
func (s *Server) handleFeedbackImport(w http.ResponseWriter, r *http.Request) {
	if !s.feedbackEnabled(w, r) {
		return
	}
	name := r.PathValue("name")
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.Engine.Status(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFeedbackCSV))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, r, httpx.TooLarge("the CSV file", maxFeedbackCSV))
			return
		}
		s.writeError(w, r, err)
		return
	}
	items, problems, err := feedback.ImportCSV(name, bytes.NewReader(body), loc, s.now())
	if err != nil {
		s.writeError(w, r, &sunset.Error{Code: sunset.EINVALID, Message: err.Error()})
		return
	}
	if err := s.Feedback.Add(r.Context(), items); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, name, "feedback.imported", actor, map[string]any{"imported": len(items), "problems": len(problems)}); err != nil {
		s.writeError(w, r, err)
		return
	}
	if problems == nil {
		problems = []feedback.ImportProblem{}
	}
	httpx.WriteJSON(w, http.StatusOK, client.ImportResult{Imported: len(items), Problems: problems})
}

// handleFeedbackSummary serves GET /api/v1/sunsets/{name}/feedback/summary.
func (s *Server) handleFeedbackSummary(w http.ResponseWriter, r *http.Request) {
	if !s.feedbackEnabled(w, r) {
		return
	}
	sum, err := s.feedbackSummary(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, sum)
}

func (s *Server) feedbackSummary(ctx context.Context, name string) (*feedback.Summary, error) {
	st, err := s.Engine.Status(ctx, name)
	if err != nil {
		return nil, err
	}
	items, err := s.Feedback.List(ctx, name, time.Time{})
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	sum := feedback.Summarize(name, items, loc, s.Themer)
	return &sum, nil
}

// --- The public form ---

//go:embed templates/feedback.html templates/survey.html templates/form_parts.html
var feedbackFS embed.FS

var feedbackTemplate = template.Must(template.ParseFS(feedbackFS, "templates/feedback.html", "templates/form_parts.html"))

// formText holds the form's words in one language.
type formText struct {
	Title, Intro, Mood, Positive, Neutral, Negative, Category, Text, TextHint, Contact, ContactHint string
	Consumer, ConsumerHint, Send, Thanks, ThanksMore, Again, Invalid, Honeypot, Language            string
	Categories                                                                                      map[string]string
}

var formTexts = map[string]formText{
	"en": {
		Title: "Tell us how the shutdown affects you", Intro: "We read every message. It helps us decide whether to slow down.",
		Mood: "How do you feel about it?", Positive: "Fine", Neutral: "Neutral", Negative: "It hurts",
		Category: "What is it about?", Text: "Your message", TextHint: "At most 4,000 characters.",
		Contact: "Contact (optional)", ContactHint: "An email address if you want an answer.",
		Consumer: "Your API key name or account id (optional)", ConsumerHint: "So we can see which integration is affected.",
		Send: "Send", Thanks: "Thank you. We have your message.", ThanksMore: "The team that runs this shutdown reads it.",
		Again: "Send another message", Invalid: "Please correct the following:", Honeypot: "Leave this field empty", Language: "Language",
		Categories: map[string]string{
			feedback.NeedMoreTime: "I need more time", feedback.AlternativeLacksFeature: "The alternative lacks a feature I need",
			feedback.MigrationProblem: "Moving to the alternative is hard", feedback.ExportProblem: "Exporting my data does not work",
			feedback.Other: "Something else",
		},
	},
	"zh-Hans": {
		Title: "告诉我们这次下线对您的影响", Intro: "我们会阅读每一条留言，并据此决定是否放慢下线节奏。",
		Mood: "您的感受如何？", Positive: "没问题", Neutral: "一般", Negative: "受到影响",
		Category: "与什么有关？", Text: "您的留言", TextHint: "最多 4000 字。",
		Contact: "联系方式（选填）", ContactHint: "如需回复，请留下邮箱。",
		Consumer: "API 密钥名称或账号 ID（选填）", ConsumerHint: "方便我们了解哪个集成受到影响。",
		Send: "提交", Thanks: "谢谢，我们已收到您的留言。", ThanksMore: "负责本次下线的团队会阅读它。",
		Again: "再写一条", Invalid: "请修改以下内容：", Honeypot: "请勿填写此项", Language: "语言",
		Categories: map[string]string{
			feedback.NeedMoreTime: "我需要更多时间", feedback.AlternativeLacksFeature: "替代方案缺少我需要的功能",
			feedback.MigrationProblem: "迁移到替代方案很困难", feedback.ExportProblem: "无法导出我的数据",
			feedback.Other: "其他",
		},
	},
}

type formData struct {
	Lang, Action, Title string
	T                   formText
	Categories          []string
	Sent                bool
	Errors              []string
	In                  feedback.Input
	// Token is the page's intake token; Refused says why a post was not sent (package web/intake).
	Token, Refused string
}

// handleFeedbackForm serves GET /feedback/{name}: the public feedback form, in English or
// Simplified Chinese.
func (s *Server) handleFeedbackForm(w http.ResponseWriter, r *http.Request) {
	if !s.feedbackEnabled(w, r) {
		return
	}
	st, err := s.Engine.Status(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	lang := httpx.PageLanguage(r)
	s.renderForm(w, r, http.StatusOK, formData{Lang: lang, Title: st.Title.In(lang), In: feedback.Input{Consumer: r.URL.Query().Get("consumer")}})
}

// handleFeedbackPost serves POST /feedback/{name}: a form post, answered with the thank-you page
// or the form and its problems. A post from another site, without a valid token or over a limit
// gets the form again with what was typed (screenPublicForm). Posts that fill the honeypot field
// get the thank-you page and are dropped.
func (s *Server) handleFeedbackPost(w http.ResponseWriter, r *http.Request) {
	if !s.feedbackEnabled(w, r) {
		return
	}
	lang := httpx.PageLanguage(r)
	name := r.PathValue("name")
	st, err := s.Engine.Status(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data := formData{Lang: lang, Title: st.Title.In(lang)}
	if !s.readPublicForm(w, r) {
		return
	}
	data.In = feedback.Input{
		Mood: r.PostForm.Get("mood"), Category: r.PostForm.Get("category"), Text: r.PostForm.Get("text"),
		Contact: r.PostForm.Get("contact"), Consumer: r.PostForm.Get("consumer"), Locale: lang,
	}
	refusal, status, spam := s.screenPublicForm(w, r, intake.PageFeedback, name)
	switch {
	case refusal != "":
		data.Refused = intakeRefusals[lang][refusal]
		s.renderForm(w, r, status, data)
		return
	case spam:
		data.Sent = true
		s.renderForm(w, r, http.StatusOK, data)
		return
	}
	f, err := feedback.New(name, data.In, s.now(), "form")
	if err != nil {
		data.Errors = errorLines(err)
		s.renderForm(w, r, http.StatusBadRequest, data)
		return
	}
	f.Sender = s.senderOf(r)
	if err := s.Feedback.Add(r.Context(), []feedback.Feedback{f}); err != nil {
		s.writeError(w, r, err)
		return
	}
	data.Sent = true
	s.renderForm(w, r, http.StatusOK, data)
}

func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, status int, data formData) {
	data.T = formTexts[data.Lang]
	data.Categories = feedback.Categories
	data.Action = feedbackFormPath + r.PathValue("name") + "?lang=" + langParam(data.Lang)
	data.Token = s.intakes().NewToken(r, intake.PageFeedback, r.PathValue("name"))
	s.writePublicPage(w, r, status, data.Lang, feedbackTemplate, data)
}

// readPublicForm applies the size limit to a public form post and parses it, answering the
// refusal itself (false).
func (s *Server) readPublicForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFeedbackForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, r, httpx.TooLarge("the form", maxFeedbackForm))
			return false
		}
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "The form could not be read."))
		return false
	}
	return true
}

// errorLines returns the lines a form shows for an invalid input.
func errorLines(err error) []string {
	var se *sunset.Error
	if errors.As(err, &se) && len(se.Details) > 0 {
		return se.Details
	}
	return []string{sunset.ErrorMessage(err)}
}

// langParam is the ?lang= value of a page language.
func langParam(lang string) string {
	if lang == "zh-Hans" {
		return "zh"
	}
	return "en"
}

// writePublicPage renders a public HTML page (a form may post back to the same origin).
func (s *Server) writePublicPage(w http.ResponseWriter, r *http.Request, status int, lang string, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteHTML(w, status, lang, "no-store", buf.Bytes(), func(h http.Header) {
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	})
}

// allowFeedback applies the per-client rate limit to feedback API posts, answering 429 when
// over. The forms apply it in screenPublicForm.
func (s *Server) allowFeedback(w http.ResponseWriter, r *http.Request) bool {
	if s.intakes().AllowAddress(r) {
		return true
	}
	w.Header().Set("Retry-After", "60")
	s.writeError(w, r, &sunset.Error{Code: client.CodeTooMany, Message: "Too many messages from your address; try again in a minute."})
	return false
}
