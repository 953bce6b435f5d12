package gateway

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file holds parsers written from the RFCs for the tests, independent of the code that
// formats the headers: an RFC 9651 (RFC 8941 successor) Date item, an RFC 9110 IMF-fixdate, and
// RFC 8288 Link values.

// parseSFDate reads a Structured Field Date item: "@" then an Integer (optional "-", 1 to 15
// digits), with no parameters.
func parseSFDate(v string) (int64, error) {
	if !strings.HasPrefix(v, "@") {
		return 0, errors.New(`a date starts with "@"`)
	}
	s := v[1:]
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 15 {
		return 0, errors.New("an integer has 1 to 15 digits")
	}
	var n int64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a digit", c)
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// parseIMFFixdate reads an RFC 9110 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT", exactly 29
// bytes, and checks the day name against the date.
func parseIMFFixdate(v string) (time.Time, error) {
	days := []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	months := []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	if len(v) != 29 || v[3:5] != ", " || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' || v[19] != ':' || v[22] != ':' || v[25:] != " GMT" {
		return time.Time{}, fmt.Errorf("%q is not shaped as an IMF-fixdate", v)
	}
	num := func(s string) (int, error) {
		for _, c := range []byte(s) {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%q is not a number", s)
			}
		}
		return strconv.Atoi(s)
	}
	day, err1 := num(v[5:7])
	year, err2 := num(v[12:16])
	hh, err3 := num(v[17:19])
	mm, err4 := num(v[20:22])
	ss, err5 := num(v[23:25])
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return time.Time{}, err
	}
	month := -1
	for i, m := range months {
		if v[8:11] == m {
			month = i + 1
		}
	}
	if month < 0 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, fmt.Errorf("%q has a field out of range", v)
	}
	t := time.Date(year, time.Month(month), day, hh, mm, ss, 0, time.UTC)
	if t.Day() != day || days[t.Weekday()] != v[:3] {
		return time.Time{}, fmt.Errorf("%q names the wrong day", v)
	}
	return t, nil
}

// link is one parsed link of a Link header.
type link struct {
	uri    string
	params map[string]string
}

// parseLinks reads an RFC 8288 Link field value: links of the form <URI> followed by
// ;-separated parameters whose values are tokens or quoted strings, separated by commas.
func parseLinks(v string) ([]link, error) {
	var out []link
	s := strings.TrimSpace(v)
	for s != "" {
		if s[0] != '<' {
			return nil, fmt.Errorf("link must start with '<': %q", s)
		}
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return nil, errors.New("unterminated <URI>")
		}
		l := link{uri: s[1:end], params: map[string]string{}}
		s = strings.TrimLeft(s[end+1:], " ")
		for strings.HasPrefix(s, ";") {
			s = strings.TrimLeft(s[1:], " ")
			eq := strings.IndexByte(s, '=')
			if eq <= 0 {
				return nil, fmt.Errorf("parameter without value: %q", s)
			}
			name := strings.ToLower(strings.TrimSpace(s[:eq]))
			s = s[eq+1:]
			var val string
			if strings.HasPrefix(s, `"`) {
				q := strings.IndexByte(s[1:], '"')
				if q < 0 {
					return nil, errors.New("unterminated quoted string")
				}
				val, s = s[1:q+1], s[q+2:]
			} else {
				e := strings.IndexAny(s, ";,")
				if e < 0 {
					e = len(s)
				}
				val, s = strings.TrimSpace(s[:e]), s[e:]
			}
			l.params[name] = val
			s = strings.TrimLeft(s, " ")
		}
		out = append(out, l)
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("expected ',' between links: %q", s)
		}
		s = strings.TrimLeft(s[1:], " ")
	}
	return out, nil
}
