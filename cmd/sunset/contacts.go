package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// contactsCommand lists and erases the contacts a sunset's plan bundles carried.
func (m *Main) contactsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contacts",
		Short: "Show or erase the contacts stored with a sunset's plan",
		Long: `The contacts file a plan names (consumers.contacts) travels with the plan when it is
applied and is stored with each revision; the server never reads it from its own disk.
list shows how many contacts the current revision carried, by tier and locale, and which
file each revision carried; erase removes a person from every stored revision (their right
to erasure) and records only the count in the sunset's events.`,
		Example: `  sunset contacts list orders-api-v1
  sunset contacts list orders-api-v1 --format json    # the contacts themselves (operator role)
  sunset contacts erase orders-api-v1 acme-prod globex-7f3a`,
	}
	var lc, ec clientFlags
	list := &cobra.Command{
		Use:   "list NAME",
		Short: "Count a sunset's contacts by tier and locale; --format json lists them",
		Example: `  sunset contacts list orders-api-v1
  sunset contacts list orders-api-v1 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.client(&lc)
			if err != nil {
				return err
			}
			ans, err := cl.Contacts(cmd.Context(), args[0], lc.format == "json")
			if err != nil {
				return clientError(err)
			}
			out := cmd.OutOrStdout()
			if lc.format == "json" {
				return writeJSON(out, ans)
			}
			fmt.Fprintf(out, "%d contacts (%d with an email)\n", ans.Contacts, ans.WithEmail)
			fmt.Fprintf(out, "  tiers:   %s\n", countList(ans.Tiers, "no tier"))
			fmt.Fprintf(out, "  locales: %s\n", countList(ans.Locales, "no locale"))
			if len(ans.Revisions) == 0 {
				fmt.Fprintln(out, "no revision carried files yet; apply the plan with its contacts: sunset apply sunset.yaml")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REVISION\tAPPLIED\tBY\tFILES")
			for _, r := range ans.Revisions {
				var files []string
				for _, f := range r.Files {
					files = append(files, fmt.Sprintf("%s (%d contacts, sha256 %s…)", f.Ref, f.Count, shortHash(f.Hash)))
				}
				if len(files) == 0 {
					files = []string{"-"}
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.Revision, r.CreatedAt.Format("2006-01-02 15:04"), r.Actor, strings.Join(files, ", "))
			}
			return tw.Flush()
		},
	}
	lc.add(list, true)
	list.ValidArgsFunction = m.completeSunsets(&lc)
	erase := &cobra.Command{
		Use:   "erase NAME ID...",
		Short: "Remove contacts from every stored revision of a sunset",
		Long: `Erase removes each contact id from every revision of the sunset that carried it. The
sunset's events record how many rows were removed, never the ids. A later apply of a file
that still lists the person stores them again: remove them from the file too.`,
		Example: "  sunset contacts erase orders-api-v1 acme-prod",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.client(&ec)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			var total int64
			for _, id := range args[1:] {
				n, err := cl.EraseContact(cmd.Context(), args[0], id)
				if err != nil {
					return clientError(err)
				}
				total += n
			}
			fmt.Fprintf(out, "erased %d of %d ids: %d stored rows removed from the revisions of %s\n", len(args)-1, len(args)-1, total, args[0])
			return nil
		},
	}
	ec.add(erase, false)
	erase.ValidArgsFunction = m.completeSunsets(&ec)
	cmd.AddCommand(list, erase)
	return cmd
}

// countList formats counts by key, largest first: "critical 2, standard 1".
func countList(m map[string]int64, empty string) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		name := k
		if name == "" {
			name = "(" + empty + ")"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
