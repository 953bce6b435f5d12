package report

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/plan/yamlnode"
)

// NextPlan turns a past sunset's plan (its YAML text) and report into the start of a new plan:
// every date moved so that the announcement falls on the new day (announce, YYYY-MM-DD in the
// plan's time zone, or a week after now when empty) at the same time of day, the offsets between
// milestones kept; the service's name, title and description replaced by TODO markers, which
// plan validation refuses until filled in; and a leading comment block with what the past
// sunset taught. Errors are *sunset.Error values: EINVALID for a bad announce date, ECONFLICT
// for a plan that can no longer be copied.
func NextPlan(name string, past []byte, rep *Report, now time.Time, announce string) ([]byte, error) {
	file := name + ".yaml"
	p, problems := plan.Parse(file, past)
	if err := problems.Err(); err != nil {
		return nil, sunset.Errorf(sunset.ECONFLICT, "The plan of %s no longer validates, so it cannot be copied:\n%v", name, err)
	}
	tl, err := p.Compile()
	if err != nil || len(tl.Actions) == 0 {
		return nil, sunset.Errorf(sunset.ECONFLICT, "The plan of %s has no timeline to start from: %v", name, err)
	}
	loc := p.Location()
	oldAnnounce := milestoneAt(tl, plan.Announce)
	if oldAnnounce.IsZero() {
		oldAnnounce = tl.Actions[0].At
	}
	day, err := AnnounceDay(announce, now, loc)
	if err != nil {
		return nil, err
	}
	days := calendarDaysBetween(oldAnnounce.In(loc), day)
	text := past
	if days != 0 {
		text, _, err = plan.Shift(file, past, fmt.Sprintf("%dd", days), time.Time{})
		if err != nil {
			return nil, sunset.Errorf(sunset.ECONFLICT, "Cannot move the dates of %s: %v", name, err)
		}
	}
	text, err = blankService(text)
	if err != nil {
		return nil, sunset.Errorf(sunset.ECONFLICT, "%v", err)
	}
	var out bytes.Buffer
	writeLessonsHeader(&out, name, p, tl, rep, now, oldAnnounce.In(loc).AddDate(0, 0, days), days)
	out.Write(text)
	return out.Bytes(), nil
}

// milestoneAt returns when the milestone named name is due in tl, or the zero time.
func milestoneAt(tl *plan.Timeline, name string) time.Time {
	for _, a := range tl.Actions {
		if a.Kind == plan.KindMilestone && a.Name == name {
			return a.At
		}
	}
	return time.Time{}
}

// calendarDaysBetween counts the calendar days from a's date to b's date.
func calendarDaysBetween(a, b time.Time) int {
	da := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// blankService replaces the service's name, title and description with TODO markers, which
// `sunset plan validate` refuses until someone writes the new service's own.
func blankService(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the plan is not a YAML mapping")
	}
	svc := yamlnode.Get(doc.Content[0], "service")
	if svc == nil || svc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the plan has no service mapping")
	}
	name := yamlnode.Get(svc, "name")
	if name != nil {
		was := name.Value
		*name = yaml.Node{Kind: yaml.ScalarNode, Value: plan.TodoMarker,
			LineComment: fmt.Sprintf("TODO: the new service's name (lower-case, dashes), e.g. %s-next", was)}
	}
	text := func(en, zh string) *yaml.Node {
		return &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: "en"}, {Kind: yaml.ScalarNode, Value: plan.TodoMarker + ": " + en, Style: yaml.DoubleQuotedStyle},
			{Kind: yaml.ScalarNode, Value: "zh"}, {Kind: yaml.ScalarNode, Value: plan.TodoMarker + "：" + zh, Style: yaml.DoubleQuotedStyle},
		}}
	}
	yamlnode.Set(svc, "title", text("the service's title", "服务名称"))
	if yamlnode.Get(svc, "description") != nil {
		yamlnode.Set(svc, "description", text("what the service does and what replaces it", "服务的用途及替代方案"))
	}
	return yamlnode.Encode(&doc)
}

