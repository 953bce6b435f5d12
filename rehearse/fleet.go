package rehearse

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
)

// Persona is how a synthetic consumer reacts to the sunset.
type Persona string

// Personas, assigned in turn to the plan's consumers.
const (
	// Early migrates a few days after the first notice reaches it.
	Early Persona = "early"
	// Reminded migrates after the second notice.
	Reminded Persona = "reminded"
	// Woken migrates the day after its first failed request (a brownout, a feature gone).
	Woken Persona = "woken"
	// Laggard never migrates; it keeps knocking after the shutdown until it gives up.
	Laggard Persona = "laggard"
)

var personas = []Persona{Reminded, Early, Woken, Laggard}

// Consumer is one synthetic consumer: an identity of the plan's contacts.
type Consumer struct {
	ID, Email, Locale, Tier string
	Persona                 Persona
}

// NewConsumers gives each contact a persona in turn (reminded, early, woken, laggard); exempt
// consumers are reminded ones, since brownouts spare them.
func NewConsumers(contacts []Consumer, exempt []string) []Consumer {
	out := make([]Consumer, len(contacts))
	for i, c := range contacts {
		c.Persona = personas[i%len(personas)]
		for _, e := range exempt {
			if e == c.ID {
				c.Persona = Reminded
			}
		}
		c.Email = strings.ToLower(c.Email)
		out[i] = c
	}
	return out
}

// Call is one request a consumer makes.
type Call struct {
	Method, Path string
}

// Calls derives the requests consumers make from the plan's feature routes: each pattern with
// its wildcards filled in ("GET /v1/orders/{id}" → GET /v1/orders/42; "/v1/orders/" → GET and
// POST /v1/orders/42). A plan without features gets GET /.
func Calls(p *plan.Plan) []Call {
	var out []Call
	for _, f := range p.Features {
		for _, r := range f.Routes {
			method, path, ok := strings.Cut(strings.TrimSpace(r), " ")
			if !ok {
				method, path = "", method
			}
			path = strings.TrimSpace(path)
			if i := strings.IndexAny(path, "/"); i > 0 {
				path = path[i:] // drop a host
			}
			segs := strings.Split(path, "/")
			for i, s := range segs {
				if strings.HasPrefix(s, "{") {
					segs[i] = "42"
				}
			}
			path = strings.Join(segs, "/")
			if strings.HasSuffix(path, "/") {
				path += "42"
			}
			if method == "" {
				out = append(out, Call{http.MethodGet, path}, Call{http.MethodPost, path})
				continue
			}
			out = append(out, Call{method, path})
		}
	}
	if len(out) == 0 {
		out = []Call{{http.MethodGet, "/"}}
	}
	return out
}

// Answers counts a phase's answers by class.
type Answers struct {
	OK, Redirect, Gone, Unavailable, Other int
}

// Total is the number of answers.
func (a Answers) Total() int { return a.OK + a.Redirect + a.Gone + a.Unavailable + a.Other }

// Post is a feedback message a consumer sends.
type Post struct {
	Consumer, Locale, Mood, Category, Text string
}

// Fleet runs the synthetic consumers: each calls the gateway every Every of wall time with its
// identity, reads the notices that reach its address (Notice), migrates according to its
// persona (then calls the Alternative instead), and leaves a little feedback. Set the fields,
// then Run.
type Fleet struct {
	Consumers []Consumer
	// Gateway is the gateway's base URL; Identify how the plan names callers.
	Gateway string
	// Alternative is the base URL migrated consumers call instead (a stand-in for the plan's
	// alternative, never the real one); empty means they stop calling.
	Alternative string
	Identify    plan.Identify
	Calls       []Call
	// Clock is the rehearsal's (simulated) clock; migrations are scheduled on it.
	Clock sunset.Clock
	HTTP  *http.Client
	// Every is the wall time between two requests of one consumer (default 40ms).
	Every time.Duration
	// Phase names the phase an answer is counted in (the sunset's state).
	Phase func() string
	// Feedback sends a post through the feedback API; nil sends none.
	Feedback func(ctx context.Context, p Post) error
	// GiveUp is how long, in simulated time, a laggard keeps calling a service that answers only
	// 410 (default 10 days).
	GiveUp time.Duration

	mu      sync.Mutex
	state   map[string]*consumerState
	answers map[string]*Answers
	order   []string
	posts   []Post
	// altCalls counts the requests migrated consumers made to the alternative.
	altCalls int
	wg       sync.WaitGroup
}

