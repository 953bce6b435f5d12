package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/channels"
	"github.com/sunsetops/sunset/plan"
)

// notifyCommand groups the commands that preview, test and follow notices.
func (m *Main) notifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Preview, test and follow the notices that tell users about a sunset",
		Example: `  sunset notify preview examples/api-v2.yaml --notice announce --locale zh
  sunset notify test examples/api-v2.yaml --notice announce --to me@example.com
  sunset notify status orders-api-v1`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(m.notifyPreviewCommand(), m.notifyTestCommand(), m.notifyStatusCommand(), m.notifyTasksCommand())
	return cmd
}

type noticeFlags struct {
	notice, locale, to, publicURL string
}

func (m *Main) notifyPreviewCommand() *cobra.Command {
	var o noticeFlags
	cmd := &cobra.Command{
		Use:   "preview PLAN --notice NAME [--locale zh] [--to RECIPIENT]",
		Short: "Render a notice exactly as it will be sent",
		Long: `Preview renders one notice of a plan for one recipient: the subject and the text body, in the
recipient's language (--locale overrides it; en is the fallback). --to names a contact by id or
email from the plan's contacts file; without it a sample recipient is used.

A notice is named by its template when only one notice uses it, or as notice/N (from 0).`,
		Example: `  sunset notify preview examples/webapp-closing.yaml --notice closing_announce --locale zh
  sunset notify preview examples/api-v2.yaml --notice announce --to zhongshan-01`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, key, n, err := loadNotice(args[0], o.notice)
			if err != nil {
				return err
			}
			r, err := pickRecipient(p, o.to, o.locale)
			if err != nil {
				return err
			}
			var rr notify.Renderer
			out, err := rr.Render(p, notify.RenderRequest{ExportURL: previewExportURL(o.publicURL), Template: n.Template, Notice: key, Mandatory: n.Mandatory,
				Recipient: r, Locale: o.locale, PublicURL: o.publicURL})
			if err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(m.Stdout, "Notice:   %s (%s) to %s via %s\nTo:       %s <%s> [%s]\nSubject:  %s\n\n%s",
				key, n.Template, n.To, strings.Join(n.Channels, ", "), r.Name, r.Email, out.Locale, out.Subject, out.Text)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.notice, "notice", "", "the notice: its template name, or notice/N")
	f.StringVar(&o.locale, "locale", "", "render in this locale (en or zh) instead of the recipient's")
	f.StringVar(&o.to, "to", "", "a contact id or email from the plan's contacts file")
	f.StringVar(&o.publicURL, "public-url", "http://127.0.0.1:8080", "where Sunset's public pages are served, for links")
	_ = cmd.MarkFlagRequired("notice")
	return cmd
}

