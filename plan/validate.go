package plan

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	pathpkg "path"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"
	// Time zones are checked against the tz database embedded in the binary, so that a plan
	// validates the same on every machine, with or without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// ownerChannels checks where an owner's reminders go: email needs channels.email, chat:NAME and
// webhook:NAME a room or endpoint of that name.
func (v *validator) ownerChannels(path string, o Owner) {
	var rooms, hooks []string
	for _, c := range v.p.Channels.Chat {
		rooms = append(rooms, "chat:"+c.Name)
	}
	for _, w := range v.p.Channels.Webhooks {
		hooks = append(hooks, "webhook:"+w.Name)
	}
	known := slices.Concat([]string{"email"}, rooms, hooks)
	for j, c := range o.Channels {
		p := fmt.Sprintf("%s.channels[%d]", path, j)
		switch {
		case c == "email" && v.p.Channels.Email == nil:
			v.errorf(p, "email reminders need channels.email (the SMTP server to send them through)")
		case c == "email":
		case !slices.Contains(known, c):
			v.errorf(p, "unknown channel %q%s; use email, or chat:NAME / webhook:NAME of a room or endpoint under channels (%s)", c, v.hint(c, known), strings.Join(known, ", "))
		}
	}
}

// BuiltinTemplates names the notice templates Sunset ships in English and Chinese; a notice may
// name one of them or a key of Plan.Templates (which may also override a built-in one).
var BuiltinTemplates = []string{"announce", "reminder", "final_reminder", "feature_retired", "schedule_changed", "brownout_ahead", "done", "guardrail_tripped", "action_stalled", "guardrail_warning", "delivery_alert", "task"}

// KnownChannels names the channels a notice may be sent over.
var KnownChannels = []string{"email", "webhook", "chat", "banner", "feed", "status_page", "mastodon"}

// KnownAudiences names the fixed audiences of a notice; export_pending is the users whose export
// is done but neither downloaded nor kept in a backup (for the reminder before delete_data). A
// notice may also address "tier=NAME" (a tier of consumers.tiers, or of DefaultTiers when none are
// listed) or "feature=NAME" (the callers of a feature).
var KnownAudiences = []string{"all", "active_consumers", "laggards", "owners", "stakeholders", "export_pending"}

// DefaultTiers are the consumer tiers when consumers.tiers is not set, most important first.
var DefaultTiers = []string{"critical", "standard", "free"}

// GatewayPhases names the phases the gateway can enforce, as a runbook gateway step names them.
var GatewayPhases = []string{"active", "deprecated", "brownout", "read_only", "gone", "redirect"}

// DefaultMinNotice is the shortest time allowed between announce and shutdown unless the plan
// sets min_notice.
const DefaultMinNotice = 30 * 24 * time.Hour

// Limits that keep validation fast on hostile input; real plans stay far below them.
const (
	maxMilestones = 100
	maxRoutes     = 2000 // checked together for conflicts, which costs more per route as they grow
)

var (
	raciRoles    = []string{"accountable", "responsible", "consulted", "informed"}
	riskLevels   = []string{"low", "medium", "high"}
	ownerAreas   = []string{"notices", "feedback", "gateway", "data", "runbook", "milestones"}
	locales      = []string{"en", "zh", "zh-CN"}
	chatKinds    = []string{"slack", "dingtalk", "feishu", "wecom"}
	tlsModes     = []string{"starttls", "implicit", "none"}
	guardActions = []string{"pause", "notify"}
	serviceName  = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
	envName      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	httpMethod   = regexp.MustCompile(`^[A-Z]+$`)
	extraMethod  = regexp.MustCompile(`^[A-Z][A-Z0-9_-]{0,19}$`)
	registeredAt = regexp.MustCompile(`\s*\(registered at [^)]*\)`)
	conflictWith = regexp.MustCompile(`conflicts with pattern "((?:[^"\\]|\\.)*)"`)
)

// Validate checks the meaning of a decoded plan: required fields, names, the order of milestones,
// references between parts, route patterns, notice periods, schedules, conditions and secrets.
// It returns every problem found, sorted by position; warnings do not make the plan invalid.
// Positions come from the decoder, so a plan built in Go reports problems without positions.
func (p *Plan) Validate() Problems {
	ps, dropped := p.validate(false)
	if dropped > 0 {
		ps = append(ps, Problem{File: p.file, Message: fmt.Sprintf("%d more problems not shown; fix these and run again", dropped)})
	}
	return ps
}

// validate checks the plan, keeping at most maxProblems problems and counting the rest. A stored
// plan skips the admission rules (see ParseStored).
func (p *Plan) validate(stored bool) (Problems, int) {
	v := &validator{p: p, stored: stored, ms: map[string]time.Time{}, msBad: map[string]bool{}, known: map[string]bool{}}
	v.service()
	v.todos()
	v.people()
	v.consumers()
	v.milestones()
	v.features()
	v.brownouts()
	v.notices()
	v.templates()
	v.channels()
	v.guardrails()
	v.data()
	v.runbook()
	v.risks()
	v.survey()
	v.reminders()
	sortProblems(v.probs)
	return v.probs, v.dropped
}

// validator carries what one Validate run has learned so far.
type validator struct {
	p       *Plan
	probs   Problems
	dropped int // problems past maxProblems, counted but not kept
	loc     *time.Location
	// ms holds the resolved milestones; msBad the ones that could not be resolved (already
	// reported), so that instants relative to them stay quiet.
	ms    map[string]time.Time
	msBad map[string]bool
	known map[string]bool // feature names
	// featureList is featureNames' cache.
	featureList []string
	tierSet     map[string]bool
	// stored is set for a plan stored by an earlier version: the admission rules are skipped.
	stored bool
}

func (v *validator) add(sev Severity, path, format string, args ...any) {
	if v.full() {
		v.dropped++
		return
	}
	v.probs = append(v.probs, Problem{File: v.p.file, Pos: v.p.at(path), Path: path, Message: fmt.Sprintf(format, args...), Severity: sev})
}

// full reports whether the problem budget is spent. A hostile plan can hold a million bad
// references; past the budget, checks skip the costly parts of their messages.
func (v *validator) full() bool { return len(v.probs) >= maxProblems }

// hint is suggest, guarded against hostile input: no suggestion once the budget is spent, for a
// long name, or among very many candidates (edit distance is quadratic).
func (v *validator) hint(s string, candidates []string) string {
	if v.full() {
		return ""
	}
	return suggestName(s, candidates)
}

// suggestName is suggest for names of reasonable length among a reasonable number of candidates.
func suggestName(s string, candidates []string) string {
	if len(s) > 64 || len(candidates) > 1000 {
		return ""
	}
	return suggest(s, candidates)
}

// listNames joins names for a message, eliding all but the first dozen.
func listNames(names []string) string {
	const most = 12
	if len(names) > most {
		return strings.Join(names[:most], ", ") + fmt.Sprintf(" and %d more", len(names)-most)
	}
	return strings.Join(names, ", ")
}

// set returns the members of names as a set.
func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func (v *validator) errorf(path, format string, args ...any) { v.add(Error, path, format, args...) }
func (v *validator) warnf(path, format string, args ...any)  { v.add(Warning, path, format, args...) }

