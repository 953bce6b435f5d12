package usage

import "bytes"

// Combined parses NCSA common and combined log lines, the default formats of Apache
// (LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"") and nginx
// (log_format combined). A common line (without referer and user agent) is accepted too, and
// anything after the user agent (nginx's extra "$http_x_forwarded_for", Apache's %D) is ignored.
//
// It is hand-written rather than a regular expression because it is the hot path of every
// analysis: one pass over the line, no allocation, every field a sub-slice of the line. A user
// agent whose closing quote is missing (a truncated line) keeps the rest of the line, as awk and
// GoAccess do.
type Combined struct {
	// UserID makes the authenticated user (%u) the consumer identity.
	UserID bool
}

// Parse implements Parser.
func (c Combined) Parse(line []byte, r *Record) error {
	if err := c.parse(line, r); err != nil {
		return err
	}
	if c.UserID {
		r.ID = r.User
	}
	return nil
}

// parse reads a common or combined line into r in three steps: who and when (%h %l %u %t),
// what and how it went ("%r" %>s %b), and the combined format's referer and user agent.
func (Combined) parse(line []byte, r *Record) error {
	p, err := parseCLFHead(line, r)
	if err != nil {
		return err
	}
	if p, err = parseCLFRequest(line, p, r); err != nil {
		return err
	}
	parseCombinedTail(line, p, r)
	return nil
}

// parseCLFHead reads %h %l %u %t from the start of line into r and returns where the rest
// (the space before "%r") starts.
func parseCLFHead(line []byte, r *Record) (int, error) {
	// %h
	i := indexByte(line, ' ')
	if i <= 0 {
		return 0, errHost
	}
	r.Host = line[:i]
	if !printable(r.Host) {
		return 0, errHostText
	}
	p := i + 1
	// %l: skip.
	i = indexByte(line[p:], ' ')
	if i < 0 {
		return 0, errNoTime
	}
	p += i + 1
	// %u: up to " [". The user is usually "-"; a name with a space is kept whole.
	j := p
	for j+1 < len(line) && (line[j] != ' ' || line[j+1] != '[') {
		j++
	}
	if j+1 >= len(line) {
		return 0, errNoTime
	}
	r.User = line[p:j]
	p = j + 2
	// %t: [dd/Mon/yyyy:hh:mm:ss ±hhmm]
	if p+27 > len(line) || line[p+26] != ']' {
		return 0, errTime
	}
	var err error
	if r.Unix, r.Offset, err = parseCLFTime(line[p : p+26]); err != nil {
		return 0, err
	}
	return p + 27, nil
}

// parseCLFRequest reads ` "%r" %>s %b` from line[p:] into r and returns where the line goes on
// (its length when it ends there, as a common line does).
func parseCLFRequest(line []byte, p int, r *Record) (int, error) {
	// "%r"
	if p+1 >= len(line) || line[p] != ' ' || line[p+1] != '"' {
		return 0, errNoRequest
	}
	p += 2
	req, n, ok := quoted(line[p:])
	if !ok {
		return 0, errUnterminate
	}
	parseRequest(req, r)
	p += n
	// %>s
	if p >= len(line) || line[p] != ' ' {
		return 0, errStatus
	}
	field, p := spaceField(line, p+1)
	st, ok := atoi(field)
	if !ok || st > 999 {
		return 0, errStatus
	}
	r.Status = int(st)
	// %b
	if p >= len(line) {
		return 0, errBytes
	}
	field, p = spaceField(line, p+1)
	size, ok := atoi(field)
	if !ok {
		return 0, errBytes
	}
	r.Bytes = size
	return p, nil
}

// spaceField returns the field that starts at line[p] and ends before the next space or at the
// end of the line, and where it ends.
func spaceField(line []byte, p int) (field []byte, end int) {
	i := indexByte(line[p:], ' ')
	if i < 0 {
		return line[p:], len(line)
	}
	return line[p : p+i], p + i
}

// parseCombinedTail reads the combined format's ` "%{Referer}i" "%{User-agent}i"` from line[p:]
// into r when they are there. Anything else after a common line is ignored; a truncated referer
// or user agent keeps the rest of the line.
func parseCombinedTail(line []byte, p int, r *Record) {
	// Common format ends here.
	if p >= len(line) {
		return
	}
	// "%{Referer}i" "%{User-agent}i"
	if p+1 >= len(line) || line[p+1] != '"' {
		return // something else follows (a common log with extras): keep the request
	}
	p += 2
	ref, n, ok := quoted(line[p:])
	if !ok {
		r.Referer = line[p:]
		return
	}
	r.Referer = ref
	p += n
	if p+1 >= len(line) || line[p+1] != '"' {
		return
	}
	p += 2
	ua, _, ok := quoted(line[p:])
	if !ok {
		ua = line[p:] // truncated line: the rest is the user agent
	}
	r.UA = ua
}

// quoted returns the content of a quoted field that starts just after its opening quote, and how
// many bytes it spans including the closing quote. Backslash escapes (\" and \\) are skipped.
// The common case, a field without backslashes, costs two vectorised byte searches.
func quoted(b []byte) (content []byte, n int, ok bool) {
	if i := bytes.IndexByte(b, '"'); i >= 0 && bytes.IndexByte(b[:i], '\\') < 0 {
		return b[:i], i + 1, true
	}
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return b[:i], i + 1, true
		}
	}
	return b, len(b), false
}
