package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// parseFixture parses a file under testdata.
func parseFixture(t testing.TB, path string) (*Plan, Problems) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(path, data)
}

// dumpProblems formats problems one per line for failure messages.
func dumpProblems(ps Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("\n\t" + p.String())
	}
	return b.String()
}

// invalidCases holds one case per fixture under testdata/invalid: the problem the fixture exists
// for, where it must be reported, and whether it is a warning.
var invalidCases = []struct {
	file      string // testdata/invalid/FILE.yaml
	path      string
	want      string // a substring of the message
	line, col int
	warning   bool
}{
	{file: "alias_bomb", path: "features[487]", want: "aliases expand to more than 50000 values", line: 497, col: 5},
	{file: "alias_recursive", path: "service", want: "alias *s refers to a value that contains it", line: 3, col: 7},
	{file: "backup_duplicate_name", path: "data.backups[1].name", want: "backup \"main-db\" is defined twice", line: 10, col: 14},
	{file: "backup_no_source", path: "data.backups[0].source", want: "missing source", line: 9, col: 7},
	{file: "backup_two_sources", path: "data.backups[0].source", want: "set exactly one of dir, sqlite, postgres or http, not 2", line: 10, col: 15},
	{file: "bad_alternative_url", path: "alternatives[0].url", want: "\"example.com/v2\" is not an http or https URL", line: 8, col: 26},
	{file: "bad_duration", path: "brownouts[0].for", want: "cannot read \"15 minutes\" as a duration: unknown unit \" minutes\" (use", line: 8, col: 51},
	{file: "bad_email", path: "service.owners[0].email", want: "\"li.wei-at-example.com\" does not look like an email address", line: 4, col: 29},
	{file: "bad_instant", path: "milestones.shutdown", want: "cannot read \"2027-02-30\" as a date: use 2027-03-15, 2027-03-15T02:00", line: 5, col: 13},
	{file: "bad_milestone_name", path: "milestones.last-call", want: "milestone name \"last-call\" must be letters, digits and underscores,", line: 7, col: 14},
	{file: "bad_redirect", path: "features[0].redirect", want: "\"ftp://example.com/v2\" is not an http or https URL", line: 10, col: 15},
	{file: "bad_route", path: "features[0].routes[0]", want: "route \"GET /v1/reports/{id\" is not a valid ServeMux pattern: parsing", line: 9, col: 14},
	{file: "bad_service_name", path: "service.name", want: "service name \"Demo_API\" must be lower-case letters, digits and", line: 2, col: 9},
	{file: "bad_url", path: "service.upstream", want: "\"127.0.0.1:9000\" is not an http or https URL", line: 3, col: 13},
	{file: "brownout_after_shutdown", path: "brownouts[0].from", want: "brownouts start at 2027-03-02 02:00 UTC, not before shutdown, its", line: 8, col: 12},
	{file: "brownout_audience", path: "brownouts[0].audience", want: "unknown brownout audience \"everyone\"", line: 8, col: 48},
	{file: "brownout_bad_every", path: "brownouts[0].every", want: "cannot read \"Tue,Thurs 14:00\" as a weekly schedule: unknown day", line: 8, col: 33},
	{file: "brownout_both", path: "brownouts[0]", want: "set either every (windows) or percent (a share of requests), not both", line: 8, col: 5},
	{file: "brownout_missing_for", path: "brownouts[0].for", want: "missing for", line: 8, col: 5},
	{file: "brownout_neither", path: "brownouts[0]", want: "set every with for (windows, e.g. every: \"Tue,Thu 14:00\", for: 15m)", line: 8, col: 5},
	{file: "brownout_percent", path: "brownouts[0].percent", want: "percent must be more than 0 and at most 100, got 150", line: 8, col: 34},
	{file: "brownout_status", path: "brownouts[0].status", want: "status must be 410 (Gone) or 503 (Service Unavailable), got 500", line: 8, col: 46},
	{file: "brownout_unknown_feature", path: "brownouts[0].features[0]", want: "unknown feature \"report\" (did you mean \"reports\"?)", line: 10, col: 49},
	{file: "chat_kind", path: "channels.chat[0].kind", want: "unknown chat kind \"teams\"", line: 9, col: 25},
	{file: "conflicting_routes", path: "features[1].routes[0]", want: "route \"GET /v1/{kind}/latest\" conflicts with features[0].routes[0]", line: 11, col: 14},
	{file: "duplicate_feature", path: "features[1].name", want: "feature \"reports\" is defined twice", line: 10, col: 11},
	{file: "duplicate_key", path: "milestones.shutdown", want: "duplicate key \"shutdown\", already set at line 6 column 3", line: 7, col: 3},
	{file: "duplicate_route", path: "features[1].routes[0]", want: "route \"GET /v1/reports\" is already listed at features[0].routes[0]", line: 11, col: 14},
	{file: "duplicate_stakeholder", path: "stakeholders[1].name", want: "stakeholder \"legal\" is listed twice", line: 9, col: 12},
	{file: "duration_without_unit", path: "brownouts[0].for", want: "duration 15 has no unit", line: 8, col: 51},
	{file: "export_sql_without_database", path: "data.export.per_user.sql", want: "an sql export runs against a database", line: 9, col: 21},
	{file: "retention_delete_both", path: "data.retention.delete", want: "set either exec or dir, not both", line: 10, col: 13},
	{file: "retention_delete_root", path: "data.retention.delete.dir", want: "must be a clean absolute path below /", line: 10, col: 19},
	{file: "runbook_exports_without_export", path: "runbook[0].exports", want: "an exports step checks users' exports: declare data.export", line: 8, col: 39},
	{file: "runbook_exports_unknown", path: "runbook[0].exports", want: "unknown exports step \"chekc\" (did you mean \"check\"?); use one of: check", line: 12, col: 39},
	{file: "export_pending_without_export", path: "notices[0].to", want: "export_pending is the users whose export waits to be downloaded: declare data.export", line: 8, col: 28},
	{file: "runbook_migrate_without_id", path: "runbook[0].migrate.url", want: "the migration URL must contain {id}", line: 12, col: 39},
	{file: "export_without_id", path: "data.export.per_user.http", want: "the export URL must contain {id}, replaced by the user's id", line: 9, col: 22},
	{file: "feature_gone_before_deprecate", path: "features[0].gone", want: "sunset (gone) 2027-01-20 00:00 UTC of feature \"reports\" is before its", line: 11, col: 11},
	{file: "feature_read_only_after_gone", path: "features[0].read_only", want: "read_only 2027-02-20 00:00 UTC of feature \"reports\" is after it is", line: 10, col: 16},
	{file: "guardrail_bad_condition", path: "guardrails[0].when", want: "a comparison (> >= < <= == !=) must follow feedback.negative_ratio", line: 8, col: 12},
	{file: "guardrail_then", path: "guardrails[0].then", want: "unknown reaction \"stop\"", line: 8, col: 42},
	{file: "guardrail_unknown_signal", path: "guardrails[0].when", want: "unknown signal \"feedback.negative\"", line: 8, col: 12},
	{file: "guardrail_unknown_tier", path: "guardrails[0].when", want: "unknown tier \"gold\"", line: 8, col: 12},
	{file: "guardrail_unknown_label", path: "guardrails[0].when", want: "unknown label \"region\"; consumers.active takes: tier, feature, consumer", line: 8, col: 12},
	{file: "guardrail_label_unsupported", path: "guardrails[0].when", want: "label feature does not narrow feedback.count, which takes: tier, category, consumer", line: 8, col: 12},
	{file: "guardrail_unknown_category", path: "guardrails[0].when", want: "unknown category \"pricing\"", line: 8, col: 12},
	{file: "guardrail_tier_without_contacts", path: "guardrails[0].when", want: "{tier=critical} needs the consumers' tiers, which come from their contacts: set consumers.contacts", line: 8, col: 12},
	{file: "guardrail_min_sample_count", path: "guardrails[0].min_sample", want: "min_sample applies to ratio signals", line: 8, col: 57},
	{file: "guardrail_min_sample_zero", path: "guardrails[0].min_sample", want: "min_sample must be at least 1, got 0", line: 8, col: 66},
	{file: "guardrail_from_after_before", path: "guardrails[0].from", want: "is not before before 2027-02-22 02:00 UTC, so the guardrail is never checked", line: 8, col: 60},
	{file: "notice_channel_chat_unconfigured", path: "notices[0].channels[1]", want: "channel chat has no configuration, so the notice would reach nobody over it; configure channels.chat", line: 8, col: 46},
	{file: "notice_channel_webhook_unconfigured", path: "notices[0].channels[0]", want: "channel webhook has no configuration, so the notice would reach nobody over it; configure channels.webhooks", line: 8, col: 40},
	{file: "notice_channel_email_unconfigured", path: "notices[0].channels[0]", want: "channel email has no configuration, so the notice would reach nobody over it; configure channels.email", line: 8, col: 40},
	{file: "notice_before_announce", path: "notices[0].at", want: "before the announce milestone (2027-01-04 10:00 UTC), and it is published on a public channel", line: 8, col: 10},
	{file: "secret_password_in_dsn", path: "data.backups[0].source.postgres", want: "a password in the URL is written in clear; move the whole value to env:NAME", line: 9, col: 42},
	{file: "secret_token_in_chat_url", path: "channels.chat[0].url", want: "a Slack webhook is written in clear", line: 9, col: 37},
	{file: "secret_token_in_webhook_url", path: "channels.webhooks[0].url", want: "the token= parameter in the URL is written in clear; a plan holds no secrets: take it out of the URL and sign", line: 9, col: 29},
	{file: "gateway_method_standard", path: "service.gateway.methods[1]", want: "method GET is standard and always carried", line: 4, col: 25},
	{file: "gateway_method_connect", path: "service.gateway.methods[0]", want: "method CONNECT is never carried by the gateway", line: 4, col: 15},
	{file: "gateway_method_lowercase", path: "service.gateway.methods[0]", want: "method \"propfind\" must be upper-case letters, digits, - or _", line: 4, col: 15},
	{file: "gateway_method_duplicate", path: "service.gateway.methods[2]", want: "method PROPFIND is listed twice", line: 4, col: 32},
	{file: "gateway_ambiguous_not_bool", path: "service.gateway.allow_ambiguous_paths", want: "expected true or false, got a string", line: 4, col: 28},
	{file: "gateway_unknown_option", path: "service.gateway.case_sensitive", want: "unknown key \"case_sensitive\"; expected one of: case_sensitive_paths, allow_ambiguous_paths, methods", line: 4, col: 5},
	{file: "routes_differ_by_case", path: "features[1].routes[0]", want: "conflicts with features[0].routes[0] (feature reports) once letter case is ignored", line: 11, col: 14},
	{file: "identify_two_ways", path: "consumers.identify", want: "set only one way to identify callers: header, bearer, cookie, query", line: 4, col: 13},
	{file: "invalid_utf8", path: "", want: "the file is not valid UTF-8 here", line: 3, col: 13},
	{file: "lowercase_method", path: "features[0].routes[0]", want: "method \"get\" in route \"get /v1/reports\" is not upper case, so it", line: 9, col: 14, warning: true},
	{file: "milestone_cycle", path: "milestones.deprecate", want: "milestones refer to each other in a cycle (announce → shutdown →", line: 5, col: 14},
	{file: "milestones_out_of_order", path: "milestones.read_only", want: "read_only (2027-03-01 00:00 UTC) is before deprecate (2027-03-15", line: 5, col: 14},
	{file: "min_notice_not_met", path: "milestones.shutdown", want: "less than the minimum notice period of 90d", line: 7, col: 13},
	{file: "min_notice_override", path: "min_notice", want: "min_notice 7d overrides the default minimum notice period of 30d", line: 3, col: 13, warning: true},
	{file: "missing_routes", path: "features[0].routes", want: "missing routes", line: 8, col: 5},
	{file: "missing_service_name", path: "service.name", want: "missing name", line: 2, col: 3},
	{file: "missing_shutdown", path: "milestones", want: "missing the shutdown milestone", line: 4, col: 3},
	{file: "multiple_documents", path: "", want: "the file holds more than one YAML document", line: 7, col: 1},
	{file: "not_a_mapping", path: "", want: "expected a mapping of plan sections (service, milestones,", line: 1, col: 1},
	{file: "notice_missing_at", path: "notices[0].at", want: "missing at", line: 8, col: 5},
	{file: "owner_role", path: "service.owners[0].role", want: "unknown role \"owner\"", line: 4, col: 55},
	{file: "owner_unknown_channel", path: "service.owners[0].channels[1]", want: "unknown channel \"chat:opps\" (did you mean \"chat:ops\"?)", line: 4, col: 86},
	{file: "owner_unknown_area", path: "service.owners[0].for[0]", want: "unknown area \"notice\" (did you mean \"notices\"?)", line: 4, col: 47},
	{file: "owner_without_accountable", path: "service.owners", want: "no owner is accountable", line: 4, col: 5, warning: true},
	{file: "risk_level", path: "risks[0].likelihood", want: "unknown likelihood \"likely\"", line: 8, col: 51},
	{file: "runbook_approval_count", path: "runbook[0].approval.count", want: "count must be at least 1, got 0", line: 8, col: 56},
	{file: "runbook_drain_within", path: "runbook[0].drain.within", want: "missing within", line: 8, col: 26},
	{file: "runbook_duplicate_step", path: "runbook[1].name", want: "step \"stop\" is defined twice", line: 9, col: 12},
	{file: "runbook_on_failure", path: "runbook[0].on_failure", want: "unknown on_failure \"retry\"", line: 8, col: 61},
	{file: "runbook_precondition", path: "runbook[0].preconditions[0]", want: "precondition \"step:drain\": use step:NAME", line: 8, col: 65},
	{file: "runbook_gateway_phase", path: "runbook[0].gateway", want: "unknown gateway phase \"readonly\" (did you mean \"read_only\"?)", line: 8, col: 26},
	{file: "runbook_missing_name", path: "runbook[0].name", want: "missing name", line: 8, col: 5},
	{file: "runbook_no_kind", path: "runbook[0]", want: "step \"stop\" does nothing", line: 8, col: 5},
	{file: "runbook_two_kinds", path: "runbook[0]", want: "step \"stop\" has gateway and exec", line: 8, col: 5},
	{file: "runbook_unknown_backup", path: "runbook[0].backup", want: "unknown backup \"main\"", line: 11, col: 34},
	{file: "secret_bad_env", path: "channels.mastodon.token", want: "env: must name an environment variable made of letters, digits and", line: 10, col: 12},
	{file: "secret_in_clear", path: "channels.email.password", want: "secret written in clear", line: 11, col: 15},
	{file: "secret_missing", path: "channels.chat[0].url", want: "missing url", line: 9, col: 7},
	{file: "short_notice", path: "milestones.shutdown", want: "only 13d16h between announce", line: 5, col: 13},
	{file: "smtp_address", path: "channels.email.smtp", want: "\"smtp.example.com\" is not host:port", line: 9, col: 11},
	{file: "sunset_before_deprecation", path: "milestones.shutdown", want: "sunset (shutdown) 2027-03-01 00:00 UTC is before the deprecation", line: 6, col: 13},
	{file: "tab_indent", path: "", want: "invalid YAML: found character that cannot start any token (indent with spaces, not", line: 2, col: 1},
	{file: "template_empty", path: "templates.custom", want: "template \"custom\" has no message", line: 8, col: 11},
	{file: "template_parse", path: "templates.custom.en.subject", want: "template does not parse: custom:1: unclosed action", line: 10, col: 16},
	{file: "template_unknown_variable", path: "templates.custom.en.body", want: "line 1: unknown variable .Recipient.Nmae (did you mean", line: 11, col: 13},
	{file: "text_unknown_language", path: "service.title.fr", want: "unknown language \"fr\"", line: 3, col: 25},
	{file: "text_unquoted_comma", path: "service.title.the API", want: "unknown language \"the API\"", line: 3, col: 21},
	{file: "unknown_anchor", path: "", want: "invalid YAML: alias *routes names no anchor", line: 9, col: 13},
	{file: "unknown_audience", path: "notices[0].to", want: "unknown audience \"everyone\"", line: 8, col: 24},
	{file: "unknown_channel", path: "notices[0].channels[1]", want: "unknown channel \"sms\"", line: 8, col: 47},
	{file: "unknown_feature_audience", path: "notices[0].to", want: "unknown feature \"report\" (did you mean \"reports\"?)", line: 10, col: 24},
	{file: "unknown_key", path: "service.nmae", want: "unknown key \"nmae\" (did you mean \"name\"?)", line: 2, col: 3},
	{file: "unknown_milestone", path: "notices[0].at", want: "\"shutdwn-7d\" names unknown milestone \"shutdwn\" (did you mean", line: 8, col: 10},
	{file: "unknown_milestone_in_milestones", path: "milestones.deprecate", want: "\"annonce+1w\" names unknown milestone \"annonce\" (did you mean", line: 5, col: 14},
	{file: "unknown_section", path: "featrues", want: "unknown key \"featrues\" (did you mean \"features\"?)", line: 7, col: 1},
	{file: "unknown_template", path: "notices[0].template", want: "unknown template \"anounce\" (did you mean \"announce\"?)", line: 8, col: 58},
	{file: "unknown_tier", path: "notices[0].to", want: "unknown tier \"gold\"", line: 8, col: 24},
	{file: "unknown_timezone", path: "service.timezone", want: "unknown time zone \"Asia/Shangai\"", line: 3, col: 13},
	{file: "survey_question", path: "survey.questions[1].id", want: "question \"satisfaction\" appears twice", line: 9, col: 12},
	{file: "survey_question", path: "survey.questions[1].kind", want: "unknown kind \"stars\"", line: 9, col: 32},
	{file: "wrong_type_bool", path: "features[0].core", want: "expected true or false, got a string", line: 9, col: 11},
	{file: "wrong_type_float", path: "brownouts[0].percent", want: "expected a number, got a string", line: 8, col: 34},
	{file: "wrong_type_int", path: "brownouts[0].status", want: "expected a whole number, got a string", line: 8, col: 46},
	{file: "todo_marker", path: "service.title.en", want: "replace the TODO marker left by sunset plan new", line: 4, col: 9},
	{file: "wrong_type_list", path: "features[0].routes", want: "expected a list, got a string", line: 9, col: 13},
	{file: "wrong_type_mapping", path: "service", want: "expected a mapping, got a string", line: 1, col: 10},
	{file: "yaml_syntax", path: "", want: "invalid YAML: mapping values are not allowed in this context (quote values that", line: 3, col: 3},
}