// at returns the position of path, or of its closest ancestor that has one: a missing field is
// reported where its parent stands.
func (p *Plan) at(path string) Pos {
	for {
		if pos, ok := p.positions[path]; ok {
			return pos
		}
		if path == "" {
			return Pos{}
		}
		path = parentPath(path)
	}
}

// has reports whether the file wrote a value at path.
func (p *Plan) has(path string) bool {
	_, ok := p.positions[path]
	return ok
}

// required reports a missing or empty value at path and returns whether it is set.
func (v *validator) required(path string, set bool, hint string) bool {
	if set {
		return true
	}
	key := path[strings.LastIndexByte(path, '.')+1:]
	if v.p.has(path) {
		v.errorf(path, "%s is empty; %s", key, hint)
	} else {
		v.errorf(path, "missing %s; %s", key, hint)
	}
	return false
}

func (v *validator) oneOf(path, value string, allowed []string, what string) {
	if value != "" && !slices.Contains(allowed, value) {
		v.errorf(path, "unknown %s %q%s; use one of: %s", what, value, v.hint(value, allowed), strings.Join(allowed, ", "))
	}
}

func (v *validator) email(path, s string) {
	if s == "" {
		return
	}
	if a, err := mail.ParseAddress(s); err != nil || !strings.Contains(a.Address[strings.LastIndexByte(a.Address, '@')+1:], ".") {
		v.errorf(path, "%q does not look like an email address; write it as name@example.com", s)
	}
}

// webURL checks an http or https URL.
func (v *validator) webURL(path, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(path, "%q is not an http or https URL; write it as https://host/path", s)
	}
}

// secret checks that s is a reference (env:NAME or file:PATH). The message never repeats the
// value: it may be the secret itself.
func (v *validator) secret(path string, s Secret, required bool) {
	const how = "use env:NAME (an environment variable) or file:PATH (a file holding it)"
	str := string(s)
	switch {
	case str == "":
		if required {
			v.required(path, false, how)
		}
	case strings.HasPrefix(str, "env:"):
		if !envName.MatchString(str[len("env:"):]) {
			v.errorf(path, "env: must name an environment variable made of letters, digits and underscores; %s", how)
		}
	case strings.HasPrefix(str, "file:"):
		if strings.TrimSpace(str[len("file:"):]) == "" {
			v.errorf(path, "file: must be followed by the path of the file holding the secret; %s", how)
		}
	default:
		v.errorf(path, "secret written in clear; %s, and rotate the secret since the plan exposed it", how)
	}
}

// locator checks a value that says where something is (a database DSN, a chat webhook URL) and
// may be written in clear, or as an env:/file: reference like a secret: written in clear, it
// must carry no password or token. The message never repeats the value.
func (v *validator) locator(path string, s Secret, required bool) {
	str := string(s)
	if str == "" || strings.HasPrefix(str, "env:") || strings.HasPrefix(str, "file:") {
		v.secret(path, s, required)
		return
	}
	if what := credentials(str); what != "" {
		v.errorf(path, "%s is written in clear; move the whole value to env:NAME (an environment variable) or file:PATH (a file holding it), and rotate the secret since the plan exposed it", what)
	}
}

// noCredentials reports a URL field (not a reference) whose value holds a password or a token;
// how says where the credential belongs instead.
func (v *validator) noCredentials(path, s, how string) {
	if v.stored {
		return
	}
	if what := credentials(s); what != "" {
		v.errorf(path, "%s is written in clear; a plan holds no secrets: %s, and rotate the secret since the plan exposed it", what, how)
	}
}

// secretParams are the query and DSN parameter names whose value is a credential.
var secretParams = []string{"password", "passwd", "pwd", "pass", "token", "access_token", "auth_token", "api_key", "apikey", "key", "secret", "client_secret", "sig", "signature", "sslpassword"}

