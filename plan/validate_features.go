package plan

// Validation of the features (their routes and replacements) and of the brownouts.

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

func (v *validator) features() {
	mux := http.NewServeMux()
	owner := map[string]string{} // pattern → path of the route that registered it
	// Routes are matched regardless of case unless the service says otherwise: two routes that
	// differ only by case would then be one.
	foldMux := http.NewServeMux()
	foldOwner := map[string]string{}
	routes := 0
	for i, f := range v.p.Features {
		path := fmt.Sprintf("features[%d]", i)
		if v.required(path+".name", f.Name != "", "name the feature, e.g. name: reports") {
			if v.known[f.Name] {
				v.errorf(path+".name", "feature %q is defined twice; feature names must be unique", f.Name)
			}
			v.known[f.Name] = true
		}
		v.required(path+".routes", len(f.Routes) > 0, `list its routes, e.g. routes: ["GET /v1/reports/{id}"]`)
		for j, r := range f.Routes {
			rp := fmt.Sprintf("%s.routes[%d]", path, j)
			if msg := registerPattern(http.NewServeMux(), r); msg != "" {
				v.errorf(rp, "route %q is not a valid ServeMux pattern: %s; write it as [METHOD ][HOST]/PATH, e.g. GET /v1/reports/{id}", r, msg)
				continue
			}
			if method, _, ok := strings.Cut(strings.TrimSpace(r), " "); ok && !strings.HasPrefix(method, "/") && !httpMethod.MatchString(method) {
				v.warnf(rp, "method %q in route %q is not upper case, so it never matches %s requests; write %s", method, r, strings.ToUpper(method), strings.ToUpper(method))
			}
			if routes++; routes > maxRoutes {
				if routes == maxRoutes+1 {
					v.errorf(rp, "more than %d routes; group them under fewer, wider patterns such as /v1/reports/", maxRoutes)
				}
				continue
			}
			if msg := registerPattern(mux, r); msg != "" {
				other := owner[r]
				if m := conflictWith.FindStringSubmatch(msg); m != nil && other == "" {
					other = owner[unquote(m[1])]
				}
				if other == "" {
					v.errorf(rp, "route %q conflicts with another route: %s", r, msg)
				} else if _, desc, _ := strings.Cut(msg, ":\n"); strings.Contains(desc, "matches the same requests") {
					v.errorf(rp, "route %q is already listed at %s (%s); a route belongs to one feature", r, other, v.routeFeature(other))
				} else {
					// ServeMux explains a conflict in a few lines; the first two say it all.
					lines := strings.SplitN(desc, "\n", 3)
					v.errorf(rp, "route %q conflicts with %s (%s): %s; make one of them more specific", r, other, v.routeFeature(other), strings.TrimSuffix(strings.Join(strings.Fields(strings.Join(lines[:min(2, len(lines))], " ")), " "), "."))
				}
				continue
			}
			owner[r] = rp
			if !v.p.Service.Gateway.CaseSensitivePaths {
				folded := FoldRoute(r)
				if msg := registerPattern(foldMux, folded); msg != "" {
					other := foldOwner[folded]
					if other == "" {
						other = "another route"
					}
					v.errorf(rp, "route %q conflicts with %s (%s) once letter case is ignored, and paths are matched regardless of case; remove one, or set service.gateway.case_sensitive_paths: true if the service tells them apart", r, other, v.routeFeature(other))
					continue
				}
				foldOwner[folded] = rp
			}
		}

		dep, depOK := v.optInstant(path+".deprecate", f.Deprecate)
		ro, roOK := v.optInstant(path+".read_only", f.ReadOnly)
		gone, goneOK := v.optInstant(path+".gone", f.Gone)
		if f.Deprecate == nil {
			dep, depOK = v.ms[Deprecate]
		}
		if f.Gone == nil {
			gone, goneOK = v.ms[Shutdown]
		}
		if depOK && goneOK && gone.Before(dep) && (f.Deprecate != nil || f.Gone != nil) {
			at := path + ".gone"
			if f.Gone == nil {
				at = path + ".deprecate"
			}
			v.errorf(at, "sunset (gone) %s of feature %q is before its deprecation instant %s; RFC 9745 forbids it: move gone after deprecate", v.format(gone), f.Name, v.format(dep))
		}
		if roOK && depOK && ro.Before(dep) {
			v.errorf(path+".read_only", "read_only %s of feature %q is before its deprecation instant %s; features go deprecated, then read-only, then gone", v.format(ro), f.Name, v.format(dep))
		}
		if roOK && goneOK && gone.Before(ro) {
			v.errorf(path+".read_only", "read_only %s of feature %q is after it is gone (%s); features go deprecated, then read-only, then gone", v.format(ro), f.Name, v.format(gone))
		}
		if r := f.Redirect; r != "" && !strings.HasPrefix(r, "/") {
			v.webURL(path+".redirect", r)
		}
	}
}

