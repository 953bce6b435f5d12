// Package plan holds the declarative plan of one sunset: its Go types, the YAML decoder that keeps
// the position of every value, validation that reports every problem with its place, the JSON
// Schema generated from the types, and the compile step that turns a plan into a Timeline.
//
// The package is pure: bytes in, a validated Plan and a Timeline out. It does no I/O beyond what
// ParseFile reads, and it never consults the wall clock.
package plan

import "time"

// Plan is one sunset.yaml: everything needed to retire one service.
//
// Field tags name the YAML keys. Every field is optional for the decoder; Validate says what a
// usable plan must contain.
type Plan struct {
	Service      Service       `yaml:"service" json:"service" jsonschema:"description=The service being retired."`
	Stakeholders []Stakeholder `yaml:"stakeholders,omitempty" json:"stakeholders,omitempty" jsonschema:"description=People or teams who must sign off before the sunset is scheduled."`
	Alternatives []Alternative `yaml:"alternatives,omitempty" json:"alternatives,omitempty" jsonschema:"description=Where users should go instead."`
	Consumers    Consumers     `yaml:"consumers,omitempty" json:"consumers,omitempty" jsonschema:"description=How callers are identified and who to tell."`
	// Milestones maps milestone names to instants, in file order. The well-known names are
	// announce, deprecate, read_only, shutdown and delete_data; any other name is a custom
	// milestone.
	Milestones Milestones `yaml:"milestones" json:"milestones" jsonschema:"description=Named instants: announce\\, deprecate\\, read_only\\, shutdown\\, delete_data and any custom name."`
	// MinNotice overrides the minimum time between announce and shutdown (default 30d). An
	// override is reported as a warning by validation.
	MinNotice  Duration            `yaml:"min_notice,omitempty" json:"min_notice,omitempty" jsonschema:"description=Minimum announce-to-shutdown period; default 30d. Overriding it is reported as a warning."`
	Features   []Feature           `yaml:"features,omitempty" json:"features,omitempty" jsonschema:"description=Groups of routes that can be retired before the whole service."`
	Brownouts  []Brownout          `yaml:"brownouts,omitempty" json:"brownouts,omitempty" jsonschema:"description=Scheduled\\, deliberate failures that warn callers before the shutdown."`
	Notices    []Notice            `yaml:"notices,omitempty" json:"notices,omitempty" jsonschema:"description=Messages sent at milestone offsets."`
	Templates  map[string]Template `yaml:"templates,omitempty" json:"templates,omitempty" jsonschema:"description=Custom notice templates by name; built-in ones need no entry."`
	Channels   Channels            `yaml:"channels,omitempty" json:"channels,omitempty" jsonschema:"description=Settings for notice channels. Secrets are env:NAME or file:PATH references."`
	Guardrails []Guardrail         `yaml:"guardrails,omitempty" json:"guardrails,omitempty" jsonschema:"description=Conditions over live signals that pause the sunset."`
	Data       Data                `yaml:"data,omitempty" json:"data,omitempty" jsonschema:"description=Backups\\, per-user export and retention."`
	Runbook    []RunbookStep       `yaml:"runbook,omitempty" json:"runbook,omitempty" jsonschema:"description=The ordered procedure for the final shutdown."`
	Risks      []Risk              `yaml:"risks,omitempty" json:"risks,omitempty" jsonschema:"description=The risk register."`
	// Survey is the short survey offered after the shutdown; nil means the default questions.
	Survey *Survey `yaml:"survey,omitempty" json:"survey,omitempty" jsonschema:"description=The survey offered after the shutdown (linked from the done notice and the tombstone page); default: satisfaction\\, moved\\, hardest\\, may we contact you."`
	// Reminders sets when owners get their task reminders (default: 2d before each action).
	Reminders Reminders `yaml:"reminders,omitempty" json:"reminders,omitzero" jsonschema:"description=Owners' task reminders before each action they answer for: before (default 2d) or off."`

	// positions maps a field path ("features[1].routes[0]") to where its value stands in the
	// file. The decoder fills it; Pos reads it.
	positions map[string]Pos
	// file is the name the plan was parsed from, used in problems.
	file string
	// loc caches the loaded time zone (set by Parse; nil for plans built in Go).
	loc *time.Location
}