// TestParseInvalidFixtures checks that every rule reports its problem at the right place: one
// fixture per rule under testdata/invalid.
func TestParseInvalidFixtures(t *testing.T) {
	for _, tc := range invalidCases {
		t.Run(tc.file, func(t *testing.T) {
			p, ps := parseFixture(t, filepath.Join("testdata", "invalid", tc.file+".yaml"))
			if p == nil {
				t.Fatal("Parse returned a nil plan")
			}
			i := slices.IndexFunc(ps, func(p Problem) bool { return strings.Contains(p.Message, tc.want) })
			if i < 0 {
				t.Fatalf("no problem says %q; got:%s", tc.want, dumpProblems(ps))
			}
			got := ps[i]
			if got.Pos != (Pos{tc.line, tc.col}) || got.Path != tc.path {
				t.Errorf("problem %q at %d:%d path %q, want %d:%d path %q", got.Message, got.Pos.Line, got.Pos.Col, got.Path, tc.line, tc.col, tc.path)
			}
			if (got.Severity == Warning) != tc.warning {
				t.Errorf("problem %q has severity %v, want warning=%v", got.Message, got.Severity, tc.warning)
			}
			if tc.warning {
				if ps.Err() != nil && tc.file != "min_notice_not_met" {
					t.Errorf("a warning-only fixture is invalid:%s", dumpProblems(ps))
				}
			} else if ps.Err() == nil {
				t.Errorf("plan with an error is reported valid")
			}
			for _, p := range ps {
				if p.Message == "" || p.File == "" {
					t.Errorf("problem without message or file: %#v", p)
				}
				if c := p.Message[0]; c >= 'A' && c <= 'Z' {
					t.Errorf("message %q starts with a capital letter", p.Message)
				}
			}
		})
	}
}

