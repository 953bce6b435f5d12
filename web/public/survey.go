package public

import (
	"fmt"
	"html/template"
	"net/http"

	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/web/httpx"
	"github.com/sunsetops/sunset/web/intake"
)

var surveyTemplate = template.Must(template.ParseFS(feedbackFS, "templates/survey.html", "templates/form_parts.html"))

// surveyText holds the survey page's words in one language.
type surveyText struct {
	// Closed introduces the survey once the service has shut down; Closing before, with the
	// service's title and the shutdown instant to fill in.
	Closed, Closing, Yes, No, Contact, ContactHint, Send, Thanks, Invalid, Honeypot, Language string
}

var surveyTexts = map[string]surveyText{
	"en": {
		Closed:  "The service has closed. Four short questions help us retire the next one better.",
		Closing: "%s is closing on %s. Four short questions help us retire it better.",
		Yes:     "Yes", No: "No", Contact: "Email (optional)", ContactHint: "Kept only if you allow us to contact you.",
		Send: "Send", Thanks: "Thank you for your answers.", Invalid: "Please correct the following:",
		Honeypot: "Leave this field empty", Language: "Language",
	},
	"zh-Hans": {
		Closed:  "服务已经停止。回答四个简短的问题，帮助我们把下一次下线做得更好。",
		Closing: "%s将于 %s 停止服务。回答四个简短的问题，帮助我们把这次下线做得更好。",
		Yes:     "是", No: "否", Contact: "邮箱（选填）", ContactHint: "仅在您允许我们联系您时保存。",
		Send: "提交", Thanks: "感谢您的回答。", Invalid: "请修改以下内容：",
		Honeypot: "请勿填写此项", Language: "语言",
	},
}

type surveyQuestion struct {
	ID, Kind, Text, Answer string
}

type surveyData struct {
	// Intro speaks of a closed service only once the shutdown milestone has happened.
	Lang, Action, Title, Service, Intro string
	T                                   surveyText
	Questions                           []surveyQuestion
	Sent                                bool
	Errors                              []string
	Contact                             string
	// Token is the page's intake token; Refused says why a post was not sent (package web/intake).
	Token, Refused string
}

// surveyOf returns the sunset's survey and its title in lang.
func (s *Server) surveyOf(r *http.Request, lang string) (plan.Survey, surveyData, error) {
	name := r.PathValue("name")
	p, _, err := s.Engine.Plan(r.Context(), name)
	if err != nil {
		return plan.Survey{}, surveyData{}, err
	}
	ss, err := s.Engine.Get(r.Context(), name)
	if err != nil {
		return plan.Survey{}, surveyData{}, err
	}
	sv := p.SurveyOrDefault()
	d := surveyData{Lang: lang, Title: sv.Title.In(lang), Service: p.Service.Title.In(lang)}
	if d.Title == "" {
		d.Title = plan.DefaultSurvey.Title.In(lang)
	}
	if d.Service == "" {
		d.Service = p.Service.Name
	}
	t := surveyTexts[lang]
	d.Intro = t.Closed
	if !ss.ClosedDown() {
		locale := notifyLocale(lang)
		when := ""
		if ms, err := p.MilestoneTimes(); err == nil {
			when = notify.FormatInstant(ms[plan.Shutdown], p.Location(), locale)
		}
		d.Intro = fmt.Sprintf(t.Closing, d.Service, when)
	}
	for _, q := range sv.Questions {
		d.Questions = append(d.Questions, surveyQuestion{ID: q.ID, Kind: q.Kind, Text: q.Text.In(lang)})
	}
	return sv, d, nil
}

// handleSurveyForm serves GET /survey/{name}: the survey after the shutdown, in English or
// Simplified Chinese.
func (s *Server) handleSurveyForm(w http.ResponseWriter, r *http.Request) {
	if !s.feedbackEnabled(w, r) {
		return
	}
	_, d, err := s.surveyOf(r, httpx.PageLanguage(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.renderSurvey(w, r, http.StatusOK, d)
}

// handleSurveyPost serves POST /survey/{name}: the answers are stored with the feedback. A post
// from another site, without a valid token or over a limit gets the survey again with its
// answers (screenPublicForm).
func (s *Server) handleSurveyPost(w http.ResponseWriter, r *http.Request) {
	if !s.feedbackEnabled(w, r) {
		return
	}
	lang := httpx.PageLanguage(r)
	sv, d, err := s.surveyOf(r, lang)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.readPublicForm(w, r) {
		return
	}
	answers := map[string]string{}
	for i, q := range d.Questions {
		if v := r.PostForm.Get("q_" + q.ID); v != "" {
			answers[q.ID] = v
			d.Questions[i].Answer = v
		}
	}
	d.Contact = r.PostForm.Get("contact")
	refusal, status, spam := s.screenPublicForm(w, r, intake.PageSurvey, r.PathValue("name"))
	switch {
	case refusal != "":
		d.Refused = intakeRefusals[lang][refusal]
		s.renderSurvey(w, r, status, d)
		return
	case spam:
		d.Sent = true
		s.renderSurvey(w, r, http.StatusOK, d)
		return
	}
	f, err := feedback.NewSurvey(r.PathValue("name"), sv, answers, d.Contact, lang, s.now())
	if err != nil {
		d.Errors = errorLines(err)
		s.renderSurvey(w, r, http.StatusBadRequest, d)
		return
	}
	f.Sender = s.intakes().SenderOf(r)
	if err := s.Feedback.Add(r.Context(), []feedback.Feedback{f}); err != nil {
		s.writeError(w, r, err)
		return
	}
	d.Sent = true
	s.renderSurvey(w, r, http.StatusOK, d)
}

func (s *Server) renderSurvey(w http.ResponseWriter, r *http.Request, status int, d surveyData) {
	d.T = surveyTexts[d.Lang]
	d.Action = "/survey/" + r.PathValue("name") + "?lang=" + langParam(d.Lang)
	d.Token = s.intakes().NewToken(r, intake.PageSurvey, r.PathValue("name"))
	s.writePublicPage(w, r, status, d.Lang, surveyTemplate, d)
}
