package web

import (
	"net/http"
	"strings"
	"testing"
)

func TestIndexPage(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		header   []string
		wantLang string
		want     []string
	}{
		{"English by default", "", nil, "en", []string{"Billing API v1", "draft", "Awaiting sign-off", "legal", "announce"}},
		{"Chinese by Accept-Language", "", []string{"Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8"}, "zh-Hans", []string{"账单 API v1", "草稿", "待签核"}},
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
			for _, w := range append(tt.want, "billing-v1", `href="/api/v1/openapi.json"`, `<th scope="col">`, "<caption>") {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, external := range []string{"src=", "<link", "<script", "http://", "https://"} {
				if strings.Contains(page, external) {
					t.Errorf("page loads or links an external asset (%q)", external)
				}
			}
		})
	}
}

func TestIndexPageWithoutSunsets(t *testing.T) {
	b := setup(t)
	r := b.do(t, http.MethodGet, "/", "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "No sunset yet") {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestIndexPageHidesEngineErrors(t *testing.T) {
	b := setupWith(t, func(e Engine) Engine { return &faultyEngine{Engine: e, err: errTest} })
	r := b.do(t, http.MethodGet, "/", "")
	if r.status != http.StatusInternalServerError || r.mediaType() != "text/html" || strings.Contains(string(r.body), errTest.Error()) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if !strings.Contains(b.logs.String(), errTest.Error()) {
		t.Fatal("the error was not logged")
	}
}
