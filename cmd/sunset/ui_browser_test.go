package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sunsetops/sunset/internal/testenv"
)

// The browser test walks the operator UI and the public pages in real headless Chromium,
// against `sunset serve` wired as in production (SQLite, engine, notify worker, runbook
// worker). It needs Debian's chromium: it is skipped where chromium is missing, unless
// SUNSET_TEST_BROWSER=1 (CI) makes that a failure. SUNSET_UPDATE_SCREENSHOTS=1 writes the
// screenshots to docs/screenshots/ instead of the test's temporary directory (install
// fonts-noto-cjk first, or the Chinese text is drawn as boxes).

// browserNow is the pinned start of the server's clock: search-v1 and rss-v1 have shut down,
// photos-v1 is being deprecated (and orders-api-v1, when seeded from a rehearsal, is over).
const browserNow = "2027-10-04T12:00:00+08:00"

// searchPlan has shut down: its runbook ran its first step and waits for an approval.
const searchPlan = `service:
  name: search-v1
  title: {en: Search API v1, zh: 搜索 API v1}
  description: {en: The first search API., zh: 第一版搜索 API。}
  timezone: Asia/Shanghai
alternatives:
  - {name: Search API v2, url: https://example.com/v2/search, guide: https://example.com/v2/migrate}
consumers:
  contacts: %s
milestones:
  announce: 2027-07-12T10:00
  deprecate: 2027-07-12T10:00
  read_only: 2027-09-01T10:00
  shutdown: 2027-09-20T10:00
features:
  - name: suggest
    title: {en: Suggestions, zh: 搜索建议}
    routes: ["GET /v1/suggest"]
    gone: 2027-08-15T10:00
  - name: query
    title: {en: Queries, zh: 查询}
    core: true
    routes: ["/v1/search"]
brownouts:
  - {from: shutdown-21d, every: "Tue,Thu 14:00", for: 1h, status: 503}
notices:
  - {at: announce, to: all, channels: [email], template: announce}
  - {at: shutdown-30d, to: active_consumers, channels: [email], template: reminder}
  - {at: shutdown, to: all, channels: [email], template: done}
channels:
  email: {smtp: "127.0.0.1:1", tls: none, from: "Search <noreply@example.com>"}
guardrails:
  - {name: unhappy-users, when: "feedback.negative_ratio > 0.4 over 24h", then: pause}
runbook:
  - {name: drain-check, exec: [sh, -c, "echo 'traffic: 0 req/s'; echo drained"]}
  - {name: sign-off, approval: {role: approver, count: 1}}
  - {name: stop, exec: [sh, -c, "echo stopped search-v1"]}
`

// rssPlan shut down months ago: a second line of history.
const rssPlan = `service:
  name: rss-v1
  title: {en: RSS feeds, zh: RSS 订阅源}
  timezone: Europe/Berlin
milestones:
  announce: 2027-03-01T10:00
  deprecate: 2027-03-01T10:00
  shutdown: 2027-06-01T10:00
`

// photosPlan is under way: deprecated, read-only next.
const photosPlan = `service:
  name: photos-v1
  title: {en: Photos web app, zh: 相册网页版}
  timezone: Asia/Shanghai
milestones:
  announce: 2027-09-01T10:00
  deprecate: 2027-09-01T10:00
  read_only: 2027-11-01T10:00
  shutdown: 2027-11-30T10:00
notices:
  - {at: announce, to: all, channels: [banner, feed], template: announce}
`

const browserContacts = `id,email,name,tier
acme,ops@acme.example.com,Acme Corp,critical
globex,it@globex.example.com,Globex,standard
initech,dev@initech.example.com,Initech,standard
umbrella,api@umbrella.example.com,Umbrella,free
hooli,eng@hooli.example.com,Hooli,standard
`