// Service describes the service being retired.
type Service struct {
	Name        string `yaml:"name" json:"name" jsonschema:"description=Short unique name: lower case letters\\, digits and dashes."`
	Title       Text   `yaml:"title,omitempty" json:"title,omitempty" jsonschema:"description=Human title\\, a string or {en: ...\\, zh: ...}."`
	Description Text   `yaml:"description,omitempty" json:"description,omitempty"`
	// TimeZone is an IANA name; absolute instants without an offset are read in it. Default UTC.
	TimeZone string  `yaml:"timezone,omitempty" json:"timezone,omitempty" jsonschema:"description=IANA time zone used to read instants and show them; default UTC."`
	Upstream string  `yaml:"upstream,omitempty" json:"upstream,omitempty" jsonschema:"description=URL of the retiring service\\, used by the gateway."`
	Docs     string  `yaml:"docs,omitempty" json:"docs,omitempty" jsonschema:"description=URL of the service's documentation or sunset policy page."`
	Owners   []Owner `yaml:"owners,omitempty" json:"owners,omitempty"`
	// Gateway says how the service reads request paths and which methods it serves beyond
	// the standard ones, so that the gateway decides on what the service will see.
	Gateway ServiceGateway `yaml:"gateway,omitempty" json:"gateway,omitzero" jsonschema:"description=How the service reads paths and which extra methods it serves; the gateway decides on the same reading."`
}

// ServiceGateway is what the gateway must know of the service's HTTP to decide on what the
// service will see. The zero value fits most services: paths case-insensitive, ambiguous
// spellings refused, only the standard methods.
type ServiceGateway struct {
	// CaseSensitivePaths says the service tells /v1/Reports from /v1/reports. By default the
	// gateway matches routes regardless of case, since many frameworks do.
	CaseSensitivePaths bool `yaml:"case_sensitive_paths,omitempty" json:"case_sensitive_paths,omitempty" jsonschema:"description=The service's paths are case-sensitive; default false: routes match regardless of case."`
	// AllowAmbiguousPaths lets paths through whose meaning depends on who decodes them (an
	// encoded slash, backslash or semicolon, an encoded dot segment, a double-encoded escape),
	// instead of answering 400. They are then decided with the escape kept as data.
	AllowAmbiguousPaths bool `yaml:"allow_ambiguous_paths,omitempty" json:"allow_ambiguous_paths,omitempty" jsonschema:"description=Forward paths whose meaning depends on who decodes them (%2F\\, %5C\\, %3B\\, encoded dot segments\\, %25XX) instead of answering 400; default false."`
	// Methods are the methods the service serves beyond GET, HEAD, POST, PUT, PATCH, DELETE
	// and OPTIONS (e.g. WebDAV's PROPFIND); others are answered 405.
	Methods []string `yaml:"methods,omitempty" json:"methods,omitempty" jsonschema:"description=Methods served beyond GET\\, HEAD\\, POST\\, PUT\\, PATCH\\, DELETE and OPTIONS\\, e.g. PROPFIND; other methods are answered 405. CONNECT and TRACE are never carried."`
}

// Owner is a person or team responsible for part of the sunset.
type Owner struct {
	Name  string `yaml:"name,omitempty" json:"name,omitempty"`
	Team  string `yaml:"team,omitempty" json:"team,omitempty"`
	Email string `yaml:"email,omitempty" json:"email,omitempty"`
	// Role is a RACI role: accountable, responsible, consulted or informed.
	Role string `yaml:"role" json:"role" jsonschema:"enum=accountable,enum=responsible,enum=consulted,enum=informed"`
	// For lists the areas this owner answers for: notices, feedback, gateway, data, runbook,
	// milestones, or a milestone or runbook step name. Empty means everything.
	For    []string `yaml:"for,omitempty" json:"for,omitempty"`
	Locale string   `yaml:"locale,omitempty" json:"locale,omitempty" jsonschema:"enum=en,enum=zh"`
	// Channels are where this owner gets task reminders: email (the default), chat:NAME (a room
	// of channels.chat) and webhook:NAME (an endpoint of channels.webhooks).
	Channels []string `yaml:"channels,omitempty" json:"channels,omitempty" jsonschema:"description=Where this owner gets task reminders: email (default)\\, chat:NAME\\, webhook:NAME."`
}

// ReminderChannels are the endpoints an owner's task reminders go to: Channels, or email.
func (o Owner) ReminderChannels() []string {
	if len(o.Channels) == 0 {
		return []string{"email"}
	}
	return o.Channels
}