// writeLessonsHeader writes the comment block that opens a plan started from a past sunset.
func writeLessonsHeader(b *bytes.Buffer, name string, p *plan.Plan, tl *plan.Timeline, rep *Report, now, announce time.Time, days int) {
	line := func(format string, args ...any) {
		if format == "" {
			b.WriteString("#\n")
			return
		}
		fmt.Fprintf(b, "# "+format+"\n", args...)
	}
	line("New plan started from %s (sunset plan new --from %s, %s).", name, name, now.Format("2006-01-02"))
	line("Fill in every TODO, then check it: sunset plan validate FILE")
	line("中文：以 %s 为蓝本新建的计划；填写所有 TODO 后运行 sunset plan validate 检查。下方为该次下线的关键数据与经验教训。", name)
	line("Dates moved by %+d days: announce is now %s; the offsets between milestones are kept.", days, announce.Format("2006-01-02 15:04 MST"))
	line("")
	line("What %s taught (from its report, %s):", name, rep.State)
	a, s := milestoneAt(tl, plan.Announce), milestoneAt(tl, plan.Shutdown)
	if !a.IsZero() && !s.IsZero() {
		line("  notice period          %d days (announce %s → shutdown %s)", int(s.Sub(a).Hours()/24), a.In(p.Location()).Format("2006-01-02"), s.In(p.Location()).Format("2006-01-02"))
	}
	c := rep.Consumers
	if c.DaysToZeroTraffic >= 0 && c.LastCall != "" {
		line("  days to zero traffic   %d (last call before shutdown %s)", c.DaysToZeroTraffic, c.LastCall)
	} else {
		line("  days to zero traffic   unknown (traffic never reached zero before the shutdown, or was not counted)")
	}
	line("  share migrated         %.0f%% (%d of %d consumers active at the announcement; %d still active at shutdown)",
		c.MigratedShare*100, c.Migrated, c.AtAnnouncement, c.AtShutdown)
	g := rep.Guardrails
	line("  pauses                 %d (guardrail trips %d, %s paused in all)", len(g.Pauses), len(g.Trips), time.Duration(g.PausedSeconds)*time.Second)
	f := rep.Feedback
	line("  feedback               %d messages, %.0f%% negative, %d asking for more time", f.Total, f.NegativeRatio*100, f.ExtensionRequests)
	n := rep.Notices.Total
	line("  notices                %d delivered, %d failed; %d of %d consumers aware", n.Delivered, n.Failed, rep.Notices.ConsumersAware, rep.Notices.ConsumersKnown)
	line("  stragglers             %d requests after the shutdown from %d consumers", rep.Stragglers.Requests, len(rep.Stragglers.Consumers))
	if rep.Runbook.State != "" {
		line("  runbook                %s in %s", rep.Runbook.State, time.Duration(rep.Runbook.TotalSeconds)*time.Second)
	}
	line("")
	if t := strings.TrimSpace(rep.Lessons.Text); t != "" {
		line("Lessons learned:")
		for _, l := range strings.Split(t, "\n") {
			line("  %s", strings.TrimRight(l, " \t\r"))
		}
	} else {
		line("Lessons learned: none were recorded (sunset report lessons %s --file lessons.md).", name)
	}
	b.WriteString("\n")
}

// AnnounceDay is a new plan's announcement day: announce (YYYY-MM-DD), or a week after now when
// it is empty, at midnight in loc. A date in another form is an EINVALID error.
func AnnounceDay(announce string, now time.Time, loc *time.Location) (time.Time, error) {
	if announce == "" {
		d := now.In(loc).AddDate(0, 0, 7)
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc), nil
	}
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(announce), loc)
	if err != nil {
		return time.Time{}, sunset.Errorf(sunset.EINVALID, "announce %q: use a date, e.g. 2027-06-01", announce)
	}
	return t, nil
}