// TestEveryInvalidFixtureHasACase keeps the table and the fixtures in step.
func TestEveryInvalidFixtureHasACase(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Errorf("only %d invalid fixtures", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if !slices.ContainsFunc(invalidCases, func(c struct {
			file      string
			path      string
			want      string
			line, col int
			warning   bool
		}) bool {
			return c.file == name
		}) {
			t.Errorf("testdata/invalid/%s.yaml has no case in invalidCases", name)
		}
	}
}

// TestProblemFormat checks the whole FILE:LINE:COL: field.path: message line of a few problems.
func TestProblemFormat(t *testing.T) {
	cases := []struct{ file, want string }{
		{"unknown_key", `testdata/invalid/unknown_key.yaml:2:3: service.nmae: unknown key "nmae" (did you mean "name"?)`},
		{"wrong_type_list", `testdata/invalid/wrong_type_list.yaml:9:13: features[0].routes: expected a list, got a string; write [a, b] or one "- item" per line`},
		{"unknown_milestone", `testdata/invalid/unknown_milestone.yaml:8:10: notices[0].at: "shutdwn-7d" names unknown milestone "shutdwn" (did you mean "shutdown"?); define it under milestones or use one that exists (defined: announce, deprecate, shutdown)`},
		{"sunset_before_deprecation", `testdata/invalid/sunset_before_deprecation.yaml:6:13: milestones.shutdown: sunset (shutdown) 2027-03-01 00:00 UTC is before the deprecation instant 2027-04-01 00:00 UTC (deprecate); RFC 9745 forbids it: move shutdown after deprecate`},
		{"min_notice_override", `testdata/invalid/min_notice_override.yaml:3:13: min_notice: warning: min_notice 7d overrides the default minimum notice period of 30d`},
		{"yaml_syntax", `testdata/invalid/yaml_syntax.yaml:3:3: invalid YAML: mapping values are not allowed in this context (quote values that contain ": ", or fix the indentation)`},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			_, ps := parseFixture(t, "testdata/invalid/"+tc.file+".yaml")
			var lines []string
			for _, p := range ps {
				lines = append(lines, p.String())
			}
			if !slices.Contains(lines, tc.want) {
				t.Errorf("want line\n\t%s\ngot:%s", tc.want, dumpProblems(ps))
			}
		})
	}
}

