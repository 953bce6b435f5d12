package auth

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
)

// DefaultActor is the actor recorded when a request names none.
const DefaultActor = "api"

// MaxActorLen is the longest actor name accepted, in characters.
const MaxActorLen = 100

// HeaderActor reads the actor from the X-Sunset-Actor header: trimmed, at most 100 printable
// characters. A request without it (or with only spaces) is DefaultActor; a malformed one is
// refused with EINVALID rather than recorded under another name.
func HeaderActor(r *http.Request) (string, error) {
	v := strings.TrimSpace(r.Header.Get(client.ActorHeader))
	if v == "" {
		return DefaultActor, nil
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxActorLen {
		return "", sunset.Errorf(sunset.EINVALID, "the %s header must be valid UTF-8 of at most %d characters", client.ActorHeader, MaxActorLen)
	}
	for _, c := range v {
		if !unicode.IsPrint(c) {
			return "", sunset.Errorf(sunset.EINVALID, "the %s header must hold printable characters only", client.ActorHeader)
		}
	}
	return v, nil
}

// Actor names the caller of r: the authenticated caller when the guard found one, else
// identify's answer (the seam where another authentication plugs in; a *sunset.Error with code
// EUNAUTHORIZED refuses the request), else HeaderActor when identify is nil.
func Actor(r *http.Request, identify func(*http.Request) (string, error)) (string, error) {
	if p := PrincipalFrom(r.Context()); p != nil {
		return p.Name, nil
	}
	if identify != nil {
		return identify(r)
	}
	return HeaderActor(r)
}
