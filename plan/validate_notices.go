package plan

// Validation of the notices, their audiences and templates, and of the channels they go over.

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"text/template"
	"time"
)

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