type consumerState struct {
	notices   int
	migrateAt time.Time
	migrated  bool
	stopped   bool
	goneSince time.Time
}

// Migrated returns how many consumers migrated, and how many there are.
func (f *Fleet) Migrated() (n, total int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.state {
		if s.migrated {
			n++
		}
	}
	return n, len(f.Consumers)
}

// Answers returns the answers counted in each phase, in the order the phases came.
func (f *Fleet) Answers() (phases []string, counts map[string]Answers) {
	f.mu.Lock()
	defer f.mu.Unlock()
	counts = map[string]Answers{}
	for k, v := range f.answers {
		counts[k] = *v
	}
	return append([]string(nil), f.order...), counts
}

// Posts returns the feedback posts sent.
func (f *Fleet) Posts() []Post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Post(nil), f.posts...)
}

// Notice tells the fleet a notice reached address.
func (f *Fleet) Notice(ctx context.Context, address string) {
	now := f.Clock.Now()
	f.mu.Lock()
	var post *Post
	for _, c := range f.Consumers {
		if c.Email == "" || c.Email != address {
			continue
		}
		s := f.state[c.ID]
		s.notices++
		switch {
		case c.Persona == Early && s.notices == 1 && s.migrateAt.IsZero():
			s.migrateAt = now.Add(3 * 24 * time.Hour)
		case c.Persona == Reminded && s.notices == 2 && s.migrateAt.IsZero():
			s.migrateAt = now.Add(2 * 24 * time.Hour)
		}
		post = feedbackFor(c, s.notices)
	}
	if post != nil && f.Feedback != nil {
		f.posts = append(f.posts, *post)
	}
	f.mu.Unlock()
	if post != nil && f.Feedback != nil {
		_ = f.Feedback(ctx, *post)
	}
}

// feedbackFor is what consumer c says on its n-th notice, if anything: an early English
// consumer thanks, a Chinese one asks how to migrate, a laggard asks for more time.
func feedbackFor(c Consumer, n int) *Post {
	zh := strings.HasPrefix(strings.ToLower(c.Locale), "zh")
	switch {
	case n == 1 && zh:
		return &Post{Consumer: c.ID, Locale: "zh-CN", Mood: "neutral", Category: "migration_problem",
			Text: "v2 的游标分页怎么用？有没有迁移示例？我们下周开始迁移。"}
	case n == 1 && c.Persona == Early:
		return &Post{Consumer: c.ID, Locale: "en", Mood: "positive", Category: "other",
			Text: "Thanks for the early notice and the migration guide, v2 works well for us."}
	case n == 3 && c.Persona == Laggard && zh:
		return &Post{Consumer: c.ID, Locale: "zh-CN", Mood: "negative", Category: "need_more_time",
			Text: "时间太紧了，能否延期一个月？我们的系统还依赖 v1。"}
	case n == 3 && c.Persona == Laggard:
		return &Post{Consumer: c.ID, Locale: "en", Mood: "negative", Category: "need_more_time",
			Text: "We need more time, please extend the deadline by a month."}
	}
	return nil
}

// Run starts one goroutine per consumer and returns; Wait waits for them after ctx ends.
func (f *Fleet) Run(ctx context.Context) {
	if f.Every <= 0 {
		f.Every = 40 * time.Millisecond
	}
	if f.GiveUp <= 0 {
		f.GiveUp = 10 * 24 * time.Hour
	}
	if f.HTTP == nil {
		f.HTTP = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	f.mu.Lock()
	f.state = map[string]*consumerState{}
	f.answers = map[string]*Answers{}
	for _, c := range f.Consumers {
		f.state[c.ID] = &consumerState{}
	}
	f.mu.Unlock()
	for i, c := range f.Consumers {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.loop(ctx, c, i)
		}()
	}
}