// TestParseReportsEveryProblem checks that one run reports every problem, decoding and
// validation alike, sorted by position.
func TestParseReportsEveryProblem(t *testing.T) {
	src := `service:
  name: Orders API
  timezone: Mars/Olympus
  owners:
    - {name: Li Wei, role: boss}
milestones:
  announce: 2027-03-01
  shutdown: 2027-02-01
  shutdown: 2027-02-02
features:
  - name: reports
    routes: ["GET /v1/{id", "GET /v1/x"]
    core: maybe
  - name: reports
    routes: ["GET /v1/x"]
notices:
  - {at: shutdwn-7d, to: everyone, channels: [sms], template: anounce}
brownouts:
  - {from: shutdown-7d, percent: 200, status: 500, colour: red}
channels:
  email: {smtp: "smtp.example.com:25", from: a@example.com, password: s3cr3t}
`
	_, ps := Parse("sunset.yaml", []byte(src))
	wants := []string{
		`service.name: service name "Orders API" must be`,
		`service.timezone: unknown time zone "Mars/Olympus"`,
		`service.owners[0].role: unknown role "boss"`,
		`milestones.shutdown: duplicate key "shutdown"`,
		`milestones.shutdown: read_only`, // placeholder, replaced below
		`features[0].routes[0]: route "GET /v1/{id" is not a valid ServeMux pattern`,
		`features[0].core: expected true or false, got a string`,
		`features[1].name: feature "reports" is defined twice`,
		`features[1].routes[0]: route "GET /v1/x" is already listed at features[0].routes[1]`,
		`notices[0].at: "shutdwn-7d" names unknown milestone`,
		`notices[0].to: unknown audience "everyone"`,
		`notices[0].channels[0]: unknown channel "sms"`,
		`notices[0].template: unknown template "anounce"`,
		`brownouts[0].percent: percent must be more than 0 and at most 100`,
		`brownouts[0].status: status must be 410`,
		`brownouts[0].colour: unknown key "colour"`,
		`channels.email.password: secret written in clear`,
	}
	wants[4] = `milestones.shutdown: shutdown (2027-02-01 00:00 UTC) is before announce`
	var lines []string
	for _, p := range ps {
		lines = append(lines, p.String())
	}
	all := strings.Join(lines, "\n")
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Errorf("missing problem %q", w)
		}
	}
	if len(ps) != len(wants) {
		t.Errorf("got %d problems, want %d:%s", len(ps), len(wants), dumpProblems(ps))
	}
	if !slices.IsSortedFunc(ps, func(a, b Problem) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Col - b.Pos.Col
	}) {
		t.Errorf("problems are not sorted by position:%s", dumpProblems(ps))
	}
	if strings.Contains(all, "s3cr3t") {
		t.Errorf("a problem repeats the secret:%s", dumpProblems(ps))
	}
}

