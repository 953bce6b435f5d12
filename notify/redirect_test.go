package notify

import (
	"strings"
	"testing"

	"github.com/sunsetops/sunset/plan"
)

// redirectPlan retires one feature with 410 and forwards another with 308.
const redirectPlan = `
service:
  name: orders-api-v1
  title: {en: Orders API v1, zh: 订单 API v1}
  timezone: Asia/Shanghai
milestones:
  announce: 2027-01-05T10:00
  shutdown: 2027-03-15T02:00
features:
  - {name: reports, title: {en: Reports, zh: 报表}, routes: ["GET /v1/reports/{id}"], gone: 2027-02-01T02:00}
  - {name: exports, title: {en: Exports, zh: 导出}, routes: ["GET /v1/exports/{id}"], gone: 2027-02-15T02:00, redirect: "https://api.example.com/v2/exports"}
`

// A feature that redirects is not "gone" for its callers: the notices say where their calls go.
func TestNoticesSayWhereARedirectedFeatureGoes(t *testing.T) {
	t.Parallel()
	p, problems := plan.Parse("orders.yaml", []byte(redirectPlan))
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	var rr Renderer
	for _, c := range []struct {
		template, locale string
		want, not        []string
	}{
		{"announce", "en",
			[]string{"- Reports goes away on 1 February 2027 02:00 CST.", "- Exports moves on 15 February 2027 02:00 CST: calls are redirected to https://api.example.com/v2/exports."},
			[]string{"Exports goes away"}},
		{"announce", "zh",
			[]string{"- 报表将于 2027年2月1日 02:00 CST 下线。", "- 导出将于 2027年2月15日 02:00 CST 迁移：调用将被重定向到 https://api.example.com/v2/exports。"},
			[]string{"导出将于 2027年2月15日 02:00 CST 下线"}},
		{"feature_retired", "en",
			[]string{"- Reports: from 1 February 2027 02:00 CST\n", "- Exports: from 15 February 2027 02:00 CST, calls redirected to https://api.example.com/v2/exports"}, nil},
		{"feature_retired", "zh",
			[]string{"- 报表：自 2027年2月1日 02:00 CST 起\n", "- 导出：自 2027年2月15日 02:00 CST 起，调用将被重定向到 https://api.example.com/v2/exports"}, nil},
	} {
		m, err := rr.Render(p, RenderRequest{Template: c.template, Locale: c.locale, PublicURL: "https://sunset.example.com", TextOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(m.Text, w) {
				t.Errorf("%s (%s) lacks %q:\n%s", c.template, c.locale, w, m.Text)
			}
		}
		for _, n := range c.not {
			if strings.Contains(m.Text, n) {
				t.Errorf("%s (%s) says %q of a redirected feature:\n%s", c.template, c.locale, n, m.Text)
			}
		}
	}
}
