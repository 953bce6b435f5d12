package rehearse

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sunsetops/sunset/plan/yamlnode"
)

// SecretVar is the environment variable every secret of an isolated plan refers to; the
// rehearsal's own Getenv answers it (and SUNSET_BACKUP_KEY) with a throwaway value.
const SecretVar = "SUNSET_REHEARSAL_SECRET"

// ChatVar is the environment variable the chat rooms' URLs of an isolated plan refer to.
const ChatVar = "SUNSET_REHEARSAL_CHAT_URL"

// Local says where the rehearsal's stand-ins listen and keep their files.
type Local struct {
	// Upstream is the sample upstream's base URL (http://127.0.0.1:PORT).
	Upstream string
	// SMTP is the SMTP sink's host:port.
	SMTP string
	// Hooks is the base URL of the webhook sink: webhooks post to Hooks/hooks/NAME, chat rooms
	// and Mastodon to Hooks/chat/NAME.
	Hooks string
	// PublicURL is where the rehearsal's web server is reached (export links).
	PublicURL string
	// Scratch is a directory the rehearsal owns; backups, exports and scratch data live in it.
	Scratch string
}

// Substitution is one real endpoint or command of the plan that the rehearsal replaced.
type Substitution struct {
	// What names the plan's field, e.g. "channels.email" or "runbook stop".
	What string
	// Real is what the plan says; Local what the rehearsal uses instead.
	Real, Local string
}

// ScratchSource is a backup source the rehearsal must create: a SQLite file or a directory
// with sample data, in place of the plan's real data source.
type ScratchSource struct {
	Name string
	// SQLite is the path of the SQLite file to create, or empty.
	SQLite string
	// Dir is the directory to fill, or empty.
	Dir string
}

// Isolated is a plan rewritten for a rehearsal.
type Isolated struct {
	// YAML is the rewritten plan.
	YAML []byte
	// Substitutions lists every replaced endpoint, in plan order.
	Substitutions []Substitution
	// Sources are the scratch data sources to create before the runbook runs.
	Sources []ScratchSource
}

// Isolate rewrites a plan so that a rehearsal touches nothing real: the upstream becomes the
// sample upstream, every channel a local sink, every data source a scratch copy under
// l.Scratch, every backup and export destination a scratch directory, and every runbook
// command or HTTP call a request to the sample upstream that only records it. Secrets refer
// to SecretVar. Milestones, notices, brownouts, guardrails and the runbook's order are kept.
// A document that is not a YAML mapping is an error; whether the plan is valid is the
// engine's to say.
func Isolate(data []byte, l Local) (*Isolated, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read the plan: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the plan is not a YAML mapping")
	}
	iso := &Isolated{}
	root := doc.Content[0]
	sub := func(what, real, local string) {
		iso.Substitutions = append(iso.Substitutions, Substitution{What: what, Real: real, Local: local})
	}
	if svc := yamlnode.Get(root, "service"); svc != nil {
		if up := yamlnode.Get(svc, "upstream"); up != nil {
			sub("service.upstream", up.Value, l.Upstream+" (sample upstream)")
		}
		set(svc, "upstream", l.Upstream)
	}
	isolateChannels(yamlnode.Get(root, "channels"), l, sub)
	iso.Sources = isolateData(yamlnode.Get(root, "data"), l, sub)
	isolateRunbook(yamlnode.Get(root, "runbook"), l, sub)
	out, err := yamlnode.Encode(&doc)
	if err != nil {
		return nil, fmt.Errorf("write the rehearsal plan: %w", err)
	}
	iso.YAML = out
	return iso, nil
}

// isolateChannels points every channel at a local sink.
func isolateChannels(ch *yaml.Node, l Local, sub func(what, real, local string)) {
	if ch == nil || ch.Kind != yaml.MappingNode {
		return
	}
	if e := yamlnode.Get(ch, "email"); e != nil && e.Kind == yaml.MappingNode {
		sub("channels.email", value(e, "smtp"), l.SMTP+" (SMTP sink)")
		set(e, "smtp", l.SMTP)
		set(e, "tls", "none")
		yamlnode.Delete(e, "username")
		yamlnode.Delete(e, "password")
	}
	for _, w := range items(yamlnode.Get(ch, "webhooks")) {
		name := value(w, "name")
		u := l.Hooks + "/hooks/" + url.PathEscape(name)
		sub("channels.webhooks."+name, value(w, "url"), u+" (webhook sink)")
		set(w, "url", u)
		set(w, "secret", "env:"+SecretVar)
	}
	for _, c := range items(yamlnode.Get(ch, "chat")) {
		name := value(c, "name")
		sub("channels.chat."+name, value(c, "url"), l.Hooks+"/chat/"+url.PathEscape(name)+" (webhook sink)")
		set(c, "url", "env:"+ChatVar)
		if yamlnode.Get(c, "secret") != nil {
			set(c, "secret", "env:"+SecretVar)
		}
	}
	if m := yamlnode.Get(ch, "mastodon"); m != nil && m.Kind == yaml.MappingNode {
		sub("channels.mastodon", value(m, "server"), l.Hooks+"/chat/mastodon (webhook sink)")
		set(m, "server", l.Hooks+"/chat/mastodon")
		set(m, "token", "env:"+SecretVar)
	}
}