// TestSecretNeverEchoed checks that no problem about a secret repeats its value.
func TestSecretNeverEchoed(t *testing.T) {
	for _, secret := range []string{"hunter2-very-secret", "env:NOT-A-NAME", "env:", "file:", "https://hooks.slack.com/services/T000/B000/XXXX"} {
		src := "service: {name: demo}\nmilestones: {announce: 2027-01-01, shutdown: 2027-03-01}\n" +
			"channels:\n  chat:\n    - {name: ops, kind: slack, url: \"" + secret + "\", secret: \"" + secret + "\"}\n"
		_, ps := Parse("p.yaml", []byte(src))
		if ps.Err() == nil {
			t.Errorf("secret %q accepted", secret)
		}
		for _, p := range ps {
			if strings.Contains(p.Message, strings.TrimPrefix(strings.TrimPrefix(secret, "env:"), "file:")) && len(secret) > 5 {
				t.Errorf("problem repeats secret %q: %s", secret, p)
			}
			if !strings.Contains(p.Message, "env:NAME") || !strings.Contains(p.Message, "file:PATH") {
				t.Errorf("problem does not say to use env:NAME or file:PATH: %s", p)
			}
		}
	}
}

// TestParseValidFixtures checks that the plans under testdata/valid have no problem at all.
func TestParseValidFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, ps := parseFixture(t, f)
			if len(ps) > 0 {
				t.Errorf("valid plan has problems:%s", dumpProblems(ps))
			}
		})
	}
}

