package usage

import (
	"bytes"
	"fmt"
	"strings"
)

// Custom parses lines written with a custom format: an nginx log_format or an Apache LogFormat
// string. The format is compiled once into literals and fields; a line is read by matching each
// literal in turn and taking the bytes up to the next one as the field between them.
type Custom struct {
	lits   [][]byte // lits[i] precedes fields[i]; lits[len(fields)] is the trailing literal
	fields []customField
	userID bool
}

type fieldKind uint8

const (
	fOther fieldKind = iota
	fHost
	fUser
	fTimeCLF     // dd/Mon/yyyy:hh:mm:ss ±hhmm (nginx $time_local)
	fTimeCLFBrkt // [dd/Mon/yyyy:hh:mm:ss ±hhmm] (Apache %t)
	fTimeISO
	fTimeEpoch
	fRequest
	fMethod
	fURI
	fStatus
	fBytes
	fReferer
	fUA
)

type customField struct {
	kind fieldKind
	name string // normalised: nginx variable name; Apache headers as http_<name>
	id   bool   // the identity field
}

var nginxVars = map[string]fieldKind{
	"remote_addr": fHost, "binary_remote_addr": fOther, "http_x_real_ip": fOther,
	"remote_user": fUser, "time_local": fTimeCLF, "time_iso8601": fTimeISO, "msec": fTimeEpoch,
	"request": fRequest, "request_method": fMethod, "request_uri": fURI, "uri": fURI,
	"document_uri": fURI, "status": fStatus, "body_bytes_sent": fBytes, "bytes_sent": fBytes,
	"http_referer": fReferer, "http_user_agent": fUA,
}

var apacheDirectives = map[byte]struct {
	kind fieldKind
	name string
}{
	'h': {fHost, "remote_addr"}, 'a': {fHost, "remote_addr"}, 'l': {fOther, "remote_ident"},
	'u': {fUser, "remote_user"}, 't': {fTimeCLFBrkt, "time_local"}, 'r': {fRequest, "request"},
	'm': {fMethod, "request_method"}, 'U': {fURI, "uri"}, 's': {fStatus, "status"},
	'b': {fBytes, "body_bytes_sent"}, 'B': {fBytes, "body_bytes_sent"}, 'O': {fBytes, "bytes_sent"},
}

// customFormat compiles spec (nginx when nginx is true, Apache otherwise).
func customFormat(spec string, nginx bool, id Identity) (*Format, error) {
	spec = strings.TrimSpace(spec)
	spec = strings.TrimSuffix(strings.TrimPrefix(spec, "'"), "'")
	c := &Custom{}
	var lit []byte
	addField := func(f customField) error {
		if len(c.fields) > 0 && len(lit) == 0 {
			return fmt.Errorf("log format %q: fields %s and %s touch without a separator, so lines cannot be split", spec, c.fields[len(c.fields)-1].name, f.name)
		}
		c.lits = append(c.lits, lit)
		lit = nil
		c.fields = append(c.fields, f)
		return nil
	}
	for i := 0; i < len(spec); i++ {
		ch := spec[i]
		switch {
		case nginx && ch == '$':
			j := i + 1
			brace := j < len(spec) && spec[j] == '{'
			if brace {
				j++
			}
			k := j
			for k < len(spec) && (spec[k] == '_' || spec[k] >= 'a' && spec[k] <= 'z' || spec[k] >= 'A' && spec[k] <= 'Z' || spec[k] >= '0' && spec[k] <= '9') {
				k++
			}
			if k == j {
				lit = append(lit, ch)
				continue
			}
			name := strings.ToLower(spec[j:k])
			if brace {
				if k >= len(spec) || spec[k] != '}' {
					return nil, fmt.Errorf("log format %q: unclosed ${ at byte %d", spec, i)
				}
				k++
			}
			if err := addField(customField{kind: nginxVars[name], name: name}); err != nil {
				return nil, err
			}
			i = k - 1
		case !nginx && ch == '%':
			j := i + 1
			if j < len(spec) && spec[j] == '%' {
				lit = append(lit, '%')
				i = j
				continue
			}
			for j < len(spec) && (spec[j] == '<' || spec[j] == '>' || spec[j] == '!' || spec[j] == ',' || spec[j] >= '0' && spec[j] <= '9') {
				j++
			}
			var arg string
			if j < len(spec) && spec[j] == '{' {
				e := strings.IndexByte(spec[j:], '}')
				if e < 0 {
					return nil, fmt.Errorf("log format %q: unclosed %%{ at byte %d", spec, i)
				}
				arg, j = spec[j+1:j+e], j+e+1
			}
			if j >= len(spec) {
				return nil, fmt.Errorf("log format %q: %% at byte %d has no directive", spec, i)
			}
			f := customField{name: "%" + string(spec[j])}
			switch d := spec[j]; {
			case d == 'i':
				f.name = "http_" + strings.ReplaceAll(strings.ToLower(arg), "-", "_")
				f.kind = nginxVars[f.name]
			case d == 't' && arg != "":
				f.name = "time"
				f.kind = fTimeISO
				if strings.Contains(arg, "%d/%b/%Y") {
					f.kind = fTimeCLF
				} else if arg == "sec" || arg == "msec" {
					f.kind = fTimeEpoch
				}
			default:
				if a, ok := apacheDirectives[d]; ok && arg == "" {
					f.kind, f.name = a.kind, a.name
				} else if arg != "" {
					f.name = strings.ToLower(arg)
				}
			}
			if err := addField(f); err != nil {
				return nil, err
			}
			i = j
		case ch == '\\' && i+1 < len(spec) && spec[i+1] == '"':
			lit = append(lit, '"')
			i++
		default:
			lit = append(lit, ch)
		}
	}
	c.lits = append(c.lits, lit)
	hasTime := false
	hasID := id.Kind != IdentityField
	for i := range c.fields {
		f := &c.fields[i]
		switch f.kind {
		case fTimeCLF, fTimeCLFBrkt, fTimeISO, fTimeEpoch:
			hasTime = true
		}
		if id.Kind == IdentityField && (f.name == id.Field || f.kind == fUser && id.Field == "user") {
			f.id, hasID = true, true
		}
	}
	if !hasTime {
		return nil, fmt.Errorf("log format %q has no time field ($time_local, $time_iso8601, $msec, %%t): requests cannot be placed in time", spec)
	}
	prefix := "apache:"
	if nginx {
		prefix = "nginx:"
	}
	return &Format{Name: prefix + spec, Parser: c, HasID: hasID}, nil
}

