package plan

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// NoticeData is what a notice template sees, in the recipient's locale and time zone. It is the
// whole variable model: `sunset plan validate` checks every {{.X.Y}} of a template against these
// types, so a template that validates never fails at send time for an unknown variable.
//
// Every text is already in the recipient's language; every instant is already written in the
// recipient's time zone, in the style of their locale.
type NoticeData struct {
	// Service is the retiring service.
	Service ServiceData
	// Milestones maps each milestone of the plan (announce, read_only, shutdown…) to its instant,
	// written for the recipient: {{.Milestones.shutdown}}. Well-known milestones the plan lacks
	// are empty strings.
	Milestones map[string]string
	// Alternative is the first alternative (empty when the plan names none); Alternatives all.
	Alternative  AlternativeData
	Alternatives []AlternativeData
	// Recipient is who the message is for.
	Recipient RecipientData
	// Usage is the recipient's own use of the service, when usage data is known.
	Usage UsageData
	// Features lists the features retired before the service, with the day each goes.
	Features []FeatureData
	// Links are the recipient's links: status page, feedback, unsubscribe (empty on mandatory
	// notices), migration guide.
	Links LinksData
	// Notice describes the notice being sent.
	Notice NoticeInfo
	// Changes lists the milestones a re-plan moved (schedule_changed notices); empty otherwise.
	Changes []ChangeData
	// Guardrails lists the guardrails that paused the sunset (guardrail_tripped); empty
	// otherwise.
	Guardrails []GuardrailData
	// Task is the action of the timeline an owner is reminded of, or the action that kept
	// failing (action_stalled); zero otherwise.
	Task TaskData
	// Failure is why that action stopped the sunset (action_stalled); zero otherwise.
	Failure FailureData
	// Alert is the delivery trouble an owner is alerted to (delivery_alert); zero otherwise.
	Alert AlertData
}

// AlertData is a delivery trouble as the owners' alert sees it: Kind is "late" (a notice still
// undelivered past the threshold) or "down" (a channel whose circuit breaker stays open); the
// notice and channel concerned, how many deliveries wait, since when (written for the recipient),
// and the last error in words.
type AlertData struct {
	Kind, Notice, Channel, Since, LastError string
	Count                                   int
}

// FailureData is an action's failure as a template sees it: its last error in words and how many
// times in a row it failed.
type FailureData struct {
	Error    string
	Attempts int
}

// GuardrailData is a guardrail that tripped, as a template sees it: its condition and the value
// measured.
type GuardrailData struct {
	Name, Condition, Value string
}

// TaskData is an action of the timeline an owner answers for: its key ("runbook/start"), kind,
// name and detail as the timeline shows them, instant written for the recipient, how long
// before it the reminder was planned ("2d"), and the owner's areas that made it theirs (empty
// when the owner answers for everything).
type TaskData struct {
	Key, Kind, Name, Detail, At, Lead string
	Areas                             []string
}

// ServiceData is the service as a template sees it.
type ServiceData struct {
	Name, Title, Description, Docs, TimeZone string
}

// AlternativeData is one alternative as a template sees it.
type AlternativeData struct {
	Name, URL, Guide, Description string
}

// RecipientData is the recipient as a template sees it. ExportURL is their data-export link,
// empty when the plan offers no export.
type RecipientData struct {
	ID, Name, Email, Locale, Tier, TimeZone, ExportURL string
}

// UsageData is the recipient's recent use of the service. Known is false when no usage data is
// available, and then the other fields are zero.
type UsageData struct {
	Known         bool
	CallsLastWeek int64
	Features      []string
	LastSeen      string
}

// FeatureData is a feature retired before the service. Redirect is the URL its callers are
// sent on to (308) from Gone on, empty when it answers 410 Gone.
type FeatureData struct {
	Name, Title, Gone, Redirect string
}

// LinksData are the links a message may carry. Unsubscribe is empty on mandatory notices.
type LinksData struct {
	Status, Feedback, Unsubscribe, Guide, Docs string
	// Survey is the survey after the shutdown (for the done notice).
	Survey string
}

// NoticeInfo names the notice being sent.
type NoticeInfo struct {
	Key, Template, Locale string
	Mandatory             bool
}

// ChangeData is one milestone a re-plan moved, both instants written for the recipient.
type ChangeData struct {
	Milestone, From, To string
}

// CheckTemplate parses text as a notice template and checks every variable it names against
// NoticeData; milestones are the names {{.Milestones.NAME}} may use. It returns one message per
// problem, each naming its line within text; none when the template is sound.
func CheckTemplate(name, text string, milestones []string) []string {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return []string{"template does not parse: " + strings.TrimPrefix(err.Error(), "template: ")}
	}
	c := &tmplChecker{tree: t.Tree, milestones: milestones}
	if t.Tree != nil {
		c.walk(t.Tree.Root, noticeDataType)
	}
	return c.probs
}

