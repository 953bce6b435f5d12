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
	fc := &formatCompiler{spec: spec, c: &Custom{}}
	for i := 0; i < len(spec); i++ {
		ch := spec[i]
		var err error
		switch {
		case nginx && ch == '$':
			i, err = fc.nginxVariable(i)
		case !nginx && ch == '%':
			i, err = fc.apacheDirective(i)
		case ch == '\\' && i+1 < len(spec) && spec[i+1] == '"':
			fc.lit = append(fc.lit, '"')
			i++
		default:
			fc.lit = append(fc.lit, ch)
		}
		if err != nil {
			return nil, err
		}
	}
	c := fc.c
	c.lits = append(c.lits, fc.lit)
	hasTime, hasID := c.markFields(id)
	if !hasTime {
		return nil, fmt.Errorf("log format %q has no time field ($time_local, $time_iso8601, $msec, %%t): requests cannot be placed in time", spec)
	}
	prefix := "apache:"
	if nginx {
		prefix = "nginx:"
	}
	return &Format{Name: prefix + spec, Parser: c, HasID: hasID}, nil
}

// formatCompiler compiles a custom format into a Custom's literals and fields, one literal
// byte or field at a time.
type formatCompiler struct {
	spec string
	c    *Custom
	lit  []byte // the literal read since the last field
}

// addField ends the current literal and adds f after it. Two fields with no literal between
// them cannot be told apart in a line: that is an error.
func (fc *formatCompiler) addField(f customField) error {
	c := fc.c
	if len(c.fields) > 0 && len(fc.lit) == 0 {
		return fmt.Errorf("log format %q: fields %s and %s touch without a separator, so lines cannot be split", fc.spec, c.fields[len(c.fields)-1].name, f.name)
	}
	c.lits = append(c.lits, fc.lit)
	fc.lit = nil
	c.fields = append(c.fields, f)
	return nil
}

// nginxVariable reads the nginx variable ($name or ${name}) whose $ is at spec[i] and returns
// the index of its last byte. A $ not followed by a name is a literal.
func (fc *formatCompiler) nginxVariable(i int) (int, error) {
	spec := fc.spec
	j := i + 1
	brace := j < len(spec) && spec[j] == '{'
	if brace {
		j++
	}
	k := j
	for k < len(spec) && isNameByte(spec[k]) {
		k++
	}
	if k == j {
		fc.lit = append(fc.lit, spec[i])
		return i, nil
	}
	name := strings.ToLower(spec[j:k])
	if brace {
		if k >= len(spec) || spec[k] != '}' {
			return 0, fmt.Errorf("log format %q: unclosed ${ at byte %d", spec, i)
		}
		k++
	}
	return k - 1, fc.addField(customField{kind: nginxVars[name], name: name})
}

// isNameByte reports whether b may appear in an nginx variable's name.
func isNameByte(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// apacheDirective reads the Apache directive (%x, %>s, %{arg}x; %% is a literal %) whose % is
// at spec[i] and returns the index of its last byte.
func (fc *formatCompiler) apacheDirective(i int) (int, error) {
	spec := fc.spec
	j := i + 1
	if j < len(spec) && spec[j] == '%' {
		fc.lit = append(fc.lit, '%')
		return j, nil
	}
	// Modifiers (<, > and status conditions such as !400,501) are skipped.
	for j < len(spec) && (spec[j] == '<' || spec[j] == '>' || spec[j] == '!' || spec[j] == ',' || spec[j] >= '0' && spec[j] <= '9') {
		j++
	}
	var arg string
	if j < len(spec) && spec[j] == '{' {
		e := strings.IndexByte(spec[j:], '}')
		if e < 0 {
			return 0, fmt.Errorf("log format %q: unclosed %%{ at byte %d", spec, i)
		}
		arg, j = spec[j+1:j+e], j+e+1
	}
	if j >= len(spec) {
		return 0, fmt.Errorf("log format %q: %% at byte %d has no directive", spec, i)
	}
	return j, fc.addField(apacheField(spec[j], arg))
}

// apacheField is the field an Apache directive d with argument arg (from %{arg}d) logs: a
// request header (%{Name}i) by its nginx name, a formatted time (%{format}t), a known
// directive, or another field named by its argument or by itself.
func apacheField(d byte, arg string) customField {
	f := customField{name: "%" + string(d)}
	switch {
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
	return f
}

// markFields marks the field that names consumers when id names them by a field, and reports
// whether the format has a time field and whether consumers can be named by its fields.
func (c *Custom) markFields(id Identity) (hasTime, hasID bool) {
	hasID = id.Kind != IdentityField
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
	return hasTime, hasID
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
