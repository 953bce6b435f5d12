package public

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"net/http"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/web/httpx"
	"github.com/sunsetops/sunset/web/intake"
)

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
	f.Sender = s.intakes().SenderOf(r)
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
