package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/web/api"
)

// assetRefs finds the src and href attributes of a page.
var assetRefs = regexp.MustCompile(`(?:src|href|action)="([^"]*)"`)

// checkSelfContained fails the test when the page loads or links anything off the server.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	for _, m := range assetRefs.FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "/") && !strings.HasPrefix(m[1], "?") && !strings.HasPrefix(m[1], "#") {
			t.Errorf("page refers to %q, off the server", m[1])
		}
	}
	if strings.Contains(page, "//cdn") || strings.Contains(page, "https://fonts") {
		t.Error("page loads from a CDN")
	}
}

func TestOverviewPage(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		header   []string
		wantLang string
		want     []string
	}{
		{"English by default", "", nil, "en", []string{"Billing API v1", "draft", "Awaiting sign-off", "legal", "announce", "in 34 d 0 h"}},
		{"Chinese by Accept-Language", "", []string{"Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8"}, "zh-Hans", []string{"账单 API v1", "草稿", "待签核", "还有 34 天 0 小时"}},
		{"English preferred over Chinese by weight", "", []string{"Accept-Language", "zh;q=0.5,en-GB"}, "en", []string{"draft"}},
		{"Chinese by ?lang=zh over Accept-Language", "?lang=zh", []string{"Accept-Language", "en-US"}, "zh-Hans", []string{"草稿"}},
		{"English by ?lang=en", "?lang=en", []string{"Accept-Language", "zh-CN"}, "en", []string{"draft"}},
		{"unknown languages fall back to English", "?lang=xx", []string{"Accept-Language", "fr-FR"}, "en", []string{"draft"}},
	}
	b := setup(t)
	b.apply(t, testPlan)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(t, http.MethodGet, "/"+tt.query, "", tt.header...)
			if r.status != http.StatusOK || r.mediaType() != "text/html" {
				t.Fatalf("%d %s", r.status, r.header.Get("Content-Type"))
			}
			page := string(r.body)
			if !strings.Contains(page, `<html lang="`+tt.wantLang+`">`) {
				t.Fatalf("page is not in %s:\n%s", tt.wantLang, page)
			}
			for _, w := range append(tt.want, "billing-v1", `href="/s/billing-v1?lang=`, `href="/api/v1/openapi.json"`, `<th scope="col">`, "<caption", "<main") {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			checkSelfContained(t, page)
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
				t.Errorf("Content-Security-Policy = %q", csp)
			}
		})
	}
}

func TestOverviewPageWithoutSunsets(t *testing.T) {
	b := setup(t)
	r := b.do(t, http.MethodGet, "/", "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "No sunset yet") {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestOverviewPageHidesEngineErrors(t *testing.T) {
	b := setupWith(t, func(e api.Engine) api.Engine { return &faultyEngine{Engine: e, err: errTest} })
	r := b.do(t, http.MethodGet, "/", "")
	if r.status != http.StatusInternalServerError || r.mediaType() != "text/html" || strings.Contains(string(r.body), errTest.Error()) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if !strings.Contains(b.logs.String(), errTest.Error()) {
		t.Fatal("the error was not logged")
	}
}

func TestOverviewComparesPastSunsetsInTheHistory(t *testing.T) {
	b := setup(t)
	b.srv.Reports = &memReports{}
	b.rehandle()
	b.apply(t, testPlan)
	b.apply(t, testPlanNoSignoff)
	b.start(t)
	// After reports-v2's shutdown (2027-03-01 10:00 in Shanghai); billing-v1 still waits for legal.
	b.clock.Set(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC))
	b.waitDone(t, "reports-v2", "milestone/shutdown")
	for _, lang := range []string{"en", "zh"} {
		page := string(b.do(t, http.MethodGet, "/?lang="+lang, "").body)
		history, ok := strings.CutPrefix(page[strings.Index(page, `id="history-h"`):], "")
		if !ok || !strings.Contains(history, "reports-v2") {
			t.Fatalf("%s: the history does not list reports-v2:\n%s", lang, page)
		}
		// announce 2027-01-04 10:00 to shutdown 2027-03-01 10:00: 56 days.
		if want := map[string]string{"en": "56 days", "zh": "56 天"}[lang]; !strings.Contains(history, want) {
			t.Errorf("%s: the history lacks the notice period %q:\n%s", lang, want, history)
		}
		current := page[:strings.Index(page, `id="history-h"`)]
		if strings.Contains(current, "reports-v2") || !strings.Contains(current, "billing-v1") {
			t.Errorf("%s: sunsets under way and past ones are mixed up", lang)
		}
	}
}

func TestOverviewShowsTheHistoryWhenNothingIsUnderWay(t *testing.T) {
	b := setup(t)
	b.apply(t, testPlanNoSignoff)
	b.start(t)
	b.clock.Set(time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC))
	b.waitDone(t, "reports-v2", "milestone/shutdown")
	page := string(b.do(t, http.MethodGet, "/?lang=zh", "").body)
	for _, want := range []string{"目前没有进行中的下线计划。", `id="history-h"`, "reports-v2", "56 天"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "还没有下线计划") {
		t.Error("the page says there is no sunset at all")
	}
}