// Stakeholder must sign off before the sunset leaves draft.
type Stakeholder struct {
	Name  string `yaml:"name" json:"name" jsonschema:"description=Identifier used by 'sunset signoff --as NAME'."`
	Team  string `yaml:"team,omitempty" json:"team,omitempty"`
	Email string `yaml:"email,omitempty" json:"email,omitempty"`
	// Role says why they sign: support, sales, legal, security, finance, product, or other.
	Role string `yaml:"role,omitempty" json:"role,omitempty"`
}

// Alternative is where users should go instead.
type Alternative struct {
	Name        string `yaml:"name" json:"name"`
	URL         string `yaml:"url" json:"url"`
	Guide       string `yaml:"guide,omitempty" json:"guide,omitempty" jsonschema:"description=URL of the migration guide."`
	Description Text   `yaml:"description,omitempty" json:"description,omitempty"`
}

// Consumers says how callers are identified and where their contacts are.
type Consumers struct {
	Identify Identify `yaml:"identify,omitempty" json:"identify,omitempty"`
	// Contacts is a CSV (id,email,name,locale,tier) or JSON file, relative to the plan file.
	Contacts string   `yaml:"contacts,omitempty" json:"contacts,omitempty"`
	Tiers    []string `yaml:"tiers,omitempty" json:"tiers,omitempty" jsonschema:"description=Known tiers\\, most important first; default [critical\\, standard\\, free]."`
	// Exempt consumers are spared from brownouts until shutdown.
	Exempt []string `yaml:"exempt,omitempty" json:"exempt,omitempty"`
}

// Identify is the rule that names a caller. Exactly one field is set; the zero value means by IP.
type Identify struct {
	Header string `yaml:"header,omitempty" json:"header,omitempty" jsonschema:"description=Request header holding the consumer id\\, e.g. X-API-Key."`
	Bearer bool   `yaml:"bearer,omitempty" json:"bearer,omitempty" jsonschema:"description=Identify by a hash of the Authorization bearer token."`
	Cookie string `yaml:"cookie,omitempty" json:"cookie,omitempty"`
	Query  string `yaml:"query,omitempty" json:"query,omitempty"`
	IP     bool   `yaml:"ip,omitempty" json:"ip,omitempty"`
}

// Feature is a group of routes that can be retired earlier than the whole service.
type Feature struct {
	Name  string `yaml:"name" json:"name"`
	Title Text   `yaml:"title,omitempty" json:"title,omitempty"`
	// Core features live until the service's own milestones; non-core features go first.
	Core bool `yaml:"core,omitempty" json:"core,omitempty"`
	// Routes are Go 1.22 http.ServeMux patterns: "GET /v1/reports/{id}", "/v1/orders/".
	Routes    []string `yaml:"routes" json:"routes"`
	Deprecate *Instant `yaml:"deprecate,omitempty" json:"deprecate,omitempty" jsonschema:"description=When this feature starts sending Deprecation headers; default: the deprecate milestone."`
	ReadOnly  *Instant `yaml:"read_only,omitempty" json:"read_only,omitempty"`
	Gone      *Instant `yaml:"gone,omitempty" json:"gone,omitempty" jsonschema:"description=When this feature answers 410 Gone; default: the shutdown milestone."`
	// Redirect sends callers to this URL (308) from the Gone instant on, instead of 410.
	Redirect string `yaml:"redirect,omitempty" json:"redirect,omitempty"`
}

// Brownout is a schedule of deliberate failures.
type Brownout struct {
	From  Instant  `yaml:"from" json:"from"`
	Until *Instant `yaml:"until,omitempty" json:"until,omitempty" jsonschema:"description=End of the schedule; default: the shutdown milestone."`
	// Every is a weekly schedule: days and a start time in the plan's time zone, "Tue,Thu 14:00",
	// "Mon-Fri 09:30", "daily 03:00".
	Every string `yaml:"every,omitempty" json:"every,omitempty"`
	// For is how long each window lasts.
	For Duration `yaml:"for,omitempty" json:"for,omitempty"`
	// Percent makes a share of requests fail for the whole period instead of windows.
	Percent  float64  `yaml:"percent,omitempty" json:"percent,omitempty"`
	Status   int      `yaml:"status,omitempty" json:"status,omitempty" jsonschema:"description=HTTP status of refused calls: 410 or 503 (default 503)."`
	Features []string `yaml:"features,omitempty" json:"features,omitempty" jsonschema:"description=Limit to these features; default: the whole service."`
	// Audience is all (default) or laggards: consumers told and not yet moved.
	Audience string `yaml:"audience,omitempty" json:"audience,omitempty" jsonschema:"enum=all,enum=laggards"`
}

