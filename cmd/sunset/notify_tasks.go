package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
)

func (m *Main) notifyTasksCommand() *cobra.Command {
	var owner, show, locale, publicURL string
	var o clientFlags
	cmd := &cobra.Command{
		Use:   "tasks PLAN|NAME [--owner EMAIL] [--show ACTION --owner EMAIL [--locale zh]]",
		Short: "List the owners' task reminders a plan sends, or render one",
		Long: `Tasks lists the task reminders the owners of a plan get: one email per owner and action of the
timeline they answer for (role responsible or accountable, and an area of their "for" that
covers the action), due reminders.before (default 2d) before the action. Only actions still
ahead of now (--now) are listed.

The plan is a file (PLAN, read here, before it is applied), or the plan a sunset on the server
carries now (NAME: asked of --server, $SUNSET_SERVER or http://127.0.0.1:8080).

With --show ACTION (an action's key, e.g. milestone/shutdown) and --owner, it renders that
reminder exactly as it will be sent, in the owner's language (--locale overrides it).`,
		Example: `  sunset notify tasks examples/api-v2.yaml
  sunset notify tasks orders-api-v1 --server http://127.0.0.1:8080
  sunset notify tasks examples/api-v2.yaml --owner li.wei@example.com --now 2027-01-01
  sunset notify tasks examples/api-v2.yaml --show milestone/shutdown --owner li.wei@example.com --locale zh`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := m.tasksPlan(cmd, &o, args[0])
			if err != nil {
				return err
			}
			tl, err := p.Compile()
			if err != nil {
				return fail("%v", err)
			}
			clock, err := m.clock()
			if err != nil {
				return err
			}
			now := clock.Now()
			var ds []notify.Delivery
			for _, d := range notify.TaskReminders(p, 0, p.Service.Name, tl.Actions, now) {
				if owner == "" || strings.EqualFold(d.Recipient.Email, owner) {
					ds = append(ds, d)
				}
			}
			if show != "" {
				return m.showTask(p, ds, show, owner, locale, publicURL)
			}
			if len(ds) == 0 {
				fmt.Fprintln(m.Stdout, "No task reminders: no responsible or accountable owner with an email answers for an action still ahead, or reminders are off.")
				return nil
			}
			loc := p.Location()
			fmt.Fprintf(m.Stdout, "%-22s %-28s %-6s %s\n", "DUE", "OWNER", "LOCALE", "ACTION")
			for _, d := range ds {
				t := d.Data.Task
				what := t.Key
				if !strings.Contains(t.Key, "/"+t.Name) {
					what += " (" + t.Name + ")"
				}
				fmt.Fprintf(m.Stdout, "%-22s %-28s %-6s %s at %s\n", d.NextAt.In(loc).Format("2006-01-02 15:04 MST"), d.Recipient.Email,
					notify.Locale(d.Recipient.Locale), what, t.At.In(loc).Format("2006-01-02 15:04 MST"))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&owner, "owner", "", "only this owner's reminders (their email)")
	f.StringVar(&show, "show", "", "render the reminder of this action (its key, e.g. milestone/shutdown); needs --owner")
	f.StringVar(&locale, "locale", "", "with --show: render in this locale (en or zh) instead of the owner's")
	f.StringVar(&publicURL, "public-url", "http://127.0.0.1:8080", "where Sunset's public pages are served, for links")
	o.add(cmd, false)
	return cmd
}

// tasksPlan reads the plan of notify tasks: the file arg names, or else the plan the sunset
// named arg carries on the server.
func (m *Main) tasksPlan(cmd *cobra.Command, o *clientFlags, arg string) (*plan.Plan, error) {
	if st, err := os.Stat(arg); err == nil && !st.IsDir() {
		p, problems := plan.ParseFile(arg)
		if err := problems.Err(); err != nil {
			return nil, fail("%v", err)
		}
		return p, nil
	}
	if strings.ContainsAny(arg, "/\\") || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") {
		return nil, fail("%s: no such plan file", arg)
	}
	cl, err := m.client(o)
	if err != nil {
		return nil, err
	}
	data, err := cl.PlanYAML(cmd.Context(), arg)
	if err != nil {
		return nil, clientError(err)
	}
	p, problems := plan.ParseStored(arg+".yaml", data)
	if err := problems.Err(); err != nil {
		return nil, fail("the plan of %s: %v", arg, err)
	}
	return p, nil
}

// showTask renders the reminder of action key to owner among ds.
func (m *Main) showTask(p *plan.Plan, ds []notify.Delivery, key, owner, locale, publicURL string) error {
	if owner == "" {
		return fail("--show needs --owner EMAIL: whose reminder to render")
	}
	var keys []string
	for _, d := range ds {
		if d.Data.Task.Key != key {
			keys = append(keys, d.Data.Task.Key)
			continue
		}
		var rr notify.Renderer
		out, err := rr.Render(p, notify.RenderRequest{Template: d.Template, Notice: d.Notice, Mandatory: true,
			Recipient: d.Recipient, Locale: locale, PublicURL: publicURL, Data: d.Data})
		if err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(m.Stdout, "Reminder: %s, due %s\nTo:       %s <%s> [%s]\nSubject:  %s\n\n%s", key,
			d.NextAt.In(p.Location()).Format("2006-01-02 15:04 MST"), d.Recipient.Name, d.Recipient.Email, out.Locale, out.Subject, out.Text)
		return nil
	}
	if len(keys) == 0 {
		return fail("%s gets no task reminders from this plan", owner)
	}
	return fail("%s gets no reminder of %q; theirs are of %s", owner, key, strings.Join(keys, ", "))
}