// Parse implements Parser. It does not allocate.
func (c *Custom) Parse(line []byte, r *Record) error {
	if !bytes.HasPrefix(line, c.lits[0]) {
		return errFormat
	}
	p := len(c.lits[0])
	sawTime := false
	for i, f := range c.fields {
		next := c.lits[i+1]
		var v []byte
		switch {
		case f.kind == fTimeCLF && p+26 <= len(line):
			v = line[p : p+26]
		case f.kind == fTimeCLFBrkt && p+28 <= len(line):
			v = line[p+1 : p+27]
			p += 2
		case len(next) == 0: // last field: the rest of the line
			v = line[p:]
		default:
			quotedField := len(c.lits[i]) > 0 && c.lits[i][len(c.lits[i])-1] == '"'
			e := findLiteral(line[p:], next, quotedField)
			if e < 0 {
				if i == len(c.fields)-1 && quotedField && next[0] == '"' {
					v = line[p:] // truncated last quoted field: keep the rest
					break
				}
				return errFormat
			}
			v = line[p : p+e]
		}
		p += len(v)
		if err := c.set(f, v, r); err != nil {
			return err
		}
		if f.kind >= fTimeCLF && f.kind <= fTimeEpoch {
			sawTime = true
		}
		if p > len(line) {
			return errFormat
		}
		if !bytes.HasPrefix(line[p:], next) {
			if i == len(c.fields)-1 && p == len(line) {
				break // the trailing literal was cut off with the line
			}
			return errFormat
		}
		p += len(next)
	}
	if !sawTime {
		return errNoTime
	}
	if r.Path == nil {
		r.Path = dash
	}
	if c.userID {
		r.ID = r.User
	}
	return nil
}

// findLiteral finds lit in b; in a quoted field a backslash escapes the next byte.
func findLiteral(b, lit []byte, quotedField bool) int {
	if !quotedField {
		return bytes.Index(b, lit)
	}
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' {
			i++
			continue
		}
		if b[i] == lit[0] && bytes.HasPrefix(b[i:], lit) {
			return i
		}
	}
	return -1
}

func (c *Custom) set(f customField, v []byte, r *Record) error {
	var err error
	switch f.kind {
	case fHost:
		if !printable(v) {
			return errHostText
		}
		r.Host = v
	case fUser:
		r.User = v
	case fTimeCLF, fTimeCLFBrkt:
		r.Unix, r.Offset, err = parseCLFTime(v)
	case fTimeISO:
		r.Unix, r.Offset, err = parseISOTime(v)
	case fTimeEpoch:
		r.Unix, r.Offset, err = parseEpoch(v)
	case fRequest:
		parseRequest(v, r)
	case fMethod:
		r.Method = v
	case fURI:
		setTarget(v, r)
	case fStatus:
		n, ok := atoi(v)
		if !ok || n > 999 {
			return errStatus
		}
		r.Status = int(n)
	case fBytes:
		n, ok := atoi(v)
		if !ok {
			return errBytes
		}
		r.Bytes = n
	case fReferer:
		r.Referer = v
	case fUA:
		r.UA = v
	}
	if f.id {
		r.ID = v
	}
	return err
}
