package usage

import (
	"fmt"
	"strings"
)

// IdentityKind says what names a consumer.
type IdentityKind uint8

// The identity kinds.
const (
	// IdentityIP names consumers by client address (the default).
	IdentityIP IdentityKind = iota
	// IdentityIPUA names consumers by client address and user agent together.
	IdentityIPUA
	// IdentityField names consumers by a field of the log: a header or a user id.
	IdentityField
)

// Identity is the rule that names a consumer in a log.
type Identity struct {
	Kind IdentityKind
	// Field is the normalised field name for IdentityField: nginx variable names
	// ("http_x_api_key", "remote_user"); headers are written http_<lower_snake_name>.
	Field string
}

// ParseIdentity reads an --identify value: "ip", "ip+ua", "header:X-API-Key" (the header's
// field in the log), "user" (the authenticated user), or "field:NAME" (a log format variable
// or a JSON key).
func ParseIdentity(s string) (Identity, error) {
	switch low := strings.ToLower(strings.TrimSpace(s)); {
	case low == "" || low == "ip":
		return Identity{Kind: IdentityIP}, nil
	case low == "ip+ua" || low == "ip+user_agent":
		return Identity{Kind: IdentityIPUA}, nil
	case low == "user" || low == "remote_user":
		return Identity{Kind: IdentityField, Field: "remote_user"}, nil
	case strings.HasPrefix(low, "header:") && len(low) > len("header:"):
		return HeaderIdentity(s[len("header:"):]), nil
	case strings.HasPrefix(low, "field:") && len(low) > len("field:"):
		return Identity{Kind: IdentityField, Field: strings.TrimSpace(s[len("field:"):])}, nil
	}
	return Identity{}, fmt.Errorf("--identify %q: use ip, ip+ua, user, header:NAME or field:NAME", s)
}

// HeaderIdentity names consumers by a request header, as logs write it (nginx $http_x_api_key,
// Apache %{X-API-Key}i).
func HeaderIdentity(header string) Identity {
	return Identity{Kind: IdentityField, Field: "http_" + strings.ReplaceAll(strings.ToLower(strings.TrimSpace(header)), "-", "_")}
}

// String returns the identity as --identify spells it.
func (id Identity) String() string {
	switch id.Kind {
	case IdentityIPUA:
		return "ip+ua"
	case IdentityField:
		if h, ok := strings.CutPrefix(id.Field, "http_"); ok {
			return "header:" + strings.ReplaceAll(h, "_", "-")
		}
		if id.Field == "remote_user" {
			return "user"
		}
		return "field:" + id.Field
	}
	return "ip"
}

// key appends the consumer key of r to buf. ok is false when the line does not carry the
// identity (the key is then "-").
func (id Identity) key(buf []byte, r *Record) []byte {
	switch id.Kind {
	case IdentityIPUA:
		buf = append(buf, r.Host...)
		buf = append(buf, ' ', '|', ' ')
		return append(buf, r.UA...)
	case IdentityField:
		if len(r.ID) == 0 {
			return append(buf, '-')
		}
		return append(buf, r.ID...)
	}
	return append(buf, r.Host...)
}