// TestParseExamples checks that the example plans shipped in examples/ are valid.
func TestParseExamples(t *testing.T) {
	for _, f := range []string{"../examples/api-v2.yaml", "../examples/webapp-closing.yaml"} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, ps := ParseFile(f)
			if err := ps.Err(); err != nil {
				t.Fatalf("example plan is invalid:\n%v", err)
			}
			if p.Service.Name == "" || len(p.Milestones) == 0 {
				t.Errorf("example decoded to an empty plan: %+v", p.Service)
			}
		})
	}
}

// TestDecodeValues checks what the decoder stores and where it says each value stands.
func TestDecodeValues(t *testing.T) {
	p, ps := parseFixture(t, "testdata/valid/relative_milestones.yaml")
	if len(ps) > 0 {
		t.Fatalf("unexpected problems:%s", dumpProblems(ps))
	}
	if got := milestoneNames(p.Milestones); !slices.Equal(got, []string{"shutdown", "announce", "deprecate", "read_only", "delete_data", "partners_told"}) {
		t.Errorf("milestones not in file order: %v", got)
	}
	if p.Service.Title.EN != "Billing v1, the old one" || p.Service.Title.ZH != "旧版计费" {
		t.Errorf("title = %+v", p.Service.Title)
	}
	if f := p.Features[0]; f.Deprecate == nil || f.Deprecate.Ref != "announce" || f.Gone == nil || f.Gone.Ref != "read_only" || f.ReadOnly != nil {
		t.Errorf("feature instants = %+v", f)
	}
	if !p.Features[1].Core || p.Features[0].Core {
		t.Errorf("core flags wrong")
	}
	for path, want := range map[string]Pos{
		"":                      {2, 1},
		"service":               {3, 3},
		"service.name":          {3, 9},
		"service.title.zh-CN":   {4, 49},
		"milestones.shutdown":   {7, 13},
		"milestones.announce":   {8, 13},
		"features[1]":           {19, 5},
		"features[1].routes[1]": {21, 22},
		"notices[1].to":         {24, 28},
	} {
		if got := p.Pos(path); got != want {
			t.Errorf("Pos(%q) = %v, want %v", path, got, want)
		}
	}
	times, err := p.MilestoneTimes()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := times["announce"], time.Date(2027, 4, 1, 20, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("announce = %v, want %v", got, want)
	}

	p, _ = parseFixture(t, "testdata/valid/anchors.yaml")
	if len(p.Notices) != 3 || p.Notices[1].Template != "reminder" || p.Notices[1].At.Raw != "shutdown-14d" ||
		p.Notices[1].To != "all" || !slices.Equal(p.Notices[1].Channels, []string{"banner", "feed", "status_page"}) ||
		!slices.Equal(p.Notices[2].Channels, p.Notices[1].Channels) {
		t.Errorf("anchors and merge keys decoded to %+v", p.Notices)
	}
	if p.File() != "testdata/valid/anchors.yaml" {
		t.Errorf("File() = %q", p.File())
	}
}

