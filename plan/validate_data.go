package plan

// Validation of the data section: sources, backups, exports and retention.

import (
	"fmt"
	"net/url"
	pathpkg "path"
	"slices"
	"strings"
)

func (v *validator) data() {
	d := v.p.Data
	seen := map[string]bool{}
	for i, b := range d.Backups {
		path := fmt.Sprintf("data.backups[%d]", i)
		if v.required(path+".name", b.Name != "", "name the backup, e.g. name: main-db") {
			if seen[b.Name] {
				v.errorf(path+".name", "backup %q is defined twice; names must be unique", b.Name)
			}
			seen[b.Name] = true
		}
		s := b.Source
		n := 0
		for _, set := range []bool{s.Dir != "", s.SQLite != "", s.Postgres != "", s.HTTP != ""} {
			if set {
				n++
			}
		}
		switch {
		case n == 0:
			v.required(path+".source", false, "set exactly one of dir, sqlite, postgres or http")
		case n > 1:
			v.errorf(path+".source", "set exactly one of dir, sqlite, postgres or http, not %d", n)
		}
		v.locator(path+".source.postgres", s.Postgres, false)
		v.webURL(path+".source.http", s.HTTP)
		v.noCredentials(path+".source.http", s.HTTP, "take it out of the URL (serve the dump on a loopback or private address instead)")
		if v.required(path+".to", b.To != "", "say where archives go, e.g. to: file:///var/backups/orders") {
			if u, err := url.Parse(b.To); err != nil || u.Scheme == "" {
				v.errorf(path+".to", "%q is not a destination URL; write file:///path or s3://bucket/prefix", b.To)
			} else {
				v.noCredentials(path+".to", b.To, "take it out of the URL (S3 keys come from the environment, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
			}
		}
	}
	if e := d.Export; e != nil {
		path := "data.export"
		switch {
		case e.PerUser.HTTP == "" && e.PerUser.SQL == "":
			v.required(path+".per_user", false, "set http (a URL with {id}) or sql")
		case e.PerUser.HTTP != "" && e.PerUser.SQL != "":
			v.errorf(path+".per_user", "set either http or sql, not both")
		case e.PerUser.HTTP != "":
			if !strings.Contains(e.PerUser.HTTP, "{id}") {
				v.errorf(path+".per_user.http", "the export URL must contain {id}, replaced by the user's id")
			}
			v.webURL(path+".per_user.http", strings.ReplaceAll(e.PerUser.HTTP, "{id}", "id"))
			v.noCredentials(path+".per_user.http", e.PerUser.HTTP, "take it out of the URL (serve exports on a loopback or private address instead)")
		}
		if e.PerUser.SQL != "" {
			var dbs []string
			for _, b := range d.Backups {
				if b.Source.SQLite != "" || b.Source.Postgres != "" {
					dbs = append(dbs, b.Name)
				}
			}
			switch {
			case e.PerUser.Database != "" && !slices.Contains(dbs, e.PerUser.Database):
				v.errorf(path+".per_user.database", "%q is not a data.backups entry with an sqlite or postgres source%s", e.PerUser.Database, v.hint(e.PerUser.Database, dbs))
			case len(dbs) == 0:
				v.errorf(path+".per_user.sql", "an sql export runs against a database: declare a data.backups entry with an sqlite or postgres source")
			}
		}
		if e.To != "" {
			if u, err := url.Parse(e.To); err != nil || u.Scheme == "" {
				v.errorf(path+".to", "%q is not a destination URL; write file:///path or s3://bucket/prefix", e.To)
			}
		} else if len(d.Backups) == 0 {
			v.required(path+".to", false, "say where export zips go, e.g. to: file:///var/exports (or declare a backup, whose destination is used)")
		}
		v.secret(path+".key", e.Key, false)
		v.webURL(path+".public_url", e.PublicURL)
		v.optInstant(path+".until", e.Until)
	}
	if r := d.Retention; r != nil {
		path := "data.retention"
		if r.Approvals < 0 {
			v.errorf(path+".approvals", "approvals cannot be negative")
		}
		if del := r.Delete; del != nil {
			switch {
			case len(del.Exec) > 0 && del.Dir != "":
				v.errorf(path+".delete", "set either exec or dir, not both")
			case del.Dir != "":
				clean := pathpkg.Clean(del.Dir)
				if !pathpkg.IsAbs(del.Dir) || clean == "/" || clean != strings.TrimSuffix(del.Dir, "/") {
					v.errorf(path+".delete.dir", "%q must be a clean absolute path below /, e.g. /var/lib/orders", del.Dir)
				}
			case len(del.Exec) == 0 || del.Exec[0] == "":
				v.errorf(path+".delete", "say what to delete: exec: [COMMAND, ARGS...] or dir: /var/lib/SERVICE")
			}
		}
	}
}
