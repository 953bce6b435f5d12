package plan

// Validation of what the plan is about and who it touches: the service, its owners and
// stakeholders, consumers and tiers, and the risks.

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
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