// TestStrictScalars checks that numbers, booleans and strings are not converted into each other.
func TestStrictScalars(t *testing.T) {
	base := "service: {name: demo}\nmilestones: {announce: 2027-01-01, shutdown: 2027-03-01}\n"
	cases := []struct{ yaml, want string }{
		{"brownouts: [{from: shutdown-7d, percent: 10, status: 410.5}]", "expected a whole number, got a number"},
		{"brownouts: [{from: shutdown-7d, percent: 10, status: 99999999999999999999}]", "expected a whole number"},
		{"brownouts: [{from: shutdown-7d, percent: .inf}]", "expected a number, got a number"},
		{"brownouts: [{from: shutdown-7d, percent: true}]", "expected a number, got a boolean"},
		{"features: [{name: a, routes: [/a], core: 1}]", "expected true or false, got a whole number"},
		{"features: [{name: a, routes: [/a], core: \"true\"}]", "expected true or false, got a string"},
		{"features: [{name: [a], routes: [/a]}]", "expected a string, got a list"},
		{"features: {name: a}", "expected a list, got a mapping"},
		{"notices: [{at: {x: 1}, to: all, channels: [email], template: done}]", "expected an instant such as 2027-03-15T02:00 or shutdown-7d, got a mapping"},
		{"notices: [{at: , to: all, channels: [email], template: done}]", "expected an instant such as 2027-03-15T02:00 or shutdown-7d, got nothing"},
		{"templates: [a]", "expected a mapping of names to values, got a list"},
		{"min_notice: [30d]", "expected a duration such as 15m, 2h or 7d, got a list"},
		{"min_notice: -3d", "cannot read"},
	}
	for _, tc := range cases {
		t.Run(tc.yaml, func(t *testing.T) {
			_, ps := Parse("p.yaml", []byte(base+tc.yaml+"\n"))
			if !slices.ContainsFunc(ps, func(p Problem) bool { return strings.Contains(p.Message, tc.want) }) {
				t.Errorf("want %q; got:%s", tc.want, dumpProblems(ps))
			}
		})
	}
}

// TestParseTooLarge checks that Parse and ParseFile refuse plans over MaxPlanSize, and that
// ParseFile does so without reading the file.
func TestParseTooLarge(t *testing.T) {
	data := bytes.Repeat([]byte("# padding\n"), MaxPlanSize/10+1)
	_, ps := Parse("big.yaml", data)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "over the 1 MB limit") {
		t.Errorf("Parse on %d bytes: %s", len(data), dumpProblems(ps))
	}

	// A sparse file: 1 GB on paper, no blocks on disk. Reading it whole would take seconds.
	path := filepath.Join(t.TempDir(), "huge.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	start := time.Now()
	_, ps = ParseFile(path)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "plan is 1024.0 MB, over the 1 MB limit") || ps[0].File != path {
		t.Errorf("ParseFile on 1 GB: %s", dumpProblems(ps))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ParseFile took %v to refuse a 1 GB file", d)
	}
}

// TestParseFileErrors checks the problems of files that cannot be read.
func TestParseFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.yaml"), "cannot open the plan: no such file or directory"},
		{dir, "is a directory"},
	} {
		p, ps := ParseFile(tc.path)
		if p == nil || len(ps) != 1 || !strings.Contains(ps[0].Message, tc.want) || ps[0].File != tc.path {
			t.Errorf("ParseFile(%q) = %s, want %q", tc.path, dumpProblems(ps), tc.want)
		}
	}
}

// TestParseEmpty checks that an empty file is reported as missing what every plan needs.
func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing yet\n", "---\n", "~\n"} {
		p, ps := Parse("empty.yaml", []byte(src))
		if p == nil || ps.Err() == nil || !strings.Contains(ps.Err().Error(), "service.name: missing name") {
			t.Errorf("Parse(%q) = %s", src, dumpProblems(ps))
		}
	}
}

