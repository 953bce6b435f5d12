package public

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/web/httpx"
)

// unsubscribeText holds the unsubscribe page's words in one language.
type unsubscribeText struct {
	Title, Confirm, Note, Button, Done, DoneNote, Invalid, Language string
}

var unsubscribeTexts = map[string]unsubscribeText{
	"en": {
		Title: "Unsubscribe", Confirm: "Stop the notices about retiring services sent to",
		Note:   "Notices that concern your security or legal obligations are still sent.",
		Button: "Unsubscribe", Done: "You are unsubscribed:",
		DoneNote: "You will receive no more of these notices, except those about your security or legal obligations.",
		Invalid:  "This unsubscribe link is not valid. Please use the link from the latest message.", Language: "Language",
	},
	"zh-Hans": {
		Title: "退订", Confirm: "不再向以下地址发送服务下线通知：",
		Note:   "与您的安全或法律义务有关的通知仍会发送。",
		Button: "退订", Done: "已退订：",
		DoneNote: "您将不再收到此类通知，但与安全或法律义务有关的通知除外。",
		Invalid:  "此退订链接无效，请使用最近一封邮件中的链接。", Language: "语言",
	},
}

// unsubscribePage is what templates/unsubscribe.html shows.
type unsubscribePage struct {
	Lang, Nonce, Address, Action string
	T                            unsubscribeText
	Done, Invalid                bool
}

// openUnsubscribe checks the path's token and returns the address it names, or answers the
// invalid-link page (403) or a 404 problem when the server keeps no notices.
func (s *Server) openUnsubscribe(w http.ResponseWriter, r *http.Request) (string, bool) {
	if !s.noticesEnabled(w, r) {
		return "", false
	}
	addr, err := notify.OpenUnsubscribeToken(s.UnsubscribeKey, r.PathValue("token"))
	if errors.Is(err, notify.ErrBadToken) {
		s.renderUnsubscribe(w, r, http.StatusForbidden, unsubscribePage{Invalid: true})
		return "", false
	}
	if err != nil {
		s.writeError(w, r, err)
		return "", false
	}
	return addr, true
}

// handleUnsubscribeForm serves GET /unsubscribe/{token}: a page that names the address and asks
// to confirm. A GET changes nothing (mail scanners follow links).
func (s *Server) handleUnsubscribeForm(w http.ResponseWriter, r *http.Request) {
	addr, ok := s.openUnsubscribe(w, r)
	if !ok {
		return
	}
	s.renderUnsubscribe(w, r, http.StatusOK, unsubscribePage{Address: addr})
}

// handleUnsubscribePost serves POST /unsubscribe/{token}: the confirm button, and the one-click
// unsubscribe of mail clients (RFC 8058: List-Unsubscribe-Post: List-Unsubscribe=One-Click).
// The address joins the suppression list: non-mandatory notices, queued or future, no longer
// reach it; mandatory ones (security, legal) still do.
func (s *Server) handleUnsubscribePost(w http.ResponseWriter, r *http.Request) {
	addr, ok := s.openUnsubscribe(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFeedbackForm)
	if err := r.ParseForm(); err != nil {
		s.writeError(w, r, sunset.Errorf(sunset.EINVALID, "The form could not be read."))
		return
	}
	reason := "unsubscribed through the link"
	if r.PostForm.Get("List-Unsubscribe") == "One-Click" {
		reason = "unsubscribed in one click (RFC 8058)"
	}
	if err := s.Notices.Suppress(r.Context(), addr, reason, s.now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.renderUnsubscribe(w, r, http.StatusOK, unsubscribePage{Address: addr, Done: true})
}

func (s *Server) renderUnsubscribe(w http.ResponseWriter, r *http.Request, status int, p unsubscribePage) {
	p.Lang = httpx.PageLanguage(r)
	p.T = unsubscribeTexts[p.Lang]
	p.Nonce = httpx.Nonce()
	p.Action = r.URL.Path
	var buf bytes.Buffer
	if err := unsubscribeTemplate.Execute(&buf, p); err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteHTML(w, status, p.Lang, "no-store", buf.Bytes(), func(h http.Header) { httpx.SetPageSecurity(h, p.Nonce) })
}