func (m *Main) notifyTestCommand() *cobra.Command {
	var o noticeFlags
	cmd := &cobra.Command{
		Use:   "test PLAN --notice NAME --to ADDRESS",
		Short: "Send one notice to one address over the plan's email channel",
		Long: `Test renders a notice for ADDRESS (in --locale, en by default) and sends it through the SMTP
server of the plan's channels.email, with secrets read from the environment or files. Nothing is
recorded in the outbox.`,
		Example: `  sunset notify test examples/webapp-closing.yaml --notice closing_announce --to me@example.com --locale zh`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, key, n, err := loadNotice(args[0], o.notice)
			if err != nil {
				return err
			}
			r := notify.Recipient{ID: "test", Email: o.to, Locale: o.locale}
			var rr notify.Renderer
			out, err := rr.Render(p, notify.RenderRequest{ExportURL: previewExportURL(o.publicURL), Template: n.Template, Notice: key, Mandatory: n.Mandatory, Recipient: r, PublicURL: o.publicURL})
			if err != nil {
				return fail("%v", err)
			}
			ch, err := channels.Factory(channels.Options{Getenv: m.Getenv})(p, notify.ChannelEmail)
			if err != nil {
				return fail("%v", err)
			}
			links := notify.Links(p, o.publicURL, r, n.Mandatory, nil)
			msg := notify.Message{Key: notify.DeliveryKey(p.Service.Name, key, "test:"+o.to, notify.ChannelEmail), Sunset: p.Service.Name,
				Notice: key, Template: n.Template, Channel: notify.ChannelEmail, To: r, Mandatory: n.Mandatory, Rendered: out,
				Unsubscribe: links.Unsubscribe, StatusURL: links.Status}
			if _, err := ch.Send(context.WithoutCancel(cmd.Context()), msg); err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(m.Stdout, "sent %q (%s) to %s\n", out.Subject, out.Locale, o.to)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.notice, "notice", "", "the notice: its template name, or notice/N")
	f.StringVar(&o.locale, "locale", "en", "the locale to send in (en or zh)")
	f.StringVar(&o.to, "to", "", "the email address to send to")
	f.StringVar(&o.publicURL, "public-url", "http://127.0.0.1:8080", "where Sunset's public pages are served, for links")
	_ = cmd.MarkFlagRequired("notice")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

// loadNotice parses and validates the plan at path and finds the notice called name.
func loadNotice(path, name string) (*plan.Plan, string, plan.Notice, error) {
	p, problems := plan.ParseFile(path)
	if err := problems.Err(); err != nil {
		return nil, "", plan.Notice{}, fail("%v", err)
	}
	if i, ok := strings.CutPrefix(name, "notice/"); ok {
		n, err := strconv.Atoi(i)
		if err == nil && n >= 0 && n < len(p.Notices) {
			return p, name, p.Notices[n], nil
		}
	}
	var found []int
	var names []string
	for i, n := range p.Notices {
		names = append(names, n.Template)
		if n.Template == name {
			found = append(found, i)
		}
	}
	switch len(found) {
	case 1:
		return p, "notice/" + strconv.Itoa(found[0]), p.Notices[found[0]], nil
	case 0:
		slices.Sort(names)
		return nil, "", plan.Notice{}, fail("no notice %q in %s; its notices use the templates %s (or name one as notice/N)", name, path, strings.Join(slices.Compact(names), ", "))
	}
	return nil, "", plan.Notice{}, fail("%d notices use the template %q; name one as notice/N", len(found), name)
}

// pickRecipient finds the contact to (by id or email) in p's contacts, or makes a sample one.
func pickRecipient(p *plan.Plan, to, locale string) (notify.Recipient, error) {
	if to == "" {
		if notify.Locale(locale) == "zh" {
			return notify.Recipient{ID: "sample", Name: "张三", Email: "zhang.san@example.cn", Locale: "zh-CN"}, nil
		}
		return notify.Recipient{ID: "sample", Name: "Jane Doe", Email: "jane@example.com", Locale: "en"}, nil
	}
	if p.Consumers.Contacts == "" {
		return notify.Recipient{ID: to, Email: to, Locale: locale}, nil
	}
	rc, err := os.Open(plan.LocalPath(filepath.Dir(p.File()), p.Consumers.Contacts))
	if err != nil {
		return notify.Recipient{}, fail("contacts: %v", err)
	}
	defer rc.Close()
	var found *notify.Recipient
	errFound := errors.New("found")
	err = contacts.Read(rc, p.ContactOptions(), func(c contacts.Contact) error {
		if c.ID == to || strings.EqualFold(c.Email, to) {
			r := notify.FromContact(c)
			found = &r
			return errFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return notify.Recipient{}, fail("%v", err)
	}
	if found == nil {
		return notify.Recipient{}, fail("no contact %q in %s", to, p.Consumers.Contacts)
	}
	return *found, nil
}

// previewExportURL shows where a recipient's signed export link goes; the real link carries a
// token only the server (with SUNSET_EXPORT_KEY) makes.
func previewExportURL(publicURL string) func(sunset, userID string) string {
	return func(sunset, userID string) string {
		return strings.TrimRight(publicURL, "/") + "/exports/" + sunset + "/<signed-token-for-" + userID + ">"
	}
}