// Notice is a message sent at an instant to an audience over channels.
type Notice struct {
	At       Instant  `yaml:"at" json:"at"`
	To       string   `yaml:"to" json:"to" jsonschema:"description=all\\, active_consumers\\, laggards\\, owners\\, stakeholders\\, tier=NAME\\, or feature=NAME."`
	Channels []string `yaml:"channels" json:"channels"`
	Template string   `yaml:"template" json:"template"`
	// Unsubscribable false marks a notice that cannot be opted out of (security, legal).
	Mandatory bool `yaml:"mandatory,omitempty" json:"mandatory,omitempty" jsonschema:"description=Sent even to those who unsubscribed (security and legal notices)."`
}

// Template is a custom notice template in each locale.
type Template struct {
	EN *Message `yaml:"en,omitempty" json:"en,omitempty"`
	ZH *Message `yaml:"zh,omitempty" json:"zh,omitempty"`
}

// Message is one localized template: Go text/template syntax.
type Message struct {
	Subject string `yaml:"subject" json:"subject"`
	Body    string `yaml:"body" json:"body"`
}

// Channels holds channel settings. Secrets must be env:NAME or file:PATH references.
type Channels struct {
	Email    *EmailChannel    `yaml:"email,omitempty" json:"email,omitempty"`
	Webhooks []WebhookChannel `yaml:"webhooks,omitempty" json:"webhooks,omitempty"`
	Chat     []ChatChannel    `yaml:"chat,omitempty" json:"chat,omitempty"`
	Mastodon *MastodonChannel `yaml:"mastodon,omitempty" json:"mastodon,omitempty"`
}

// EmailChannel sends mail over SMTP.
type EmailChannel struct {
	SMTP     string `yaml:"smtp" json:"smtp" jsonschema:"description=host:port of the SMTP server."`
	TLS      string `yaml:"tls,omitempty" json:"tls,omitempty" jsonschema:"enum=starttls,enum=implicit,enum=none"`
	From     string `yaml:"from" json:"from"`
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	Password Secret `yaml:"password,omitempty" json:"password,omitempty"`
}

// WebhookChannel posts signed JSON (Standard Webhooks).
type WebhookChannel struct {
	Name   string `yaml:"name" json:"name"`
	URL    string `yaml:"url" json:"url"`
	Secret Secret `yaml:"secret,omitempty" json:"secret,omitempty"`
}

// ChatChannel posts to a chat incoming webhook. The URL usually carries a token, so it is a Secret.
type ChatChannel struct {
	Name   string `yaml:"name" json:"name"`
	Kind   string `yaml:"kind" json:"kind" jsonschema:"enum=slack,enum=dingtalk,enum=feishu,enum=wecom"`
	URL    Secret `yaml:"url" json:"url"`
	Secret Secret `yaml:"secret,omitempty" json:"secret,omitempty"`
}

// MastodonChannel posts statuses to a Mastodon-compatible server.
type MastodonChannel struct {
	Server string `yaml:"server" json:"server"`
	Token  Secret `yaml:"token" json:"token"`
}

// Guardrail pauses the sunset when its condition holds.
type Guardrail struct {
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// When is a condition: SIGNAL[{label=value}] OP NUMBER [over DURATION], for example
	// "feedback.negative_ratio > 0.4 over 24h" or "consumers.active{tier=critical} > 0".
	When string `yaml:"when" json:"when"`
	// From arms the guardrail only from this instant on (e.g. shutdown-3d: "in the last three
	// days, pause if a critical consumer still calls"); without it the guardrail is checked from
	// the announcement.
	From *Instant `yaml:"from,omitempty" json:"from,omitempty"`
	// Before limits the guardrail to the time before this instant: it is not checked from then on.
	Before *Instant `yaml:"before,omitempty" json:"before,omitempty"`
	// MinSample is the smallest sample (messages, consumers or answers) a ratio signal is judged
	// on; below it the guardrail reads "not enough data" and does not trip. Default 20.
	MinSample *int `yaml:"min_sample,omitempty" json:"min_sample,omitempty" jsonschema:"minimum=1"`
	// Then is the reaction: pause (default) or notify.
	Then string `yaml:"then,omitempty" json:"then,omitempty" jsonschema:"enum=pause,enum=notify"`
}