// isolateData replaces data sources and destinations by scratch ones and returns the sources
// to create.
func isolateData(d *yaml.Node, l Local, sub func(what, real, local string)) []ScratchSource {
	if d == nil || d.Kind != yaml.MappingNode {
		return nil
	}
	var sources []ScratchSource
	for _, b := range items(yamlnode.Get(d, "backups")) {
		name := value(b, "name")
		src := yamlnode.Get(b, "source")
		real := ""
		if src != nil && len(src.Content) >= 2 {
			real = src.Content[0].Value + ": " + src.Content[1].Value
		}
		s := ScratchSource{Name: name}
		local := &yaml.Node{Kind: yaml.MappingNode}
		if value(src, "dir") != "" {
			s.Dir = filepath.Join(l.Scratch, "data", safeName(name))
			set(local, "dir", s.Dir)
		} else {
			// sqlite, postgres and http sources all become a scratch SQLite file.
			s.SQLite = filepath.Join(l.Scratch, "data", safeName(name)+".db")
			set(local, "sqlite", s.SQLite)
		}
		yamlnode.Set(b, "source", local)
		sub("data.backups."+name+".source", real, firstValue(local)+" (scratch copy)")
		to := "file://" + filepath.ToSlash(filepath.Join(l.Scratch, "backups", safeName(name)))
		sub("data.backups."+name+".to", value(b, "to"), to)
		set(b, "to", to)
		sources = append(sources, s)
	}
	if e := yamlnode.Get(d, "export"); e != nil && e.Kind == yaml.MappingNode {
		per := &yaml.Node{Kind: yaml.MappingNode}
		set(per, "http", l.Upstream+"/internal/export?user={id}")
		real := ""
		if p := yamlnode.Get(e, "per_user"); p != nil && len(p.Content) >= 2 {
			real = p.Content[0].Value + ": " + p.Content[1].Value
		}
		sub("data.export.per_user", real, l.Upstream+"/internal/export?user={id} (sample upstream)")
		yamlnode.Set(e, "per_user", per)
		set(e, "to", "file://"+filepath.ToSlash(filepath.Join(l.Scratch, "exports")))
		set(e, "key", "env:"+SecretVar)
		set(e, "public_url", l.PublicURL)
	}
	if r := yamlnode.Get(d, "retention"); r != nil && r.Kind == yaml.MappingNode {
		if rd := yamlnode.Get(r, "delete"); rd != nil && rd.Kind == yaml.MappingNode {
			dir := filepath.Join(l.Scratch, "data", "retention-delete")
			local := &yaml.Node{Kind: yaml.MappingNode}
			set(local, "dir", dir)
			sub("data.retention.delete", describe(rd), dir+" (scratch directory)")
			yamlnode.Set(r, "delete", local)
			sources = append(sources, ScratchSource{Name: "retention-delete", Dir: dir})
		}
	}
	return sources
}

// isolateRunbook turns the runbook's commands and HTTP calls into requests to the sample
// upstream, which records them.
func isolateRunbook(rb *yaml.Node, l Local, sub func(what, real, local string)) {
	for _, s := range items(rb) {
		name := value(s, "name")
		stand := l.Upstream + "/_rehearsal/step/" + url.PathEscape(name)
		if ex := yamlnode.Get(s, "exec"); ex != nil {
			http := &yaml.Node{Kind: yaml.MappingNode}
			set(http, "url", stand)
			set(http, "method", "POST")
			yamlnode.Delete(s, "exec")
			for _, k := range []string{"shell", "env", "dir", "rollback"} {
				yamlnode.Delete(s, k)
			}
			yamlnode.Set(s, "http", http)
			// An exec step is not idempotent by default; the stand-in is, and says so.
			sub("runbook "+name, "exec "+describe(ex), "POST "+stand+" (recorded, not run)")
		} else if h := yamlnode.Get(s, "http"); h != nil && h.Kind == yaml.MappingNode {
			sub("runbook "+name, value(h, "method")+" "+value(h, "url"), "POST "+stand+" (recorded, not sent)")
			set(h, "url", stand)
			set(h, "method", "POST")
			yamlnode.Delete(h, "expect")
			yamlnode.Delete(s, "rollback")
		} else if m := yamlnode.Get(s, "migrate"); m != nil && m.Kind == yaml.MappingNode {
			u := l.Upstream + "/_rehearsal/import/{id}"
			sub("runbook "+name, "migrate to "+value(m, "url"), u+" (sample upstream)")
			set(m, "url", u)
		} else if yamlnode.Get(s, "rollback") != nil {
			sub("runbook "+name+" rollback", describe(yamlnode.Get(s, "rollback")), "(dropped)")
			yamlnode.Delete(s, "rollback")
		}
	}
}

// describe renders a small node on one line.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = describe(c)
		}
		return strings.Join(parts, " ")
	case yaml.MappingNode:
		var parts []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, n.Content[i].Value+": "+describe(n.Content[i+1]))
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

// safeName keeps a name usable as a file name.
func safeName(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
	if out == "" || out == "." || out == ".." {
		return "data"
	}
	return out
}

// value returns the scalar value of key in m, or "".
func value(m *yaml.Node, key string) string {
	if v := yamlnode.Get(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// firstValue returns the first value of a mapping.
func firstValue(m *yaml.Node) string {
	if len(m.Content) >= 2 {
		return m.Content[1].Value
	}
	return ""
}

// set sets key in mapping m to the string v.
func set(m *yaml.Node, key, v string) {
	yamlnode.Set(m, key, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v})
}

// items returns the elements of a sequence node, or nil.
func items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}
