package public

import (
	"log/slog"
	"net/http"

	"github.com/sunsetops/sunset/web/intake"
)

// intakeRefusals are the sentences a refused form shows above what the person typed, by page
// language and reason. Each says that nothing was sent and how to send it.
var intakeRefusals = map[string]map[string]string{
	"en": {
		intake.RefusedCrossSite:    "This message reached us from another website, so it has not been sent. If you wrote it, check it below and press Send.",
		intake.RefusedTokenMissing: "This form could not be checked, so your message has not been sent yet. Check it below and press Send again.",
		intake.RefusedTokenExpired: "This page was open for a long time, so your message has not been sent yet. Check it below and press Send again.",
		intake.RefusedTokenInvalid: "This form could not be checked (it may come from another page or network), so your message has not been sent yet. Check it below and press Send again.",
		intake.RefusedTooMany:      "You have sent several messages in the last minute. Wait a minute, then press Send again; your message is kept below.",
		intake.RefusedBusy:         "Many messages are arriving for this service right now. Wait a minute, then press Send again; your message is kept below.",
	},
	"zh-Hans": {
		intake.RefusedCrossSite:    "这条留言是从其他网站提交过来的，因此尚未发送。如果是您本人所写，请核对下方内容后点击“提交”。",
		intake.RefusedTokenMissing: "无法校验此表单，您的留言尚未发送。请核对下方内容后再次点击“提交”。",
		intake.RefusedTokenExpired: "此页面打开时间较长，您的留言尚未发送。请核对下方内容后再次点击“提交”。",
		intake.RefusedTokenInvalid: "无法校验此表单（可能来自其他页面或网络），您的留言尚未发送。请核对下方内容后再次点击“提交”。",
		intake.RefusedTooMany:      "您在一分钟内发送了多条留言。请等待一分钟后再次点击“提交”，您的留言已保留在下方。",
		intake.RefusedBusy:         "此服务当前收到的留言过多。请等待一分钟后再次点击“提交”，您的留言已保留在下方。",
	},
}

// screenPublicForm decides whether a parsed form post for page of sunset name may be stored. It
// returns the reason it may not ("" when it may) and the status to answer with (403 for another
// site or a bad token, 429 with Retry-After for a limit), and spam when the honeypot field is
// filled (the caller thanks the sender and stores nothing). Only posts that pass the origin and
// token checks count against the limits.
func (s *Server) screenPublicForm(w http.ResponseWriter, r *http.Request, page, name string) (refusal string, status int, spam bool) {
	log := func(reason string) {
		s.logger().LogAttrs(r.Context(), slog.LevelInfo, "public form: post refused", slog.String("path", r.URL.Path),
			slog.String("reason", reason), slog.String("origin", r.Header.Get("Origin")), slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")))
	}
	if s.intakes().CrossSite(r) {
		log(intake.RefusedCrossSite)
		return intake.RefusedCrossSite, http.StatusForbidden, false
	}
	if reason := s.intakes().CheckToken(r, page, name); reason != "" {
		log(reason)
		return reason, http.StatusForbidden, false
	}
	if r.PostForm.Get(HoneypotField) != "" {
		s.logger().LogAttrs(r.Context(), slog.LevelInfo, "public form: honeypot filled, dropped", slog.String("path", r.URL.Path))
		return "", 0, true
	}
	if !s.intakes().AllowAddress(r) {
		w.Header().Set("Retry-After", "60")
		return intake.RefusedTooMany, http.StatusTooManyRequests, false
	}
	if !s.intakes().AllowSunset(name) {
		log(intake.RefusedBusy)
		w.Header().Set("Retry-After", "60")
		return intake.RefusedBusy, http.StatusTooManyRequests, false
	}
	return "", 0, false
}
