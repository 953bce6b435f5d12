package plan

// Validation of the shutdown runbook's steps.

import (
	"fmt"
	"strings"
)

// runbookKinds names the fields of RunbookStep of which exactly one must be set.
var runbookKinds = []string{"gateway", "drain", "backup", "approval", "exec", "http", "wait", "notify", "migrate", "exports"}

// runbook checks the runbook's steps: unique names, exactly one kind each, the kind's fields,
// and the options every step has.
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
		v.stepKind(path, s)
		v.stepFields(path, s, backups, backupSet)
		v.stepOptions(path, s, backupSet, seen)
	}
}

// stepKind checks that step s (at path) is of exactly one kind.
func (v *validator) stepKind(path string, s RunbookStep) {
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
}

// stepFields checks the fields of step s's kind: a gateway phase, a drain's limits, a known
// backup, an approval's role and count, a command, a URL to call or to migrate to, an exports
// check.
func (v *validator) stepFields(path string, s RunbookStep, backups []string, backupSet map[string]bool) {
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
}

// stepOptions checks the options of step s: verify, retries, on_failure, shell, its
// preconditions (an earlier step, in seen, or a backup) and its durations.
func (v *validator) stepOptions(path string, s RunbookStep, backupSet, seen map[string]bool) {
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