// tokenShapes match tokens that are recognisable on their own, wherever they appear.
var tokenShapes = []struct {
	what string
	re   *regexp.Regexp
}{
	{"a Slack token", regexp.MustCompile(`xox[abposr]-[A-Za-z0-9-]{10,}`)},
	{"a Slack webhook", regexp.MustCompile(`hooks\.slack\.com/(services|workflows|triggers)/`)},
	{"a Feishu or Lark bot webhook", regexp.MustCompile(`open\.(feishu\.cn|larksuite\.com)/open-apis/bot/v2/hook/`)},
	{"a GitHub token", regexp.MustCompile(`\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}`)},
	{"a GitLab token", regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`)},
	{"an AWS access key", regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"an API key", regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{20,}`)},
	{"a JSON Web Token", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.`)},
}

// credentials describes the password or token s holds ("a password in the URL"), or returns ""
// when it holds none: a URL with a password in its userinfo, a password=, token= or secret=
// query or DSN parameter, or a token of a known shape. A URL that merely names a user and a
// host, such as postgres://sunset@127.0.0.1:5432/sunset?sslmode=disable, holds none.
func credentials(s string) string {
	for _, t := range tokenShapes {
		if t.re.MatchString(s) {
			return t.what
		}
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		if _, set := u.User.Password(); set {
			return "a password in the URL"
		}
		for k, vals := range u.Query() {
			if slices.Contains(secretParams, strings.ToLower(k)) && slices.ContainsFunc(vals, func(v string) bool { return v != "" }) {
				return "the " + strings.ToLower(k) + "= parameter in the URL"
			}
		}
		return ""
	}
	// A key=value DSN: host=db user=app password=... dbname=app
	for _, f := range strings.Fields(s) {
		k, val, ok := strings.Cut(f, "=")
		if ok && val != "" && slices.Contains(secretParams, strings.ToLower(k)) {
			return "the " + strings.ToLower(k) + "= parameter"
		}
	}
	return ""
}

// instant resolves in to an absolute time. It reports an unknown milestone; it stays quiet for an
// instant that is missing (the caller checks required fields) or that depends on a milestone
// already reported.
func (v *validator) instant(path string, in Instant) (time.Time, bool) {
	if t, ok := in.Absolute(v.loc); ok {
		return t, true
	}
	if in.Ref == "" {
		return time.Time{}, false
	}
	if t, ok := v.ms[in.Ref]; ok {
		return in.From(t, v.loc), true
	}
	if !v.msBad[in.Ref] {
		v.unknownMilestone(path, in)
	}
	return time.Time{}, false
}

func (v *validator) unknownMilestone(path string, in Instant) {
	names := milestoneNames(v.p.Milestones)
	list := "none are defined"
	if len(names) > 0 {
		list = "defined: " + listNames(names)
	}
	v.errorf(path, "%q names unknown milestone %q%s; define it under milestones or use one that exists (%s)", in.Raw, in.Ref, v.hint(in.Ref, names), list)
}

// optInstant resolves an optional instant.
func (v *validator) optInstant(path string, in *Instant) (time.Time, bool) {
	if in == nil {
		return time.Time{}, false
	}
	return v.instant(path, *in)
}

func (v *validator) format(t time.Time) string {
	return t.In(v.loc).Format("2006-01-02 15:04 MST")
}

func (v *validator) service() {
	s := v.p.Service
	if v.required("service.name", s.Name != "", "name the service, e.g. name: orders-api-v1") && !serviceName.MatchString(s.Name) {
		v.errorf("service.name", "service name %q must be lower-case letters, digits and dashes, start with a letter and be at most 63 characters, e.g. orders-api-v1", s.Name)
	}
	v.loc = time.UTC
	if tz := s.TimeZone; tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			v.errorf("service.timezone", "unknown time zone %q; use an IANA name such as UTC, Europe/Berlin or Asia/Shanghai", tz)
		} else {
			v.loc = loc
		}
	}
	v.webURL("service.upstream", s.Upstream)
	v.webURL("service.docs", s.Docs)
	v.serviceMethods()
}

// maxExtraMethods bounds service.gateway.methods.
const maxExtraMethods = 32

// serviceMethods checks service.gateway.methods: upper-case HTTP tokens, each once, none of the
// standard ones and never CONNECT or TRACE.
func (v *validator) serviceMethods() {
	seen := map[string]bool{}
	ms := v.p.Service.Gateway.Methods
	if len(ms) > maxExtraMethods {
		v.errorf("service.gateway.methods", "%d methods listed; at most %d", len(ms), maxExtraMethods)
		return
	}
	for i, m := range ms {
		path := fmt.Sprintf("service.gateway.methods[%d]", i)
		switch {
		case m == "":
			v.errorf(path, "empty method; write an upper-case method name such as PROPFIND")
		case m == http.MethodConnect || m == http.MethodTrace:
			v.errorf(path, "method %s is never carried by the gateway (CONNECT would make it a tunnel, TRACE echoes credentials); remove it", m)
		case StandardMethod(m):
			v.errorf(path, "method %s is standard and always carried; list only extra methods such as PROPFIND", m)
		case !extraMethod.MatchString(m):
			v.errorf(path, "method %q must be upper-case letters, digits, - or _ (at most 20), e.g. PROPFIND", m)
		case seen[m]:
			v.errorf(path, "method %s is listed twice", m)
		}
		seen[m] = true
	}
}

// StandardMethod reports whether m is one of the methods the gateway always carries: GET, HEAD,
// POST, PUT, PATCH, DELETE and OPTIONS.
func StandardMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

func (v *validator) people() {
	accountable, rolesOK := false, true
	areas := slices.Concat(ownerAreas, milestoneNames(v.p.Milestones))
	for _, st := range v.p.Runbook {
		areas = append(areas, st.Name)
	}
	areaSet := set(areas)
	for i, o := range v.p.Service.Owners {
		path := fmt.Sprintf("service.owners[%d]", i)
		if o.Name == "" && o.Team == "" {
			v.errorf(path, "owner has neither name nor team; set one of them")
		}
		if v.required(path+".role", o.Role != "", "use one of: "+strings.Join(raciRoles, ", ")) {
			v.oneOf(path+".role", o.Role, raciRoles, "role")
		}
		accountable = accountable || o.Role == "accountable"
		rolesOK = rolesOK && slices.Contains(raciRoles, o.Role)
		v.email(path+".email", o.Email)
		v.oneOf(path+".locale", o.Locale, locales, "locale")
		for j, f := range o.For {
			if !areaSet[f] {
				v.errorf(fmt.Sprintf("%s.for[%d]", path, j), "unknown area %q%s; use %s, or a milestone or runbook step name", f, v.hint(f, areas), strings.Join(ownerAreas, ", "))
			}
		}
		v.ownerChannels(path, o)
	}
	if len(v.p.Service.Owners) > 0 && !accountable && rolesOK {
		v.warnf("service.owners", "no owner is accountable; give one person role: accountable so that someone answers for the sunset")
	}
	seen := map[string]bool{}
	for i, s := range v.p.Stakeholders {
		path := fmt.Sprintf("stakeholders[%d]", i)
		if v.required(path+".name", s.Name != "", "name the stakeholder, as 'sunset signoff --as NAME' will") {
			if seen[s.Name] {
				v.errorf(path+".name", "stakeholder %q is listed twice; names must be unique", s.Name)
			}
			seen[s.Name] = true
		}
		v.email(path+".email", s.Email)
	}
	for i, a := range v.p.Alternatives {
		path := fmt.Sprintf("alternatives[%d]", i)
		v.required(path+".name", a.Name != "", "say what the alternative is called")
		if v.required(path+".url", a.URL != "", "say where the alternative is") {
			v.webURL(path+".url", a.URL)
		}
		v.webURL(path+".guide", a.Guide)
	}
}

func (v *validator) consumers() {
	c := v.p.Consumers
	v.tierSet = set(v.tiers())
	id := c.Identify
	n := 0
	for _, set := range []bool{id.Header != "", id.Bearer, id.Cookie != "", id.Query != "", id.IP} {
		if set {
			n++
		}
	}
	if n > 1 {
		v.errorf("consumers.identify", "set only one way to identify callers: header, bearer, cookie, query or ip")
	}
	seen := map[string]bool{}
	for i, t := range c.Tiers {
		path := fmt.Sprintf("consumers.tiers[%d]", i)
		switch {
		case t == "":
			v.errorf(path, "tier name is empty")
		case seen[t]:
			v.errorf(path, "tier %q is listed twice", t)
		}
		seen[t] = true
	}
}

func (v *validator) tiers() []string {
	if len(v.p.Consumers.Tiers) > 0 {
		return v.p.Consumers.Tiers
	}
	return DefaultTiers
}

// milestones checks names, resolves every milestone (reporting unknown references and cycles),
// and checks their order, the RFC 9745 rule and the minimum notice period.
func (v *validator) milestones() {
	p := v.p
	if len(p.Milestones) > maxMilestones {
		v.errorf("milestones", "%d milestones, more than %d; a plan needs a handful, so place other steps relative to them", len(p.Milestones), maxMilestones)
		for _, m := range p.Milestones {
			v.msBad[m.Name] = true
		}
		return
	}
	for _, m := range p.Milestones {
		if !validName(m.Name) {
			v.errorf("milestones."+m.Name, "milestone name %q must be letters, digits and underscores, starting with a letter", m.Name)
		}
	}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var stack []string
	var visit func(m Milestone) bool
	visit = func(m Milestone) bool {
		switch state[m.Name] {
		case done:
			_, ok := v.ms[m.Name]
			return ok
		case visiting:
			return false
		}
		state[m.Name] = visiting
		stack = append(stack, m.Name)
		defer func() {
			state[m.Name] = done
			stack = stack[:len(stack)-1]
		}()
		path := "milestones." + m.Name
		if t, ok := m.At.Absolute(v.loc); ok {
			v.ms[m.Name] = t
			return true
		}
		if m.At.Ref == "" { // unreadable instant, already reported by the decoder
			v.msBad[m.Name] = true
			return false
		}
		ref, ok := p.Milestones.Get(m.At.Ref)
		if !ok {
			v.unknownMilestone(path, m.At)
			v.msBad[m.Name] = true
			return false
		}
		if state[ref.Name] == visiting {
			cycle := append(slices.Clone(stack[slices.Index(stack, ref.Name):]), ref.Name)
			v.errorf(path, "milestones refer to each other in a cycle (%s); give one of them a date", strings.Join(cycle, " → "))
			for _, name := range cycle {
				v.msBad[name] = true
			}
			return false
		}
		if !visit(ref) {
			v.msBad[m.Name] = true
			return false
		}
		v.ms[m.Name] = m.At.From(v.ms[ref.Name], v.loc)
		return true
	}
	for _, m := range p.Milestones {
		visit(m)
	}
	for name := range v.msBad {
		delete(v.ms, name)
	}

	if _, ok := p.Milestones.Get(Shutdown); !ok {
		path := "milestones"
		if !p.has(path) && len(p.Milestones) == 0 {
			path = "milestones.shutdown"
		}
		v.errorf(path, "missing the shutdown milestone; add shutdown: with the date the service goes away")
	}

	// Order of the well-known milestones, between neighbours that are present and resolved.
	prev := ""
	for _, name := range StandardMilestones {
		t, ok := v.ms[name]
		if !ok {
			continue
		}
		if prev != "" && t.Before(v.ms[prev]) && !(prev == Deprecate && name == Shutdown) {
			v.errorf("milestones."+name, "%s (%s) is before %s (%s); milestones must come in the order %s",
				name, v.format(t), prev, v.format(v.ms[prev]), strings.Join(StandardMilestones, " ≤ "))
		}
		prev = name
	}
	// RFC 9745 §3: a Sunset date before the Deprecation date is invalid. The order check above
	// leaves this pair to this clearer message.
	if dep, ok := v.ms[Deprecate]; ok {
		if sun, ok := v.ms[Shutdown]; ok && sun.Before(dep) {
			v.errorf("milestones.shutdown", "sunset (shutdown) %s is before the deprecation instant %s (deprecate); RFC 9745 forbids it: move shutdown after deprecate", v.format(sun), v.format(dep))
		}
	}

	// Minimum notice period.
	minNotice := DefaultMinNotice
	if p.has("min_notice") || p.MinNotice != 0 {
		minNotice = time.Duration(p.MinNotice)
		if minNotice != DefaultMinNotice {
			v.warnf("min_notice", "min_notice %s overrides the default minimum notice period of %s", days(minNotice), days(DefaultMinNotice))
		}
	}
	start := Announce
	if _, ok := v.ms[start]; !ok {
		start = Deprecate
	}
	from, ok1 := v.ms[start]
	to, ok2 := v.ms[Shutdown]
	if ok1 && ok2 && !to.Before(from) && to.Sub(from) < minNotice {
		how := "move shutdown later or " + start + " earlier"
		if minNotice == DefaultMinNotice {
			how += " (min_notice overrides the period, with a warning)"
		}
		v.errorf("milestones.shutdown", "only %s between %s (%s) and shutdown (%s), less than the minimum notice period of %s; %s",
			days(to.Sub(from)), start, v.format(from), v.format(to), days(minNotice), how)
	}
}

// days writes a long duration in days, as people count notice periods: 30d, 13d16h.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	if d < day {
		return FormatDuration(d)
	}
	s := fmt.Sprintf("%dd", d/day)
	if rest := d % day; rest != 0 {
		s += FormatDuration(rest)
	}
	return s
}

func (v *validator) features() {
	mux := http.NewServeMux()
	owner := map[string]string{} // pattern → path of the route that registered it
	// Routes are matched regardless of case unless the service says otherwise: two routes that
	// differ only by case would then be one.
	foldMux := http.NewServeMux()
	foldOwner := map[string]string{}
	routes := 0
	for i, f := range v.p.Features {
		path := fmt.Sprintf("features[%d]", i)
		if v.required(path+".name", f.Name != "", "name the feature, e.g. name: reports") {
			if v.known[f.Name] {
				v.errorf(path+".name", "feature %q is defined twice; feature names must be unique", f.Name)
			}
			v.known[f.Name] = true
		}
		v.required(path+".routes", len(f.Routes) > 0, `list its routes, e.g. routes: ["GET /v1/reports/{id}"]`)
		for j, r := range f.Routes {
			rp := fmt.Sprintf("%s.routes[%d]", path, j)
			if msg := registerPattern(http.NewServeMux(), r); msg != "" {
				v.errorf(rp, "route %q is not a valid ServeMux pattern: %s; write it as [METHOD ][HOST]/PATH, e.g. GET /v1/reports/{id}", r, msg)
				continue
			}
			if method, _, ok := strings.Cut(strings.TrimSpace(r), " "); ok && !strings.HasPrefix(method, "/") && !httpMethod.MatchString(method) {
				v.warnf(rp, "method %q in route %q is not upper case, so it never matches %s requests; write %s", method, r, strings.ToUpper(method), strings.ToUpper(method))
			}
			if routes++; routes > maxRoutes {
				if routes == maxRoutes+1 {
					v.errorf(rp, "more than %d routes; group them under fewer, wider patterns such as /v1/reports/", maxRoutes)
				}
				continue
			}
			if msg := registerPattern(mux, r); msg != "" {
				other := owner[r]
				if m := conflictWith.FindStringSubmatch(msg); m != nil && other == "" {
					other = owner[unquote(m[1])]
				}
				if other == "" {
					v.errorf(rp, "route %q conflicts with another route: %s", r, msg)
				} else if _, desc, _ := strings.Cut(msg, ":\n"); strings.Contains(desc, "matches the same requests") {
					v.errorf(rp, "route %q is already listed at %s (%s); a route belongs to one feature", r, other, v.routeFeature(other))
				} else {
					// ServeMux explains a conflict in a few lines; the first two say it all.
					lines := strings.SplitN(desc, "\n", 3)
					v.errorf(rp, "route %q conflicts with %s (%s): %s; make one of them more specific", r, other, v.routeFeature(other), strings.TrimSuffix(strings.Join(strings.Fields(strings.Join(lines[:min(2, len(lines))], " ")), " "), "."))
				}
				continue
			}
			owner[r] = rp
			if !v.p.Service.Gateway.CaseSensitivePaths {
				folded := FoldRoute(r)
				if msg := registerPattern(foldMux, folded); msg != "" {
					other := foldOwner[folded]
					if other == "" {
						other = "another route"
					}
					v.errorf(rp, "route %q conflicts with %s (%s) once letter case is ignored, and paths are matched regardless of case; remove one, or set service.gateway.case_sensitive_paths: true if the service tells them apart", r, other, v.routeFeature(other))
					continue
				}
				foldOwner[folded] = rp
			}
		}

		dep, depOK := v.optInstant(path+".deprecate", f.Deprecate)
		ro, roOK := v.optInstant(path+".read_only", f.ReadOnly)
		gone, goneOK := v.optInstant(path+".gone", f.Gone)
		if f.Deprecate == nil {
			dep, depOK = v.ms[Deprecate]
		}
		if f.Gone == nil {
			gone, goneOK = v.ms[Shutdown]
		}
		if depOK && goneOK && gone.Before(dep) && (f.Deprecate != nil || f.Gone != nil) {
			at := path + ".gone"
			if f.Gone == nil {
				at = path + ".deprecate"
			}
			v.errorf(at, "sunset (gone) %s of feature %q is before its deprecation instant %s; RFC 9745 forbids it: move gone after deprecate", v.format(gone), f.Name, v.format(dep))
		}
		if roOK && depOK && ro.Before(dep) {
			v.errorf(path+".read_only", "read_only %s of feature %q is before its deprecation instant %s; features go deprecated, then read-only, then gone", v.format(ro), f.Name, v.format(dep))
		}
		if roOK && goneOK && gone.Before(ro) {
			v.errorf(path+".read_only", "read_only %s of feature %q is after it is gone (%s); features go deprecated, then read-only, then gone", v.format(ro), f.Name, v.format(gone))
		}
		if r := f.Redirect; r != "" && !strings.HasPrefix(r, "/") {
			v.webURL(path+".redirect", r)
		}
	}
}

// FoldRoute returns route with the literal segments of its host and path in lower case, as the
// gateway matches them when the service's paths are case-insensitive. The method and wildcard
// names are kept.
func FoldRoute(route string) string {
	method, rest := "", route
	if i := strings.IndexAny(strings.TrimLeft(route, " \t"), " \t"); i >= 0 {
		j := len(route) - len(strings.TrimLeft(route, " \t")) + i
		method, rest = route[:j], route[j:]
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			segs[i] = strings.ToLower(s)
		}
	}
	return method + strings.Join(segs, "/")
}

// routeFeature names the feature of the route at path ("features[0].routes[1]").
func (v *validator) routeFeature(path string) string {
	var i int
	if _, err := fmt.Sscanf(path, "features[%d]", &i); err == nil && i < len(v.p.Features) && v.p.Features[i].Name != "" {
		return "feature " + v.p.Features[i].Name
	}
	return "another feature"
}

// registerPattern registers pattern in mux and returns ServeMux's complaint, if any, without
// the "registered at" source locations that mean nothing to the plan's author.
func registerPattern(mux *http.ServeMux, pattern string) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = strings.TrimPrefix(registeredAt.ReplaceAllString(fmt.Sprint(r), ""), "http: ")
		}
	}()
	mux.Handle(pattern, http.NotFoundHandler())
	return ""
}

func unquote(s string) string {
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(s)
}

func (v *validator) brownouts() {
	for i, b := range v.p.Brownouts {
		path := fmt.Sprintf("brownouts[%d]", i)
		from, fromOK := v.instant(path+".from", b.From)
		if b.From.Raw == "" && !v.p.has(path+".from") {
			v.required(path+".from", false, "say when the brownouts start, e.g. from: shutdown-28d")
		}
		until, untilOK := v.optInstant(path+".until", b.Until)
		if b.Until == nil {
			until, untilOK = v.ms[Shutdown]
		}
		if fromOK && untilOK && !from.Before(until) {
			end := "until"
			if b.Until == nil {
				end = "shutdown, its default end,"
			}
			v.errorf(path+".from", "brownouts start at %s, not before %s %s; start them earlier", v.format(from), end, v.format(until))
		}
		hasEvery := b.Every != "" || v.p.has(path+".every")
		hasPercent := b.Percent != 0 || v.p.has(path+".percent")
		switch {
		case hasEvery && hasPercent:
			v.errorf(path, "set either every (windows) or percent (a share of requests), not both")
		case !hasEvery && !hasPercent:
			v.errorf(path, `set every with for (windows, e.g. every: "Tue,Thu 14:00", for: 15m) or percent (a share of requests)`)
		}
		if hasEvery {
			if _, err := ParseWeekly(b.Every); err != nil {
				v.errorf(path+".every", "%v", err)
			}
			if b.For <= 0 {
				v.required(path+".for", false, "say how long each brownout window lasts, e.g. for: 15m")
			} else if time.Duration(b.For) > 7*24*time.Hour {
				v.errorf(path+".for", "windows of %s last longer than a week; use percent for a brownout that never stops", b.For)
			}
		} else if b.For != 0 {
			v.errorf(path+".for", "for sets the length of every window; add every or remove for")
		}
		if hasPercent && (b.Percent <= 0 || b.Percent > 100) {
			v.errorf(path+".percent", "percent must be more than 0 and at most 100, got %g", b.Percent)
		}
		if b.Status != 0 && b.Status != http.StatusGone && b.Status != http.StatusServiceUnavailable {
			v.errorf(path+".status", "status must be 410 (Gone) or 503 (Service Unavailable), got %d", b.Status)
		}
		v.featureRefs(path+".features", b.Features)
		v.oneOf(path+".audience", b.Audience, []string{"all", "laggards"}, "brownout audience")
	}
}

func (v *validator) featureRefs(path string, names []string) {
	for j, name := range names {
		if !v.known[name] {
			v.errorf(fmt.Sprintf("%s[%d]", path, j), "unknown feature %q%s; name a feature of features", name, v.hint(name, v.featureNames()))
		}
	}
}

// featureNames lists the features' names, computed once: hostile plans repeat bad references.
func (v *validator) featureNames() []string {
	if v.featureList == nil {
		v.featureList = make([]string, 0, len(v.p.Features))
		for _, f := range v.p.Features {
			v.featureList = append(v.featureList, f.Name)
		}
	}
	return v.featureList
}

func (v *validator) templateNames() []string {
	names := slices.Clone(BuiltinTemplates)
	builtin := set(BuiltinTemplates) // a set, not slices.Contains: plans from the network may hold many templates
	for name := range v.p.Templates {
		if !builtin[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names[len(BuiltinTemplates):])
	return names
}

func (v *validator) notices() {
	templates := v.templateNames()
	templateSet := set(templates)
	for i, n := range v.p.Notices {
		path := fmt.Sprintf("notices[%d]", i)
		v.instant(path+".at", n.At)
		if n.At.Raw == "" && !v.p.has(path+".at") {
			v.required(path+".at", false, "say when to send it, e.g. at: shutdown-30d")
		}
		if v.required(path+".to", n.To != "", "say who gets it, e.g. to: all") {
			v.audience(path+".to", n.To)
		}
		v.required(path+".channels", len(n.Channels) > 0, "list channels, e.g. channels: [email, banner]")
		for j, c := range n.Channels {
			cp := fmt.Sprintf("%s.channels[%d]", path, j)
			v.oneOf(cp, c, KnownChannels, "channel")
			if !v.stored {
				v.channelConfigured(cp, c)
			}
		}
		if !v.stored {
			v.beforeAnnounce(path, n)
		}
		if v.required(path+".template", n.Template != "", "name a built-in template ("+strings.Join(BuiltinTemplates, ", ")+") or one under templates") &&
			!templateSet[n.Template] {
			v.errorf(path+".template", "unknown template %q%s; use a built-in one (%s) or define it under templates", n.Template, v.hint(n.Template, templates), strings.Join(BuiltinTemplates, ", "))
		}
	}
}

// channelConfigured reports a notice channel that needs settings the plan does not give: such a
// notice would reach nobody over it, silently.
func (v *validator) channelConfigured(path, c string) {
	ch := v.p.Channels
	var missing, example string
	switch {
	case c == "email" && ch.Email == nil:
		missing, example = "channels.email", "channels: {email: {smtp: smtp.example.com:587, from: noreply@example.com}}"
	case c == "webhook" && len(ch.Webhooks) == 0:
		missing, example = "channels.webhooks", `channels: {webhooks: [{name: partners, url: "https://hooks.example.com/sunset"}]}`
	case c == "chat" && len(ch.Chat) == 0:
		missing, example = "channels.chat", `channels: {chat: [{name: ops, kind: slack, url: "env:SLACK_WEBHOOK"}]}`
	case c == "mastodon" && ch.Mastodon == nil:
		missing, example = "channels.mastodon", `channels: {mastodon: {server: "https://mastodon.social", token: "env:MASTODON_TOKEN"}}`
	default:
		return
	}
	v.errorf(path, "channel %s has no configuration, so the notice would reach nobody over it; configure %s (e.g. %s) or remove the channel", c, missing, example)
}

// internalAudiences are the audiences a notice may reach before the announcement: the people
// running the sunset, not its users.
var internalAudiences = []string{"owners", "stakeholders"}

// publicChannels publish what they carry; nothing about a sunset is public before it is
// announced.
var publicChannels = []string{"banner", "feed", "status_page", "mastodon"}

// beforeAnnounce reports a notice scheduled before the announce milestone that reaches users or
// a public channel: users would hear of the sunset before it is announced.
func (v *validator) beforeAnnounce(path string, n Notice) {
	announce, ok := v.ms[Announce]
	if !ok || n.At.Raw == "" {
		return
	}
	at, ok := v.instantQuiet(n.At)
	if !ok || !at.Before(announce) {
		return
	}
	public := slices.ContainsFunc(n.Channels, func(c string) bool { return slices.Contains(publicChannels, c) })
	if slices.Contains(internalAudiences, n.To) && !public {
		return
	}
	why := "it reaches " + n.To
	if public {
		why = "it is published on a public channel"
	}
	v.errorf(path+".at", "the notice is sent %s, before the announce milestone (%s), and %s: nothing about a sunset reaches its users before it is announced; send it at announce or later, or only to owners or stakeholders over email, webhook or chat", v.format(at), v.format(announce), why)
}

// instantQuiet resolves in without reporting anything (instant reports the problems once).
func (v *validator) instantQuiet(in Instant) (time.Time, bool) {
	if t, ok := in.Absolute(v.loc); ok {
		return t, true
	}
	if t, ok := v.ms[in.Ref]; ok && in.Ref != "" {
		return in.From(t, v.loc), true
	}
	return time.Time{}, false
}

func (v *validator) audience(path, to string) {
	switch {
	case to == "export_pending" && v.p.Data.Export == nil:
		v.errorf(path, "export_pending is the users whose export waits to be downloaded: declare data.export")
	case slices.Contains(KnownAudiences, to):
	case strings.HasPrefix(to, "tier="):
		tier := strings.TrimPrefix(to, "tier=")
		if !v.tierSet[tier] {
			tiers := v.tiers()
			v.errorf(path, "unknown tier %q%s; use one of consumers.tiers: %s", tier, v.hint(tier, tiers), listNames(tiers))
		}
	case strings.HasPrefix(to, "feature="):
		name := strings.TrimPrefix(to, "feature=")
		if !v.known[name] {
			v.errorf(path, "unknown feature %q%s; name a feature of features", name, v.hint(name, v.featureNames()))
		}
	default:
		v.errorf(path, "unknown audience %q%s; use %s, tier=NAME or feature=NAME", to, v.hint(to, KnownAudiences), strings.Join(KnownAudiences, ", "))
	}
}

func (v *validator) templates() {
	names := make([]string, 0, len(v.p.Templates))
	for name := range v.p.Templates {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t := v.p.Templates[name]
		path := "templates." + name
		if t.EN == nil && t.ZH == nil {
			v.errorf(path, "template %q has no message; add en: and zh: with subject and body", name)
			continue
		}
		for _, lm := range []struct {
			lang string
			m    *Message
		}{{"en", t.EN}, {"zh", t.ZH}} {
			lang, m := lm.lang, lm.m
			if m == nil {
				continue
			}
			mp := path + "." + lang
			for _, ft := range [][2]string{{"subject", m.Subject}, {"body", m.Body}} {
				field, text := ft[0], ft[1]
				fp := mp + "." + field
				if !v.required(fp, text != "", "write the "+field+" of the message") {
					continue
				}
				if _, err := template.New(name).Option("missingkey=error").Parse(text); err != nil {
					v.errorf(fp, "template does not parse: %s; fix the {{ }} actions", strings.TrimPrefix(err.Error(), "template: "))
				} else {
					v.templateVars(fp, name, text)
				}
			}
		}
	}
}

func (v *validator) channels() {
	c := v.p.Channels
	if e := c.Email; e != nil {
		if v.required("channels.email.smtp", e.SMTP != "", "write host:port of the SMTP server") {
			if _, port, err := net.SplitHostPort(e.SMTP); err != nil || port == "" {
				v.errorf("channels.email.smtp", "%q is not host:port; write it as smtp.example.com:587", e.SMTP)
			}
		}
		v.oneOf("channels.email.tls", e.TLS, tlsModes, "tls mode")
		if v.required("channels.email.from", e.From != "", "write the sender address, e.g. noreply@example.com") {
			v.email("channels.email.from", e.From)
		}
		v.secret("channels.email.password", e.Password, false)
	}
	seen := map[string]bool{}
	for i, w := range c.Webhooks {
		path := fmt.Sprintf("channels.webhooks[%d]", i)
		if v.required(path+".name", w.Name != "", "name the webhook") {
			if seen[w.Name] {
				v.errorf(path+".name", "webhook %q is defined twice; names must be unique", w.Name)
			}
			seen[w.Name] = true
		}
		if v.required(path+".url", w.URL != "", "write the URL to post to") {
			v.webURL(path+".url", w.URL)
			v.noCredentials(path+".url", w.URL, "take it out of the URL and sign the webhook with secret: env:NAME")
		}
		v.secret(path+".secret", w.Secret, false)
	}
	seen = map[string]bool{}
	for i, ch := range c.Chat {
		path := fmt.Sprintf("channels.chat[%d]", i)
		if v.required(path+".name", ch.Name != "", "name the chat channel") {
			if seen[ch.Name] {
				v.errorf(path+".name", "chat channel %q is defined twice; names must be unique", ch.Name)
			}
			seen[ch.Name] = true
		}
		if v.required(path+".kind", ch.Kind != "", "use one of: "+strings.Join(chatKinds, ", ")) {
			v.oneOf(path+".kind", ch.Kind, chatKinds, "chat kind")
		}
		v.locator(path+".url", ch.URL, true)
		v.secret(path+".secret", ch.Secret, false)
	}
	if m := c.Mastodon; m != nil {
		if v.required("channels.mastodon.server", m.Server != "", "write the server URL, e.g. https://mastodon.social") {
			v.webURL("channels.mastodon.server", m.Server)
		}
		v.secret("channels.mastodon.token", m.Token, true)
	}
}

func (v *validator) guardrails() {
	for i, g := range v.p.Guardrails {
		path := fmt.Sprintf("guardrails[%d]", i)
		var c Condition
		parsed := false
		if v.required(path+".when", g.When != "", `write a condition, e.g. when: "feedback.negative_ratio > 0.4 over 24h"`) {
			var err error
			if c, err = ParseCondition(g.When); err != nil {
				v.errorf(path+".when", "%v", err)
			} else {
				parsed = true
				if !v.stored {
					v.conditionLabels(path+".when", c)
				}
			}
		}
		from, fromOK := v.optInstant(path+".from", g.From)
		before, beforeOK := v.optInstant(path+".before", g.Before)
		if fromOK && beforeOK && !from.Before(before) {
			v.errorf(path+".from", "from %s is not before before %s, so the guardrail is never checked; from arms it, before disarms it", v.format(from), v.format(before))
		}
		v.oneOf(path+".then", g.Then, guardActions, "reaction")
		if g.MinSample != nil {
			switch {
			case *g.MinSample < 1:
				v.errorf(path+".min_sample", "min_sample must be at least 1, got %d", *g.MinSample)
			case parsed && SampleSignals[c.Signal] == "":
				v.errorf(path+".min_sample", "min_sample applies to ratio signals (%s); %s is a count", listNames(slices.Sorted(maps.Keys(SampleSignals))), c.Signal)
			}
		}
	}
}

// conditionLabels checks a condition's labels: each one narrows the signal (SignalLabels), and
// its value names a tier, feature or category the plan knows. A tier label needs the contacts,
// which carry each consumer's tier.
func (v *validator) conditionLabels(path string, c Condition) {
	allowed := SignalLabels[c.Signal]
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		val := c.Labels[k]
		if !slices.Contains(allowed, k) {
			if allLabels[k] {
				v.errorf(path, "label %s does not narrow %s, which takes: %s", k, c.Signal, listNames(allowed))
			} else {
				v.errorf(path, "unknown label %q%s; %s takes: %s", k, v.hint(k, allowed), c.Signal, listNames(allowed))
			}
			continue
		}
		switch k {
		case "tier":
			if !v.tierSet[val] {
				v.errorf(path, "unknown tier %q%s; use one of: %s", val, v.hint(val, v.tiers()), listNames(v.tiers()))
			} else if v.p.Consumers.Contacts == "" {
				v.errorf(path, "{tier=%s} needs the consumers' tiers, which come from their contacts: set consumers.contacts (a CSV with a tier column)", val)
			}
		case "feature":
			if !v.known[val] {
				v.errorf(path, "unknown feature %q%s; name a feature of features", val, v.hint(val, v.featureNames()))
			}
		case "category":
			if !slices.Contains(FeedbackCategories, val) {
				v.errorf(path, "unknown category %q%s; use one of: %s", val, v.hint(val, FeedbackCategories), listNames(FeedbackCategories))
			}
		}
	}
}

// allLabels holds every label some signal takes.
var allLabels = func() map[string]bool {
	m := map[string]bool{}
	for _, ls := range SignalLabels {
		for _, l := range ls {
			m[l] = true
		}
	}
	return m
}()

// CheckContactTiers reports every guardrail label {tier=NAME} and notice audience tier=NAME
// that names a tier none of the plan's contacts has: such a guardrail would read zero forever
// and such a notice reach nobody. tiers counts the contacts per tier; a caller that read the
// contacts (sunset plan validate reads the file next to the plan) passes what it found.
func (p *Plan) CheckContactTiers(tiers map[string]int) Problems {
	v := &validator{p: p}
	have := slices.Sorted(maps.Keys(tiers))
	list := "none has a tier"
	if len(have) > 0 {
		list = "they have: " + listNames(have)
	}
	for i, g := range p.Guardrails {
		c, err := ParseCondition(g.When)
		if err != nil {
			continue
		}
		if t, ok := c.Labels["tier"]; ok && tiers[t] == 0 {
			v.errorf(fmt.Sprintf("guardrails[%d].when", i), "no contact of %s has tier %q, so the guardrail would never see one; %s", p.Consumers.Contacts, t, list)
		}
	}
	for i, n := range p.Notices {
		if t, ok := strings.CutPrefix(n.To, "tier="); ok && tiers[t] == 0 {
			v.errorf(fmt.Sprintf("notices[%d].to", i), "no contact of %s has tier %q, so the notice would reach nobody; %s", p.Consumers.Contacts, t, list)
		}
	}
	sortProblems(v.probs)
	return v.probs
}

func (v *validator) data() {
	d := v.p.Data
	seen := map[string]bool{}
	for i, b := range d.Backups {
		path := fmt.Sprintf("data.backups[%d]", i)
		if v.required(path+".name", b.Name != "", "name the backup, e.g. name: main-db") {
			if seen[b.Name] {
				v.errorf(path+".name", "backup %q is defined twice; names must be unique", b.Name)
			}
			seen[b.Name] = true
		}
		s := b.Source
		n := 0
		for _, set := range []bool{s.Dir != "", s.SQLite != "", s.Postgres != "", s.HTTP != ""} {
			if set {
				n++
			}
		}
		switch {
		case n == 0:
			v.required(path+".source", false, "set exactly one of dir, sqlite, postgres or http")
		case n > 1:
			v.errorf(path+".source", "set exactly one of dir, sqlite, postgres or http, not %d", n)
		}
		v.locator(path+".source.postgres", s.Postgres, false)
		v.webURL(path+".source.http", s.HTTP)
		v.noCredentials(path+".source.http", s.HTTP, "take it out of the URL (serve the dump on a loopback or private address instead)")
		if v.required(path+".to", b.To != "", "say where archives go, e.g. to: file:///var/backups/orders") {
			if u, err := url.Parse(b.To); err != nil || u.Scheme == "" {
				v.errorf(path+".to", "%q is not a destination URL; write file:///path or s3://bucket/prefix", b.To)
			} else {
				v.noCredentials(path+".to", b.To, "take it out of the URL (S3 keys come from the environment, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
			}
		}
	}
	if e := d.Export; e != nil {
		path := "data.export"
		switch {
		case e.PerUser.HTTP == "" && e.PerUser.SQL == "":
			v.required(path+".per_user", false, "set http (a URL with {id}) or sql")
		case e.PerUser.HTTP != "" && e.PerUser.SQL != "":
			v.errorf(path+".per_user", "set either http or sql, not both")
		case e.PerUser.HTTP != "":
			if !strings.Contains(e.PerUser.HTTP, "{id}") {
				v.errorf(path+".per_user.http", "the export URL must contain {id}, replaced by the user's id")
			}
			v.webURL(path+".per_user.http", strings.ReplaceAll(e.PerUser.HTTP, "{id}", "id"))
			v.noCredentials(path+".per_user.http", e.PerUser.HTTP, "take it out of the URL (serve exports on a loopback or private address instead)")
		}
		if e.PerUser.SQL != "" {
			var dbs []string
			for _, b := range d.Backups {
				if b.Source.SQLite != "" || b.Source.Postgres != "" {
					dbs = append(dbs, b.Name)
				}
			}
			switch {
			case e.PerUser.Database != "" && !slices.Contains(dbs, e.PerUser.Database):
				v.errorf(path+".per_user.database", "%q is not a data.backups entry with an sqlite or postgres source%s", e.PerUser.Database, v.hint(e.PerUser.Database, dbs))
			case len(dbs) == 0:
				v.errorf(path+".per_user.sql", "an sql export runs against a database: declare a data.backups entry with an sqlite or postgres source")
			}
		}
		if e.To != "" {
			if u, err := url.Parse(e.To); err != nil || u.Scheme == "" {
				v.errorf(path+".to", "%q is not a destination URL; write file:///path or s3://bucket/prefix", e.To)
			}
		} else if len(d.Backups) == 0 {
			v.required(path+".to", false, "say where export zips go, e.g. to: file:///var/exports (or declare a backup, whose destination is used)")
		}
		v.secret(path+".key", e.Key, false)
		v.webURL(path+".public_url", e.PublicURL)
		v.optInstant(path+".until", e.Until)
	}
	if r := d.Retention; r != nil {
		path := "data.retention"
		if r.Approvals < 0 {
			v.errorf(path+".approvals", "approvals cannot be negative")
		}
		if del := r.Delete; del != nil {
			switch {
			case len(del.Exec) > 0 && del.Dir != "":
				v.errorf(path+".delete", "set either exec or dir, not both")
			case del.Dir != "":
				clean := pathpkg.Clean(del.Dir)
				if !pathpkg.IsAbs(del.Dir) || clean == "/" || clean != strings.TrimSuffix(del.Dir, "/") {
					v.errorf(path+".delete.dir", "%q must be a clean absolute path below /, e.g. /var/lib/orders", del.Dir)
				}
			case len(del.Exec) == 0 || del.Exec[0] == "":
				v.errorf(path+".delete", "say what to delete: exec: [COMMAND, ARGS...] or dir: /var/lib/SERVICE")
			}
		}
	}
}

// runbookKinds names the fields of RunbookStep of which exactly one must be set.
var runbookKinds = []string{"gateway", "drain", "backup", "approval", "exec", "http", "wait", "notify", "migrate", "exports"}

func (v *validator) runbook() {
	backups := make([]string, 0, len(v.p.Data.Backups))
	for _, b := range v.p.Data.Backups {
		backups = append(backups, b.Name)
	}
	backupSet := set(backups)
	seen := map[string]bool{}
	for i, s := range v.p.Runbook {
		path := fmt.Sprintf("runbook[%d]", i)
		if v.required(path+".name", s.Name != "", "name the step, e.g. name: final-backup") {
			if seen[s.Name] {
				v.errorf(path+".name", "step %q is defined twice; step names must be unique", s.Name)
			}
			seen[s.Name] = true
		}
		set := []bool{s.Gateway != "", s.Drain != nil, s.Backup != "", s.Approval != nil, s.Exec != nil, s.HTTP != nil, s.Wait != 0, s.Notify != "", s.Migrate != nil, s.Exports != ""}
		var kinds []string
		for k, isSet := range set {
			if isSet || v.p.has(path+"."+runbookKinds[k]) {
				kinds = append(kinds, runbookKinds[k])
			}
		}
		switch len(kinds) {
		case 0:
			v.errorf(path, "step %q does nothing; give it exactly one of: %s", s.Name, strings.Join(runbookKinds, ", "))
		case 1:
		default:
			v.errorf(path, "step %q has %s; give each step exactly one of them and split the rest into steps", s.Name, strings.Join(kinds, " and "))
		}
		if s.Gateway != "" {
			v.oneOf(path+".gateway", s.Gateway, GatewayPhases, "gateway phase")
		}
		if s.Drain != nil {
			if s.Drain.MaxRPS < 0 {
				v.errorf(path+".drain.max_rps", "max_rps cannot be negative")
			}
			if s.Drain.Within <= 0 {
				v.required(path+".drain.within", false, "say how long to wait for traffic to fall, e.g. within: 10m")
			}
		}
		if s.Backup != "" && !backupSet[s.Backup] {
			v.errorf(path+".backup", "unknown backup %q%s; name an entry of data.backups", s.Backup, v.hint(s.Backup, backups))
		}
		if a := s.Approval; a != nil {
			v.required(path+".approval.role", a.Role != "", "say who approves, e.g. role: approver")
			if a.Count < 0 || a.Count == 0 && v.p.has(path+".approval.count") {
				v.errorf(path+".approval.count", "count must be at least 1, got %d", a.Count)
			}
		}
		if s.Exec != nil && (len(s.Exec) == 0 || s.Exec[0] == "") {
			v.errorf(path+".exec", "exec needs a command, e.g. exec: [systemctl, stop, orders-api]")
		}
		if h := s.HTTP; h != nil {
			if v.required(path+".http.url", h.URL != "", "write the URL to call") {
				v.webURL(path+".http.url", h.URL)
			}
			if h.Method != "" && !httpMethod.MatchString(h.Method) {
				v.errorf(path+".http.method", "method %q must be an upper-case HTTP method such as POST", h.Method)
			}
		}
		if m := s.Migrate; m != nil {
			if v.required(path+".migrate.url", m.URL != "", "write the alternative's import URL, e.g. https://v2.example.com/import/{id}") {
				if !strings.Contains(m.URL, "{id}") {
					v.errorf(path+".migrate.url", "the migration URL must contain {id}, replaced by the user's id")
				}
				v.webURL(path+".migrate.url", strings.ReplaceAll(m.URL, "{id}", "id"))
			}
			if m.Attempts < 0 {
				v.errorf(path+".migrate.attempts", "attempts cannot be negative")
			}
			if v.p.Data.Export == nil {
				v.errorf(path+".migrate", "a migrate step sends users' exports: declare data.export")
			}
		}
		if s.Exports != "" {
			v.oneOf(path+".exports", s.Exports, []string{"check"}, "exports step")
			if v.p.Data.Export == nil {
				v.errorf(path+".exports", "an exports step checks users' exports: declare data.export")
			}
		}
		if s.Verify && s.Backup == "" {
			v.errorf(path+".verify", "verify applies to backup steps; remove it or add backup:")
		}
		if s.Retries < 0 {
			v.errorf(path+".retries", "retries cannot be negative")
		}
		if s.OnFailure != "" {
			v.oneOf(path+".on_failure", s.OnFailure, []string{"stop", "continue", "rollback"}, "on_failure")
		}
		if s.Shell && len(s.Exec) != 1 {
			v.errorf(path+".shell", "shell: true runs one command line; write exec as a single string, e.g. exec: [\"pg_ctl stop && rm -f pid\"]")
		}
		for j, pre := range s.Preconditions {
			kind, name, _ := strings.Cut(pre, ":")
			switch {
			case kind == "backup" && backupSet[name], kind == "step" && seen[name] && name != s.Name:
			default:
				v.errorf(fmt.Sprintf("%s.preconditions[%d]", path, j), "precondition %q: use step:NAME (an earlier step) or backup:NAME (an entry of data.backups)", pre)
			}
		}
		if s.Timeout < 0 || s.Wait < 0 {
			v.errorf(path, "durations cannot be negative")
		}
	}
}

func (v *validator) risks() {
	for i, r := range v.p.Risks {
		path := fmt.Sprintf("risks[%d]", i)
		v.required(path+".risk", r.Risk != "", "describe what could go wrong")
		if v.required(path+".likelihood", r.Likelihood != "", "use low, medium or high") {
			v.oneOf(path+".likelihood", r.Likelihood, riskLevels, "likelihood")
		}
		if v.required(path+".impact", r.Impact != "", "use low, medium or high") {
			v.oneOf(path+".impact", r.Impact, riskLevels, "impact")
		}
	}
}