var noticeDataType = reflect.TypeFor[NoticeData]()

// tmplChecker walks a template's parse tree with the type of dot at each node.
type tmplChecker struct {
	tree       *parse.Tree
	milestones []string
	probs      []string
}

func (c *tmplChecker) walk(n parse.Node, dot reflect.Type) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, m := range n.Nodes {
			c.walk(m, dot)
		}
	case *parse.ActionNode:
		c.pipe(n.Pipe, dot)
	case *parse.IfNode:
		c.pipe(n.Pipe, dot)
		c.walk(n.List, dot)
		c.walk(n.ElseList, dot)
	case *parse.WithNode:
		t := c.pipe(n.Pipe, dot)
		c.walk(n.List, t)
		c.walk(n.ElseList, dot)
	case *parse.RangeNode:
		t := c.pipe(n.Pipe, dot)
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			elem = t.Elem()
		}
		c.walk(n.List, elem)
		c.walk(n.ElseList, dot)
	case *parse.TemplateNode:
		c.pipe(n.Pipe, dot)
	}
}

// pipe checks a pipeline and returns the type it yields when that is a plain field chain.
func (c *tmplChecker) pipe(p *parse.PipeNode, dot reflect.Type) reflect.Type {
	if p == nil {
		return nil
	}
	var last reflect.Type
	for _, cmd := range p.Cmds {
		last = nil
		for _, arg := range cmd.Args {
			t := c.arg(arg, dot)
			if len(cmd.Args) == 1 {
				last = t
			}
		}
	}
	if len(p.Cmds) != 1 {
		return nil
	}
	return last
}

func (c *tmplChecker) arg(n parse.Node, dot reflect.Type) reflect.Type {
	switch n := n.(type) {
	case *parse.FieldNode:
		return c.fields(n, dot, n.Ident, ".")
	case *parse.VariableNode:
		if n.Ident[0] == "$" && len(n.Ident) > 1 {
			return c.fields(n, noticeDataType, n.Ident[1:], "$.")
		}
		if n.Ident[0] == "$" {
			return noticeDataType
		}
	case *parse.DotNode:
		return dot
	case *parse.PipeNode:
		return c.pipe(n, dot)
	case *parse.ChainNode:
		c.arg(n.Node, dot)
	}
	return nil
}

// fields resolves the chain idents from t, reporting the first name that does not exist. An
// unknown type (nil) accepts anything: the checker only reports what it can prove wrong.
func (c *tmplChecker) fields(n parse.Node, t reflect.Type, idents []string, prefix string) reflect.Type {
	path := prefix
	for i, id := range idents {
		if t == nil {
			return nil
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := t.FieldByName(id)
			if !ok || !f.IsExported() {
				c.unknown(n, path+id, fieldNames(t), path)
				return nil
			}
			t = f.Type
		case reflect.Map:
			if t == reflect.TypeFor[map[string]string]() && path == prefix+"Milestones." {
				if !slices.Contains(c.milestones, id) && !slices.Contains(StandardMilestones, id) {
					names := append(slices.Clone(c.milestones), StandardMilestones...)
					slices.Sort(names)
					names = slices.Compact(names)
					c.unknown(n, path+id, names, path)
					return nil
				}
			}
			t = t.Elem()
		default:
			c.probs = append(c.probs, fmt.Sprintf("%s: %s has no field %s", c.where(n), strings.TrimSuffix(path, "."), id))
			return nil
		}
		if i < len(idents)-1 {
			path += id + "."
		}
	}
	return t
}

func (c *tmplChecker) unknown(n parse.Node, name string, known []string, prefix string) {
	last := name[strings.LastIndexByte(name, '.')+1:]
	hint := suggestName(last, known)
	full := make([]string, len(known))
	for i, k := range known {
		full[i] = prefix + k
	}
	c.probs = append(c.probs, fmt.Sprintf("%s: unknown variable %s%s; use one of %s", c.where(n), name, hint, listNames(full)))
}

// where is the line of n within the template text.
func (c *tmplChecker) where(n parse.Node) string {
	loc, _ := c.tree.ErrorContext(n)
	// loc is "name:line:col"; the column points into the action, not at its start, so keep the line.
	parts := strings.Split(loc, ":")
	if len(parts) >= 3 {
		return "line " + parts[len(parts)-2]
	}
	return loc
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		if f.IsExported() {
			names = append(names, f.Name)
		}
	}
	return names
}

// templateVars reports the unknown variables of one template text at path.
func (v *validator) templateVars(path, name, text string) {
	ms := make([]string, 0, len(v.p.Milestones))
	for _, m := range v.p.Milestones {
		ms = append(ms, m.Name)
	}
	for _, p := range CheckTemplate(name, text, ms) {
		v.errorf(path, "%s", p)
	}
}
