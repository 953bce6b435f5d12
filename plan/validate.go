package plan

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	// Time zones are checked against the tz database embedded in the binary, so that a plan
	// validates the same on every machine, with or without /usr/share/zoneinfo.
	_ "time/tzdata"
)

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