// Data describes the data to keep and give back.
type Data struct {
	Backups   []Backup   `yaml:"backups,omitempty" json:"backups,omitempty"`
	Export    *Export    `yaml:"export,omitempty" json:"export,omitempty"`
	Retention *Retention `yaml:"retention,omitempty" json:"retention,omitempty"`
}

// Backup is a named data source and where its archives go.
type Backup struct {
	Name   string       `yaml:"name" json:"name"`
	Source BackupSource `yaml:"source" json:"source"`
	To     string       `yaml:"to" json:"to" jsonschema:"description=Destination URL: file:///path or s3://bucket/prefix."`
}

// BackupSource has exactly one field set.
type BackupSource struct {
	Dir      string `yaml:"dir,omitempty" json:"dir,omitempty"`
	SQLite   string `yaml:"sqlite,omitempty" json:"sqlite,omitempty"`
	Postgres Secret `yaml:"postgres,omitempty" json:"postgres,omitempty" jsonschema:"description=DSN as an env:NAME or file:PATH reference."`
	HTTP     string `yaml:"http,omitempty" json:"http,omitempty"`
}

// Export is the per-user data takeout.
type Export struct {
	PerUser ExportSource `yaml:"per_user" json:"per_user"`
	// Until is when download links expire; default the delete_data milestone.
	Until *Instant `yaml:"until,omitempty" json:"until,omitempty"`
	// To is where export zips are kept; default the first data.backups entry's destination.
	To string `yaml:"to,omitempty" json:"to,omitempty" jsonschema:"description=Destination URL of export zips (file:///path or s3://bucket/prefix); default the first backup's."`
	// Key signs download links; default env:SUNSET_EXPORT_KEY.
	Key Secret `yaml:"key,omitempty" json:"key,omitempty" jsonschema:"description=Key signing download links\\, as env:NAME or file:PATH; default env:SUNSET_EXPORT_KEY."`
	// PublicURL is the base of download links, where sunset serve is reachable by users.
	PublicURL string `yaml:"public_url,omitempty" json:"public_url,omitempty" jsonschema:"description=Base URL of download links (where sunset serve is reachable)\\, e.g. https://sunset.example.com."`
}

// ExportSource fetches one user's data: an HTTP URL template with {id}, or an SQL query.
type ExportSource struct {
	HTTP string `yaml:"http,omitempty" json:"http,omitempty"`
	// SQL is a query with one parameter (? or $1), the user's id, run against Database.
	SQL string `yaml:"sql,omitempty" json:"sql,omitempty" jsonschema:"description=A query with one parameter (the user's id)\\, run against the database of a data.backups entry."`
	// Database names the data.backups entry (sqlite or postgres) the query runs against; default
	// the first such entry.
	Database string `yaml:"database,omitempty" json:"database,omitempty"`
}

// Retention says when data is deleted and whether a legal hold blocks it.
type Retention struct {
	LegalHold bool `yaml:"legal_hold,omitempty" json:"legal_hold,omitempty"`
	// Keep is the minimum time backups are kept after delete_data.
	Keep Duration `yaml:"keep,omitempty" json:"keep,omitempty"`
	// Delete is what the delete_data milestone removes, once approved.
	Delete *RetentionDelete `yaml:"delete,omitempty" json:"delete,omitempty"`
	// Approvals is how many distinct people must approve the deletion; default 1.
	Approvals int `yaml:"approvals,omitempty" json:"approvals,omitempty"`
}

// RetentionDelete is the deletion the delete_data milestone performs: exactly one of a command
// (argv, no shell) or a directory to remove.
type RetentionDelete struct {
	Exec []string `yaml:"exec,omitempty" json:"exec,omitempty" jsonschema:"description=Command that deletes the data (argv\\, run without a shell)."`
	Dir  string   `yaml:"dir,omitempty" json:"dir,omitempty" jsonschema:"description=Absolute path of a directory removed with everything in it."`
}

