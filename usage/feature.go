package usage

import (
	"fmt"
	"net/http"
	"net/url"
)

// FeatureRoutes is a feature and its routes as Go http.ServeMux patterns.
type FeatureRoutes struct {
	Name   string
	Core   bool
	Routes []string
}

// featureMatcher maps (method, path) to a feature index with a ServeMux, so that routes match
// exactly as the gateway will route them. Each worker has its own: the request it builds is
// reused, and answers are cached per method and path (bounded) so that repeated paths cost one
// map lookup and no allocation.
type featureMatcher struct {
	mux      *http.ServeMux
	patterns map[string]int
	req      http.Request
	url      url.URL
	cache    map[string]int16
	key      []byte
}

const matcherCacheMax = 1 << 17

// newFeatureMatcher builds a matcher; conflicting or invalid patterns are errors.
func newFeatureMatcher(features []FeatureRoutes) (m *featureMatcher, err error) {
	m = &featureMatcher{mux: http.NewServeMux(), patterns: map[string]int{}, cache: map[string]int16{}}
	m.req.URL = &m.url
	m.req.Header = http.Header{}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for i, f := range features {
		for _, p := range f.Routes {
			if _, dup := m.patterns[p]; dup {
				continue
			}
			func() {
				defer func() {
					if r := recover(); r != nil && err == nil {
						err = fmt.Errorf("feature %s: route %q: %v", f.Name, p, r)
					}
				}()
				m.mux.Handle(p, noop)
				m.patterns[p] = i
			}()
		}
	}
	return m, err
}

// match returns the feature index of a request, or -1.
func (m *featureMatcher) match(method, path []byte) int {
	m.key = append(append(append(m.key[:0], method...), ' '), path...)
	if f, ok := m.cache[string(m.key)]; ok {
		return int(f)
	}
	m.req.Method = string(method)
	if m.req.Method == "" {
		m.req.Method = http.MethodGet
	}
	m.url.Path = string(path)
	f := -1
	if _, pat := m.mux.Handler(&m.req); pat != "" {
		if i, ok := m.patterns[pat]; ok {
			f = i
		}
	}
	if len(m.cache) >= matcherCacheMax {
		clear(m.cache)
	}
	m.cache[string(m.key)] = int16(f)
	return f
}