// Wait waits for the consumers' goroutines to end.
func (f *Fleet) Wait() { f.wg.Wait() }

func (f *Fleet) loop(ctx context.Context, c Consumer, offset int) {
	t := time.NewTicker(f.Every)
	defer t.Stop()
	for n := offset; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		call := f.Calls[n%len(f.Calls)]
		if !f.active(c) {
			f.callAlternative(ctx, c, call)
			continue
		}
		status, err := f.call(ctx, c, f.Gateway, call)
		if err != nil {
			continue
		}
		f.record(c, status)
	}
}

// active reports whether c still calls the old service, migrating it when its time has come.
func (f *Fleet) active(c Consumer) bool {
	now := f.Clock.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.state[c.ID]
	if !s.migrated && !s.migrateAt.IsZero() && !now.Before(s.migrateAt) {
		s.migrated = true
	}
	return !s.migrated && !s.stopped
}

// callAlternative makes a migrated consumer's request to the alternative's stand-in, if there
// is one; a consumer that gave up calls nothing.
func (f *Fleet) callAlternative(ctx context.Context, c Consumer, call Call) {
	f.mu.Lock()
	migrated := f.state[c.ID].migrated
	f.mu.Unlock()
	if !migrated || f.Alternative == "" {
		return
	}
	if status, err := f.call(ctx, c, f.Alternative, call); err == nil && status < 400 {
		f.mu.Lock()
		f.altCalls++
		f.mu.Unlock()
	}
}

// AlternativeCalls is how many requests migrated consumers made to the alternative's stand-in.
func (f *Fleet) AlternativeCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.altCalls
}

// call makes one request as c to base and returns the answer's status.
func (f *Fleet) call(ctx context.Context, c Consumer, base string, call Call) (int, error) {
	u := strings.TrimRight(base, "/") + call.Path
	if f.Identify.Query != "" {
		u += "?" + url.Values{f.Identify.Query: {c.ID}}.Encode()
	}
	var body io.Reader
	if call.Method == http.MethodPost || call.Method == http.MethodPut {
		body = strings.NewReader(`{"item":"sample","quantity":1}`)
	}
	req, err := http.NewRequestWithContext(ctx, call.Method, u, body)
	if err != nil {
		return 0, err
	}
	switch id := f.Identify; {
	case id.Header != "":
		req.Header.Set(id.Header, c.ID)
	case id.Bearer:
		req.Header.Set("Authorization", "Bearer "+c.ID)
	case id.Cookie != "":
		req.AddCookie(&http.Cookie{Name: id.Cookie, Value: c.ID})
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// record counts an answer in the current phase and lets c react to it.
func (f *Fleet) record(c Consumer, status int) {
	phase := "active"
	if f.Phase != nil {
		phase = f.Phase()
	}
	now := f.Clock.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.answers[phase]
	if a == nil {
		a = &Answers{}
		f.answers[phase] = a
		f.order = append(f.order, phase)
	}
	s := f.state[c.ID]
	switch {
	case status >= 200 && status < 300:
		a.OK++
		s.goneSince = time.Time{}
	case status >= 300 && status < 400:
		a.Redirect++
	case status == http.StatusGone:
		a.Gone++
	case status == http.StatusServiceUnavailable:
		a.Unavailable++
	default:
		a.Other++
	}
	if status < 400 {
		return
	}
	if c.Persona == Woken && s.migrateAt.IsZero() {
		s.migrateAt = now.Add(24 * time.Hour)
	}
	if status == http.StatusGone {
		if s.goneSince.IsZero() {
			s.goneSince = now
		}
		if now.Sub(s.goneSince) > f.GiveUp {
			s.stopped = true
		}
	}
}