// FoldRoute returns route with the literal segments of its host and path in lower case, as the
// gateway matches them when the service's paths are case-insensitive. The method and wildcard
// names are kept.
func FoldRoute(route string) string {
	method, rest := "", route
	if i := strings.IndexAny(strings.TrimLeft(route, " \t"), " \t"); i >= 0 {
		j := len(route) - len(strings.TrimLeft(route, " \t")) + i
		method, rest = route[:j], route[j:]
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			segs[i] = strings.ToLower(s)
		}
	}
	return method + strings.Join(segs, "/")
}

// routeFeature names the feature of the route at path ("features[0].routes[1]").
func (v *validator) routeFeature(path string) string {
	var i int
	if _, err := fmt.Sscanf(path, "features[%d]", &i); err == nil && i < len(v.p.Features) && v.p.Features[i].Name != "" {
		return "feature " + v.p.Features[i].Name
	}
	return "another feature"
}

// registerPattern registers pattern in mux and returns ServeMux's complaint, if any, without
// the "registered at" source locations that mean nothing to the plan's author.
func registerPattern(mux *http.ServeMux, pattern string) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = strings.TrimPrefix(registeredAt.ReplaceAllString(fmt.Sprint(r), ""), "http: ")
		}
	}()
	mux.Handle(pattern, http.NotFoundHandler())
	return ""
}

func unquote(s string) string {
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(s)
}

func (v *validator) brownouts() {
	for i, b := range v.p.Brownouts {
		path := fmt.Sprintf("brownouts[%d]", i)
		from, fromOK := v.instant(path+".from", b.From)
		if b.From.Raw == "" && !v.p.has(path+".from") {
			v.required(path+".from", false, "say when the brownouts start, e.g. from: shutdown-28d")
		}
		until, untilOK := v.optInstant(path+".until", b.Until)
		if b.Until == nil {
			until, untilOK = v.ms[Shutdown]
		}
		if fromOK && untilOK && !from.Before(until) {
			end := "until"
			if b.Until == nil {
				end = "shutdown, its default end,"
			}
			v.errorf(path+".from", "brownouts start at %s, not before %s %s; start them earlier", v.format(from), end, v.format(until))
		}
		hasEvery := b.Every != "" || v.p.has(path+".every")
		hasPercent := b.Percent != 0 || v.p.has(path+".percent")
		switch {
		case hasEvery && hasPercent:
			v.errorf(path, "set either every (windows) or percent (a share of requests), not both")
		case !hasEvery && !hasPercent:
			v.errorf(path, `set every with for (windows, e.g. every: "Tue,Thu 14:00", for: 15m) or percent (a share of requests)`)
		}
		if hasEvery {
			if _, err := ParseWeekly(b.Every); err != nil {
				v.errorf(path+".every", "%v", err)
			}
			if b.For <= 0 {
				v.required(path+".for", false, "say how long each brownout window lasts, e.g. for: 15m")
			} else if time.Duration(b.For) > 7*24*time.Hour {
				v.errorf(path+".for", "windows of %s last longer than a week; use percent for a brownout that never stops", b.For)
			}
		} else if b.For != 0 {
			v.errorf(path+".for", "for sets the length of every window; add every or remove for")
		}
		if hasPercent && (b.Percent <= 0 || b.Percent > 100) {
			v.errorf(path+".percent", "percent must be more than 0 and at most 100, got %g", b.Percent)
		}
		if b.Status != 0 && b.Status != http.StatusGone && b.Status != http.StatusServiceUnavailable {
			v.errorf(path+".status", "status must be 410 (Gone) or 503 (Service Unavailable), got %d", b.Status)
		}
		v.featureRefs(path+".features", b.Features)
		v.oneOf(path+".audience", b.Audience, []string{"all", "laggards"}, "brownout audience")
	}
}

func (v *validator) featureRefs(path string, names []string) {
	for j, name := range names {
		if !v.known[name] {
			v.errorf(fmt.Sprintf("%s[%d]", path, j), "unknown feature %q%s; name a feature of features", name, v.hint(name, v.featureNames()))
		}
	}
}

// featureNames lists the features' names, computed once: hostile plans repeat bad references.
func (v *validator) featureNames() []string {
	if v.featureList == nil {
		v.featureList = make([]string, 0, len(v.p.Features))
		for _, f := range v.p.Features {
			v.featureList = append(v.featureList, f.Name)
		}
	}
	return v.featureList
}