// seedFromRehearsal rehearses the example plan in compressed time on scratch data (sunset
// rehearse --keep) and copies its database to db: orders-api-v1 played from announcement to
// deletion with every action on time, for screenshots with real figures.
func seedFromRehearsal(t *testing.T, dir, db string) {
	t.Helper()
	code, _, errs := run(t, t.Context(), "rehearse", filepath.Join("..", "..", "examples", "api-v2.yaml"),
		"--duration", "10s", "--keep", "--out", filepath.Join(dir, "rehearsal.html"))
	_, kept, ok := strings.Cut(errs, "Scratch directory kept: ")
	if !ok {
		t.Fatalf("rehearse: exit %d, no scratch directory kept:\n%s", code, errs)
	}
	scratch, _, _ := strings.Cut(kept, "\n")
	t.Cleanup(func() { os.RemoveAll(scratch) })
	if code != 0 {
		t.Fatalf("rehearse: exit %d\n%s", code, errs)
	}
	b, err := os.ReadFile(filepath.Join(scratch, "sunset.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// chromium finds the browser, or skips the test (fails it in CI).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SUNSET_TEST_BROWSER") == "1" {
		t.Fatal("SUNSET_TEST_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
	}
	testenv.Skip(t, "browser", "no chromium on PATH (apt-get install chromium, or set SUNSET_TEST_BROWSER=1 to make this a failure)")
	return ""
}

// screenshotDir is where screenshots go: docs/screenshots with SUNSET_UPDATE_SCREENSHOTS=1.
func screenshotDir(t *testing.T) string {
	if os.Getenv("SUNSET_UPDATE_SCREENSHOTS") == "1" {
		return filepath.Join("..", "..", "docs", "screenshots")
	}
	return t.TempDir()
}

// postJSON posts v to url and fails the test unless the answer is 2xx.
func postJSON(t *testing.T, url string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}

// syntheticUsage is a gateway's counts for search-v1: six consumers, leaving one by one after
// the announcement, and the in-band awareness of two.
func syntheticUsage() map[string]any {
	var counts []map[string]any
	start := time.Date(2027, 7, 1, 2, 0, 0, 0, time.UTC)
	consumers := []string{"acme", "globex", "initech", "umbrella", "hooli", "stark"}
	for d := range 80 {
		day := start.AddDate(0, 0, d)
		for i, c := range consumers {
			if d > 20+i*11 {
				continue
			}
			counts = append(counts, map[string]any{"feature": "query", "consumer": c, "hour": day, "count": max(420-d*4+i*25, 5)})
		}
		counts = append(counts, map[string]any{"feature": "", "consumer": "(other)", "hour": day, "count": 40})
	}
	return map[string]any{"gateway": "gw-1", "seq": 1, "counts": counts, "aware": []map[string]any{
		{"consumer": "acme", "first_seen": "2027-07-12T03:00:00Z"}, {"consumer": "globex", "first_seen": "2027-07-13T05:00:00Z"},
		{"consumer": "initech", "first_seen": "2027-07-20T08:00:00Z"}}}
}

// waitRunbook waits until the sunset's runbook run reaches state.
func waitRunbook(t *testing.T, base, name, state string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("the runbook of %s to be %q", name, state), func() error {
		resp, err := http.Get(base + "/api/v1/sunsets/" + name + "/runbook")
		if err != nil {
			t.Fatal(err)
		}
		var run struct {
			State string `json:"state"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&run)
		resp.Body.Close()
		if run.State != state {
			return fmt.Errorf("it is %q", run.State)
		}
		return nil
	})
}

// a11yAudit lists a page's accessibility problems that can be checked mechanically: the
// language, one h1, a main landmark, captions on tables, names on images and form fields,
// labels pointing at fields.
const a11yAudit = `(() => {
  const p = [];
  if (!document.documentElement.lang) p.push("html has no lang");
  if (document.querySelectorAll("h1").length !== 1) p.push("not exactly one h1");
  if (!document.querySelector("main")) p.push("no main landmark");
  document.querySelectorAll("table").forEach((t, i) => { if (!t.querySelector("caption")) p.push("table " + i + " has no caption"); });
  document.querySelectorAll("svg[role=img]").forEach((s, i) => {
    if (!s.getAttribute("aria-label") && !s.getAttribute("aria-labelledby")) p.push("svg " + i + " has no name");
  });
  document.querySelectorAll("input:not([type=hidden]), textarea, select").forEach(el => {
    if (el.closest("[aria-hidden=true]") || el.tabIndex < 0) return;
    const named = (el.id && document.querySelector("label[for='" + el.id + "']")) || el.getAttribute("aria-label") || el.closest("label");
    if (!named) p.push("field " + (el.name || el.id) + " has no label");
  });
  document.querySelectorAll("button").forEach((b, i) => { if (!b.textContent.trim() && !b.getAttribute("aria-label")) p.push("button " + i + " has no name"); });
  document.querySelectorAll("a").forEach((a, i) => { if (!a.textContent.trim() && !a.getAttribute("aria-label")) p.push("link " + i + " has no name"); });
  // Text contrast (WCAG AA: 4.5:1) against the nearest opaque background.
  const rgb = c => { const m = c.match(/^rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)$/); return m ? [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]] : null; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const bg = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c === null) return null; if (c[3] > 0) return c; } return [255, 255, 255, 1]; };
  document.querySelectorAll("main *, header *, footer *").forEach(el => {
    if (el.closest("svg") || !el.offsetParent) return;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) return;
    const fg = rgb(getComputedStyle(el).color), b = bg(el);
    if (!fg || !b) return;
    const [hi, lo] = [lum(fg), lum(b)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    if (ratio < 4.5) p.push("contrast " + ratio.toFixed(2) + " of " + el.tagName.toLowerCase() + "." + el.className + ": " + el.textContent.trim().slice(0, 40));
  });
  return p;
})()`

func TestBrowserWalksTheOperatorUI(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	dir := t.TempDir()
	contacts := filepath.Join(dir, "contacts.csv")
	files := map[string]string{"contacts.csv": browserContacts, "search.yaml": fmt.Sprintf(searchPlan, contacts), "rss.yaml": rssPlan, "photos.yaml": photosPlan}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The screenshots show a rehearsed sunset too; the walk below does not depend on it.
	db := filepath.Join(dir, "sunset.db")
	rehearsed := os.Getenv("SUNSET_UPDATE_SCREENSHOTS") == "1"
	if rehearsed {
		seedFromRehearsal(t, dir, db)
	}
	// A port of its own rather than :0, so that the links of the public pages (made from
	// --addr) name the server's real address; the later --addr wins over server's :0.
	base, stop := server(t, "sqlite:"+db, "--now", browserNow, "--example=false", "--addr", freeAddr(t))
	defer stop()
	ctx := t.Context()
	for _, f := range []string{"search.yaml", "rss.yaml", "photos.yaml"} {
		if code, out, errs := run(t, ctx, "apply", filepath.Join(dir, f), "--server", base); code != 0 {
			t.Fatalf("apply %s: exit %d\n%s%s", f, code, out, errs)
		}
	}
	postJSON(t, base+"/api/v1/sunsets/search-v1/usage", syntheticUsage())
	waitRunbook(t, base, "search-v1", "waiting_approval")
	// Feedback once the engine has caught up with search-v1's past milestones: its public routes
	// are dark until its announcement has run.
	for _, fb := range []map[string]any{
		{"mood": "negative", "text": "Two months is too short for our release cycle; we need more time.", "locale": "en"},
		{"mood": "neutral", "text": "The migration guide helped, but pagination changed.", "locale": "en"},
		{"mood": "positive", "text": "v2 搜索更快，谢谢", "locale": "zh-CN"},
	} {
		postJSON(t, base+"/api/v1/sunsets/search-v1/feedback", fb)
	}

	shots := screenshotDir(t)
	alloc, cancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	defer cancel()
	bctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 120*time.Second)
	defer cancel()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
		if err != nil {
			t.Fatalf("count %s: %v", sel, err)
		}
		return n
	}
	audit := func(page string) {
		t.Helper()
		problems, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](a11yAudit))
		if err != nil {
			t.Fatalf("audit %s: %v", page, err)
		}
		for _, p := range problems {
			t.Errorf("%s: accessibility: %s", page, p)
		}
	}
	shoot := func(name string, full bool) {
		t.Helper()
		var b []byte
		var err error
		if full {
			b, err = chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100 is PNG; less is JPEG
		} else {
			b, err = chromedp.Run(bctx, chromedp.CaptureScreenshot())
		}
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The overview: sunsets under way with countdowns, and the history.
	do("open the overview", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/?lang=en"), chromedp.WaitVisible(chromedp.CSS("#history-h")))
	if got := text("#current-cap ~ tbody"); !strings.Contains(got, "photos-v1") || !strings.Contains(got, "in 27 d ") {
		t.Errorf("the sunsets under way lack photos-v1 and its countdown to read-only:\n%s", got)
	}
	if got := text("#history-cap ~ tbody"); !strings.Contains(got, "search-v1") || !strings.Contains(got, "rss-v1") || !strings.Contains(got, "70 days") {
		t.Errorf("the history lacks the past sunsets or search-v1's notice period:\n%s", got)
	}
	audit("overview")
	// The keyboard's first stop is the skip link, which then shows itself.
	do("tab", chromedp.KeyEvent("\t"))
	if got, err := chromedp.Run(bctx, chromedp.Evaluate[string]("document.activeElement.className + '@' + document.activeElement.getBoundingClientRect().left")); err != nil || got != "skip@8" {
		t.Errorf("the first Tab lands on %q, want the visible skip link (%v)", got, err)
	}
	do("untab", chromedp.Evaluate[chromedp.Void]("document.activeElement.blur()"))
	shoot("overview.png", true)

	// On a phone the tables become cards: nothing is wider than the screen.
	do("overview on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#history-h")))
	if w, err := chromedp.Run(bctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth")); err != nil || w > 390 {
		t.Errorf("the overview is %d px wide on a 390 px phone (%v)", w, err)
	}
	shoot("overview-phone.png", false)
	do("back to a laptop", chromedp.EmulateViewport(1280, 1600), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#history-h")))

	// A sunset's page, reached by its link: the timeline is an SVG Gantt chart with a now-line.
	if _, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(`a[href^="/s/search-v1"]`))); err != nil {
		t.Fatalf("open search-v1: %v", err)
	}
	do("the timeline", chromedp.WaitVisible(chromedp.CSS("#timeline svg.gantt")))
	if count("#timeline svg.gantt #now-line") != 1 || count("#timeline svg.gantt rect.seg") < 3 || count("#timeline svg.gantt line.milestone") < 3 {
		t.Error("the Gantt chart lacks its now-line, phase bars or milestone lines")
	}
	if count("#usage svg.series") != 2 {
		t.Error("the usage panel lacks its two charts")
	}
	if got := text("#consumers"); !strings.Contains(got, "Acme Corp") || !strings.Contains(got, "critical") || !strings.Contains(got, "migrated") {
		t.Errorf("the consumers table lacks names, tiers or statuses:\n%s", got)
	}
	if got := text("#feedback-total"); got != "3" {
		t.Errorf("feedback total = %q, want 3", got)
	}
	audit("sunset page")

	// Approve the runbook step that waits; the page confirms and the run goes on.
	if got := text("#run-state"); got != "waiting for approval" {
		t.Fatalf("run state = %q", got)
	}
	do("type a name", chromedp.SendKeys(chromedp.CSS("#approver-sign-off"), "Zhang Min"))
	if _, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS("#approve-sign-off"))); err != nil {
		t.Fatalf("approve: %v", err)
	}
	do("the confirmation", chromedp.WaitVisible(chromedp.CSS("#form-done")))
	if got := text("#runbook"); !strings.Contains(got, "Zhang Min") {
		t.Errorf("the runbook panel does not name the approver:\n%s", got)
	}
	// The run goes on; the page's script refreshes the runbook panel until it shows the end,
	// without a reload.
	do("the run ends on the open page", chromedp.WaitVisible(chromedp.CSS("#run-state.run-done")))
	if got := text("#runbook"); !strings.Contains(got, "stopped search-v1") {
		t.Errorf("the refreshed runbook panel lacks the last step's output:\n%s", got)
	}

	// Feedback in Chinese on the public form, then counted on the sunset's page.
	do("open the feedback form", chromedp.Navigate(base+"/feedback/search-v1?lang=zh"), chromedp.WaitVisible(chromedp.CSS("#text")))
	do("fill the form", chromedp.Click(chromedp.CSS("#mood-negative")),
		chromedp.SendKeys(chromedp.CSS("#text"), "我们需要更多时间迁移到 v2，请延期两周"))
	if _, err := chromedp.RunResponse(bctx, chromedp.Submit(chromedp.CSS("#text"))); err != nil {
		t.Fatalf("send feedback: %v", err)
	}
	if got := text(`[role="status"]`); !strings.Contains(got, "谢谢") {
		t.Errorf("the form does not thank in Chinese: %q", got)
	}
	do("the sunset page in Chinese", chromedp.Navigate(base+"/s/search-v1?lang=zh"), chromedp.WaitVisible(chromedp.CSS("#feedback-total")))
	if got := text("#feedback-total"); got != "4" {
		t.Errorf("feedback total after the form = %q, want 4", got)
	}
	if got := text("#feedback"); !strings.Contains(got, "请延期两周") {
		t.Errorf("the feedback panel lacks the new message:\n%s", got)
	}
	shown := "search-v1"
	if rehearsed {
		shown = "orders-api-v1"
	}
	do("a sunset's page in English", chromedp.Navigate(base+"/s/"+shown+"?lang=en"), chromedp.WaitVisible(chromedp.CSS("#timeline svg.gantt")))
	shoot("sunset.png", false)

	// The public status page in Chinese.
	do("the public page", chromedp.EmulateViewport(1000, 1200), chromedp.Navigate(base+"/p/photos-v1?lang=zh"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := text("h1"); !strings.Contains(got, "相册网页版") {
		t.Errorf("public page h1 = %q", got)
	}
	shoot("public-zh.png", false)

	// The report, from the sunset's page.
	do("the sunset page", chromedp.EmulateViewport(1280, 1600), chromedp.Navigate(base+"/s/search-v1?lang=en"), chromedp.WaitVisible(chromedp.CSS("#report-link")))
	if _, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS("#report-link"))); err != nil {
		t.Fatalf("open the report: %v", err)
	}
	do("the report", chromedp.WaitVisible(chromedp.CSS("h1")))
	if n := count("svg"); n == 0 {
		t.Error("the report has no SVG chart")
	}
	if got := text("body"); !strings.Contains(got, "Search API v1") || !strings.Contains(got, "sign-off") {
		t.Errorf("the report lacks the service or the runbook:\n%.2000s", got)
	}
	if rehearsed {
		do("the rehearsal's report", chromedp.Navigate(base+"/api/v1/sunsets/orders-api-v1/report?format=html&lang=en"), chromedp.WaitVisible(chromedp.CSS("h1")))
	}
	// Tall enough to reach the migration curve under the timeline table.
	do("a tall window", chromedp.EmulateViewport(1280, 2600))
	shoot("report.png", false)
}
