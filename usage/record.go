package usage

// Record is one parsed request. Its byte slices point into the line being parsed and are valid
// only until the next call to the parser; the aggregator copies what it keeps.
type Record struct {
	// Host is the client address as logged (an IP, or a host name with HostnameLookups).
	Host []byte
	// User is the authenticated user ("-" when absent).
	User []byte
	// Unix is the request instant in seconds since the Unix epoch.
	Unix int64
	// Offset is the UTC offset written in the log, in seconds east of UTC.
	Offset int32
	// Method is the request method; empty when the request line could not be split.
	Method []byte
	// Path is the request target without its query string; "-" when the request line could
	// not be split.
	Path []byte
	// Status is the response status; 0 when logged as "-".
	Status int
	// Bytes is the response size; 0 when logged as "-".
	Bytes int64
	// Referer and UA are the Referer and User-Agent headers ("-" or empty when absent).
	Referer []byte
	UA      []byte
	// ID is the consumer identity field (a header, a user id) when the format carries the one
	// asked for; nil otherwise.
	ID []byte
}

// reset clears r for the next line without releasing anything.
func (r *Record) reset() { *r = Record{} }

// lineError is a reason a line could not be parsed. Its values are constants, so returning one
// does not allocate.
type lineError string

func (e lineError) Error() string { return string(e) }

// The reasons a line is malformed.
const (
	errEmpty       lineError = "empty line"
	errTooLong     lineError = "line longer than the limit"
	errHost        lineError = "no client address at the start"
	errHostText    lineError = "client address is not printable text"
	errNoTime      lineError = "no [timestamp]"
	errTime        lineError = "timestamp is not dd/Mon/yyyy:hh:mm:ss ±hhmm"
	errDate        lineError = "impossible date or time"
	errNoRequest   lineError = "no quoted request line"
	errUnterminate lineError = "unterminated quoted field"
	errStatus      lineError = "status is not a number"
	errBytes       lineError = "size is not a number"
	errFormat      lineError = "line does not match the log format"
	errJSON        lineError = "not a JSON object"
	errJSONTime    lineError = "no usable time field"
)

// parseRequest splits a request line "METHOD TARGET PROTO" into r.Method and r.Path (the target
// without its query string). A request line that does not split ("-", garbage from a TLS
// handshake on a plain port) keeps the request but with an empty method and path "-".
func parseRequest(req []byte, r *Record) {
	sp := indexByte(req, ' ')
	if sp <= 0 {
		r.Method, r.Path = nil, dash
		return
	}
	r.Method = req[:sp]
	target := req[sp+1:]
	if e := lastIndexByte(target, ' '); e >= 0 {
		target = target[:e]
	}
	setTarget(target, r)
}

// setTarget sets r.Path to target without its query string or fragment.
func setTarget(target []byte, r *Record) {
	for i, c := range target {
		if c == '?' || c == '#' {
			target = target[:i]
			break
		}
	}
	if len(target) == 0 {
		target = dash
	}
	r.Path = target
}

var dash = []byte("-")

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func lastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// printable reports whether b is non-empty printable ASCII without spaces.
func printable(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// atoi parses a non-negative decimal number; "-" is 0. ok is false for anything else.
func atoi(b []byte) (n int64, ok bool) {
	if len(b) == 1 && b[0] == '-' {
		return 0, true
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