// RunbookStep is one step of the final shutdown. Exactly one of the kind fields is set.
type RunbookStep struct {
	Name string `yaml:"name" json:"name"`
	// Kinds.
	Gateway  string    `yaml:"gateway,omitempty" json:"gateway,omitempty" jsonschema:"description=Switch the gateway to a phase: deprecated\\, brownout\\, read_only\\, gone."`
	Drain    *Drain    `yaml:"drain,omitempty" json:"drain,omitempty"`
	Backup   string    `yaml:"backup,omitempty" json:"backup,omitempty" jsonschema:"description=Name of a data.backups entry to archive."`
	Approval *Approval `yaml:"approval,omitempty" json:"approval,omitempty"`
	Exec     []string  `yaml:"exec,omitempty" json:"exec,omitempty"`
	HTTP     *HTTPStep `yaml:"http,omitempty" json:"http,omitempty"`
	Wait     Duration  `yaml:"wait,omitempty" json:"wait,omitempty"`
	Notify   string    `yaml:"notify,omitempty" json:"notify,omitempty" jsonschema:"description=Send the notice template of this name to the plan's audience (e.g. done)."`
	Migrate  *Migrate  `yaml:"migrate,omitempty" json:"migrate,omitempty" jsonschema:"description=POST each user's export to the alternative."`
	// Exports is "check": the step passes only when every user's export was downloaded or is
	// kept in a backup archive (the export job done, none failed), and fails naming what is not.
	Exports string `yaml:"exports,omitempty" json:"exports,omitempty" jsonschema:"enum=check,description=check: pass only when every user's export was downloaded or is kept in a backup (run it before gone and delete_data)."`
	// Modifiers.
	// Shell runs an exec step's single string through sh -c; without it argv runs directly.
	Shell bool              `yaml:"shell,omitempty" json:"shell,omitempty" jsonschema:"description=Run exec through sh -c (exec must then be one string); default false: argv runs without a shell."`
	Env   map[string]string `yaml:"env,omitempty" json:"env,omitempty" jsonschema:"description=Extra environment of an exec step; values may be env:NAME or file:PATH references."`
	Dir   string            `yaml:"dir,omitempty" json:"dir,omitempty" jsonschema:"description=Working directory of an exec step."`
	// Preconditions must all hold before the step starts: "step:NAME" (that step is done) or
	// "backup:NAME" (that backup was verified in this run).
	Preconditions []string `yaml:"preconditions,omitempty" json:"preconditions,omitempty" jsonschema:"description=Conditions checked before the step starts: step:NAME (done) or backup:NAME (verified in this run)."`
	// OnFailure is stop (default), continue, or rollback (undo the done steps in reverse).
	OnFailure string `yaml:"on_failure,omitempty" json:"on_failure,omitempty" jsonschema:"enum=stop,enum=continue,enum=rollback"`
	// NoReturn marks the point of no return: from this step on, every declared backup must have
	// been verified in the run. Default: the first gateway: gone step, else the first exec step.
	NoReturn   bool     `yaml:"no_return,omitempty" json:"no_return,omitempty" jsonschema:"description=Marks the point of no return; default the first 'gateway: gone' step\\, else the first exec step."`
	Verify     bool     `yaml:"verify,omitempty" json:"verify,omitempty"`
	Timeout    Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	Retries    int      `yaml:"retries,omitempty" json:"retries,omitempty"`
	Idempotent *bool    `yaml:"idempotent,omitempty" json:"idempotent,omitempty" jsonschema:"description=Whether the step may be re-run after a crash mid-way; default true for gateway\\, drain\\, backup\\, wait and approval\\, false for exec and http."`
	Rollback   []string `yaml:"rollback,omitempty" json:"rollback,omitempty" jsonschema:"description=Command run to undo this step when a later step fails."`
}

// Migrate sends each user's export zip to the alternative: an HTTP POST to URL with {id}
// replaced by the user's id, retried with backoff.
type Migrate struct {
	URL string `yaml:"url" json:"url" jsonschema:"description=URL template with {id}\\, e.g. https://v2.example.com/import/{id}."`
	// Attempts is how many times one user's POST is tried; default 5.
	Attempts int `yaml:"attempts,omitempty" json:"attempts,omitempty"`
}

// Drain waits until traffic falls to MaxRPS.
type Drain struct {
	MaxRPS float64  `yaml:"max_rps" json:"max_rps"`
	Within Duration `yaml:"within" json:"within"`
}

// Approval waits for Count distinct people with Role.
type Approval struct {
	Role  string `yaml:"role" json:"role"`
	Count int    `yaml:"count,omitempty" json:"count,omitempty"`
}

