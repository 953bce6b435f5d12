package usage

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// JSONLines parses one JSON object per line. Each record field is read from the first key of its
// candidate list that the object has; Fields overrides the candidates.
type JSONLines struct {
	keys    [jsonKeyCount][]string
	idField string
}

const (
	jTime = iota
	jHost
	jMethod
	jPath
	jRequest
	jStatus
	jBytes
	jUA
	jReferer
	jUser
	jsonKeyCount
)

var jsonKeyNames = [jsonKeyCount]string{"time", "ip", "method", "path", "request", "status", "bytes", "ua", "referer", "user"}

// Default candidates: the names nginx's escape=json formats, Caddy, Traefik and Logstash use.
var jsonDefaults = [jsonKeyCount][]string{
	jTime:    {"time", "timestamp", "@timestamp", "ts", "time_local", "time_iso8601", "StartUTC", "start_time"},
	jHost:    {"remote_addr", "ip", "client_ip", "clientip", "ClientHost", "ClientAddr", "remote_ip", "client"},
	jMethod:  {"method", "request_method", "RequestMethod", "verb"},
	jPath:    {"path", "uri", "request_uri", "RequestPath", "url"},
	jRequest: {"request"},
	jStatus:  {"status", "status_code", "DownstreamStatus", "response", "code"},
	jBytes:   {"bytes", "body_bytes_sent", "size", "DownstreamContentSize", "bytes_sent"},
	jUA:      {"user_agent", "http_user_agent", "ua", "agent", "request_User-Agent"},
	jReferer: {"referer", "http_referer", "referrer"},
	jUser:    {"remote_user", "user", "user_id"},
}

// jsonFormat builds the JSON lines format from "key=NAME,key=NAME".
func jsonFormat(spec string, id Identity) (*Format, error) {
	j := &JSONLines{keys: jsonDefaults}
	if spec != "" {
		for _, kv := range strings.Split(spec, ",") {
			k, v, ok := strings.Cut(kv, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			idx := -1
			for i, n := range jsonKeyNames {
				if n == k {
					idx = i
				}
			}
			if !ok || idx < 0 || v == "" {
				return nil, fmt.Errorf("json field %q: write KEY=NAME with KEY one of %s", kv, strings.Join(jsonKeyNames[:], ", "))
			}
			j.keys[idx] = []string{v}
		}
	}
	if id.Kind == IdentityField {
		j.idField = id.Field
	}
	name := "json"
	if spec != "" {
		name += ":" + spec
	}
	// Whether a JSON line carries the identity field is only known per line.
	return &Format{Name: name, Parser: j, HasID: true}, nil
}

// Parse implements Parser. JSON is not the hot path: it decodes with encoding/json.
func (j *JSONLines) Parse(line []byte, r *Record) error {
	var obj map[string]any
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &obj) != nil {
		return errJSON
	}
	get := func(k int) ([]byte, bool) {
		for _, name := range j.keys[k] {
			if v, ok := obj[name]; ok && v != nil {
				return jsonBytes(v), true
			}
		}
		return nil, false
	}
	t, ok := get(jTime)
	if !ok {
		return errJSONTime
	}
	var err error
	if r.Unix, r.Offset, err = parseAnyTime(t); err != nil {
		return err
	}
	if h, ok := get(jHost); ok {
		if i := strings.LastIndexByte(string(h), ':'); i > 0 && strings.Count(string(h), ":") == 1 {
			h = h[:i] // "1.2.3.4:5678" (Caddy, Traefik)
		}
		if !printable(h) {
			return errHostText
		}
		r.Host = h
	} else {
		r.Host = dash
	}
	if m, ok := get(jMethod); ok {
		r.Method = m
	}
	if p, ok := get(jPath); ok {
		setTarget(p, r)
	} else if q, ok := get(jRequest); ok {
		parseRequest(q, r)
	} else {
		r.Path = dash
	}
	if s, ok := get(jStatus); ok {
		n, ok := atoi(s)
		if !ok || n > 999 {
			return errStatus
		}
		r.Status = int(n)
	}
	if b, ok := get(jBytes); ok {
		if n, ok := atoi(b); ok {
			r.Bytes = n
		}
	}
	r.UA, _ = get(jUA)
	r.Referer, _ = get(jReferer)
	r.User, _ = get(jUser)
	if j.idField != "" {
		if v, ok := obj[j.idField]; ok && v != nil {
			r.ID = jsonBytes(v)
		} else if j.idField == "remote_user" {
			r.ID = r.User
		}
	}
	return nil
}

func jsonBytes(v any) []byte {
	switch x := v.(type) {
	case string:
		return []byte(x)
	case float64:
		if x == float64(int64(x)) {
			return strconv.AppendInt(nil, int64(x), 10)
		}
		return strconv.AppendFloat(nil, x, 'f', -1, 64)
	case bool:
		return strconv.AppendBool(nil, x)
	}
	b, _ := json.Marshal(v)
	return b
}