// TestTooManyProblems checks that a plan with a flood of problems is cut short with a count.
func TestTooManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("service: {name: demo}\nmilestones: {announce: 2027-01-01, shutdown: 2027-03-01}\nnotices:\n")
	for range 500 {
		b.WriteString("  - {at: nope, to: all, channels: [feed], template: done}\n")
	}
	_, ps := Parse("p.yaml", []byte(b.String()))
	if len(ps) != maxProblems+1 || !strings.Contains(ps[len(ps)-1].Message, "300 more problems not shown") {
		t.Errorf("got %d problems, last %v", len(ps), ps[len(ps)-1])
	}
}

// TestValidateBuiltPlan checks Validate on a plan built in Go, without positions.
func TestValidateBuiltPlan(t *testing.T) {
	p := &Plan{Service: Service{Name: "demo"}}
	ann, _ := ParseInstant("2027-01-01")
	sd, _ := ParseInstant("announce+1w")
	p.Milestones = Milestones{{Name: Announce, At: ann}, {Name: Shutdown, At: sd}}
	ps := p.Validate()
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "only 7d between announce") || ps[0].Pos != (Pos{}) {
		t.Errorf("Validate = %s", dumpProblems(ps))
	}
}

func TestExportPendingIsAnAudienceForTheReminderBeforeDeleteData(t *testing.T) {
	src := `service:
  name: demo-api
milestones:
  announce: 2027-01-04T10:00
  deprecate: 2027-01-04T10:00
  shutdown: 2027-03-01T02:00
  delete_data: 2027-09-01
data:
  export:
    per_user: {http: "http://127.0.0.1:9000/export/{id}"}
    to: file:///var/exports
notices:
  - {at: delete_data-14d, to: export_pending, channels: [email], template: reminder}
channels:
  email: {smtp: "127.0.0.1:2525", from: noreply@example.com}
`
	p, ps := Parse("plan.yaml", []byte(src))
	if err := ps.Err(); err != nil {
		t.Fatalf("a reminder to export_pending is invalid: %v", err)
	}
	if p.Notices[0].To != "export_pending" {
		t.Errorf("notice to %q", p.Notices[0].To)
	}
}

// TestCredentials checks the clear-secret check: passwords and tokens are found in URLs and
// DSNs, and a URL that only names a user, a host and options is no secret.
func TestCredentials(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://sunset@127.0.0.1:5432/sunset?sslmode=disable", ""},
		{"postgres://127.0.0.1/test", ""},
		{"http://127.0.0.1:9000/internal/export?user={id}", ""},
		{"https://chat.example.com/hooks/ops", ""},
		{"host=127.0.0.1 user=sunset dbname=sunset sslmode=disable", ""},
		{"postgres://sunset:hunter2@db:5432/sunset", "a password in the URL"},
		{"postgres://sunset:@db:5432/sunset", "a password in the URL"},
		{"postgres://db/sunset?password=hunter2", "the password= parameter in the URL"},
		{"host=db user=sunset password=hunter2", "the password= parameter"},
		{"https://oapi.dingtalk.com/robot/send?access_token=abc", "the access_token= parameter in the URL"},
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "the key= parameter in the URL"},
		{"https://hooks.slack.com/services/T0/B0/abc", "a Slack webhook"},
		{"https://open.feishu.cn/open-apis/bot/v2/hook/0b1c", "a Feishu or Lark bot webhook"},
		{"xoxb-1234567890-abcdefghij", "a Slack token"},
		{"https://x.example.com/?t=ghp_abcdefghijklmnopqrstuvwxyz0123", "a GitHub token"},
	} {
		if got := credentials(tc.in); got != tc.want {
			t.Errorf("credentials(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestClearLocatorsAreNoSecrets checks that a password-less PostgreSQL DSN and a token-less chat
// URL written in clear validate: only passwords and tokens must be references.
func TestClearLocatorsAreNoSecrets(t *testing.T) {
	src := `service: {name: demo-api}
milestones: {announce: 2027-01-04T10:00, deprecate: 2027-01-04T10:00, shutdown: 2027-03-01T02:00}
channels:
  chat:
    - {name: ops, kind: slack, url: "http://127.0.0.1:8065/hooks/ops"}
data:
  backups:
    - {name: main-db, source: {postgres: "postgres://sunset@127.0.0.1:5432/sunset?sslmode=disable"}, to: "file:///var/backups/demo"}
`
	if _, ps := Parse("plan.yaml", []byte(src)); ps.Err() != nil {
		t.Errorf("clear locators without credentials are refused:%s", dumpProblems(ps))
	}
}

// TestParseStoredSkipsTheAdmissionRules: a plan stored by an earlier version (an email notice
// without channels.email) keeps parsing for the engine, while Parse refuses it for apply.
func TestParseStoredSkipsTheAdmissionRules(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "invalid", "notice_channel_email_unconfigured.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ps := Parse("p.yaml", data); ps.Err() == nil {
		t.Fatal("Parse accepts an email notice without channels.email")
	}
	if _, ps := ParseStored("p.yaml", data); ps.Err() != nil {
		t.Errorf("ParseStored refuses a stored plan:%s", dumpProblems(ps))
	}
}