// HTTPStep calls a URL and expects a 2xx answer.
type HTTPStep struct {
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
	URL    string `yaml:"url" json:"url"`
	// Expect is the status the call must answer; any 2xx when zero.
	Expect int `yaml:"expect,omitempty" json:"expect,omitempty"`
}

// Risk is one entry of the risk register.
type Risk struct {
	Risk       string `yaml:"risk" json:"risk"`
	Likelihood string `yaml:"likelihood" json:"likelihood" jsonschema:"enum=low,enum=medium,enum=high"`
	Impact     string `yaml:"impact" json:"impact" jsonschema:"enum=low,enum=medium,enum=high"`
	Mitigation string `yaml:"mitigation,omitempty" json:"mitigation,omitempty"`
	Owner      string `yaml:"owner,omitempty" json:"owner,omitempty"`
}

// Text is a string shown to people, in English and Simplified Chinese. In YAML it is either a
// plain string (used for both) or a mapping {en: ..., zh: ...}.
type Text struct {
	EN string `json:"en,omitempty"`
	ZH string `json:"zh,omitempty"`
}

// In returns the text in locale ("zh", "zh-CN", "en"...), falling back to English.
func (t Text) In(locale string) string {
	if len(locale) >= 2 && locale[:2] == "zh" && t.ZH != "" {
		return t.ZH
	}
	if t.EN != "" {
		return t.EN
	}
	return t.ZH
}

// Secret is a reference to a secret: "env:NAME" or "file:PATH". A secret written in clear is a
// validation error; the plan never holds the secret itself.
type Secret string

// Milestones is the ordered list of named instants.
type Milestones []Milestone

// Milestone is one named instant.
type Milestone struct {
	Name string
	At   Instant
}

// Get returns the milestone named name.
func (ms Milestones) Get(name string) (Milestone, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m, true
		}
	}
	return Milestone{}, false
}

// Well-known milestone names, in the order they must appear in time.
const (
	Announce   = "announce"
	Deprecate  = "deprecate"
	ReadOnly   = "read_only"
	Shutdown   = "shutdown"
	DeleteData = "delete_data"
)

// StandardMilestones lists the well-known milestones in their required order.
var StandardMilestones = []string{Announce, Deprecate, ReadOnly, Shutdown, DeleteData}

// File returns the file name the plan was parsed from.
func (p *Plan) File() string { return p.file }

// Pos returns where the value at path stands in the file; the zero Pos if unknown.
func (p *Plan) Pos(path string) Pos {
	if p == nil || p.positions == nil {
		return Pos{}
	}
	return p.positions[path]
}

// Survey is the short survey offered to users after the shutdown.
type Survey struct {
	Title     Text             `yaml:"title,omitempty" json:"title,omitempty"`
	Questions []SurveyQuestion `yaml:"questions" json:"questions"`
}

// SurveyQuestion is one question of the survey.
type SurveyQuestion struct {
	// ID names the answer; satisfaction, moved, hardest and contact_ok have a meaning in the
	// report (a 1–5 rating, yes/no, free text, yes/no).
	ID string `yaml:"id" json:"id"`
	// Kind is rating (1–5), yesno or text.
	Kind string `yaml:"kind" json:"kind" jsonschema:"enum=rating,enum=yesno,enum=text"`
	Text Text   `yaml:"text" json:"text"`
}

// DefaultSurvey is the survey used when a plan declares none.
var DefaultSurvey = Survey{
	Title: Text{EN: "How did the shutdown go for you?", ZH: "这次下线对您来说顺利吗？"},
	Questions: []SurveyQuestion{
		{ID: "satisfaction", Kind: "rating", Text: Text{EN: "How satisfied are you with how the shutdown was handled? (1–5)", ZH: "您对这次下线的处理满意吗？（1–5 分）"}},
		{ID: "moved", Kind: "yesno", Text: Text{EN: "Did you move to the alternative?", ZH: "您迁移到替代方案了吗？"}},
		{ID: "hardest", Kind: "text", Text: Text{EN: "What was hardest?", ZH: "最困难的是什么？"}},
		{ID: "contact_ok", Kind: "yesno", Text: Text{EN: "May we contact you about your answers?", ZH: "我们可以就您的回答联系您吗？"}},
	},
}

// SurveyOrDefault returns the plan's survey, or DefaultSurvey.
func (p *Plan) SurveyOrDefault() Survey {
	if p.Survey != nil && len(p.Survey.Questions) > 0 {
		return *p.Survey
	}
	return DefaultSurvey
}
