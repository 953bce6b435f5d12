package usage

import (
	"bytes"
	"fmt"
	"strings"
)

// Parser reads one log line into r. Implementations are safe for concurrent use: all per-line
// state lives in r. A non-nil error is the reason the line is malformed.
type Parser interface {
	Parse(line []byte, r *Record) error
}

// Format is a named log format ready to parse lines.
type Format struct {
	// Name is how the format is shown: "combined", "common", "json", "nginx:…", "apache:…".
	Name   string
	Parser Parser
	// HasID reports whether the format carries the identity field asked for.
	HasID bool
}

// ParseFormat turns a --format value into a Format for the identity id:
//
//	combined, common          NCSA formats (Apache and nginx defaults); one parser reads both
//	json[:key=NAME,...]       JSON lines; keys are time, ip, method, path, request, status,
//	                          bytes, ua, referer, user (defaults cover common field names)
//	nginx:LOG_FORMAT          an nginx log_format string ($remote_addr - $remote_user ...)
//	apache:LOGFORMAT          an Apache LogFormat string (%h %l %u %t \"%r\" ...)
//	a string with $ or %      the same, recognised by its variables
//
// "auto" and "" return a nil Format: detect it from each input's first lines.
func ParseFormat(spec string, id Identity) (*Format, error) {
	switch {
	case spec == "" || spec == "auto":
		return nil, nil
	case spec == "combined" || spec == "common":
		return combinedFormat(spec, id)
	case spec == "json" || strings.HasPrefix(spec, "json:"):
		return jsonFormat(strings.TrimPrefix(strings.TrimPrefix(spec, "json"), ":"), id)
	case strings.HasPrefix(spec, "nginx:"):
		return customFormat(spec[len("nginx:"):], true, id)
	case strings.HasPrefix(spec, "apache:"):
		return customFormat(spec[len("apache:"):], false, id)
	case strings.Contains(spec, "$"):
		return customFormat(spec, true, id)
	case strings.Contains(spec, "%"):
		return customFormat(spec, false, id)
	}
	return nil, fmt.Errorf("unknown log format %q: use auto, combined, common, json[:key=NAME,...], nginx:'LOG_FORMAT' or apache:'LOGFORMAT'", spec)
}

func combinedFormat(name string, id Identity) (*Format, error) {
	c := Combined{}
	has := id.Kind != IdentityField
	if id.Kind == IdentityField && (id.Field == "remote_user" || id.Field == "user") {
		c.UserID, has = true, true
	}
	return &Format{Name: name, Parser: c, HasID: has}, nil
}

// Detect names the format of the first lines of an input: JSON lines when they are objects,
// combined or common when the NCSA parser reads most of them. It fails when it cannot tell.
func Detect(sample []byte, id Identity) (*Format, error) {
	var tried, jsonLines, ncsa, withUA int
	var rec Record
	for len(sample) > 0 && tried < 50 {
		line := sample
		if i := bytes.IndexByte(sample, '\n'); i >= 0 {
			line, sample = sample[:i], sample[i+1:]
		} else {
			sample = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		tried++
		if line[0] == '{' {
			jsonLines++
			continue
		}
		rec.reset()
		if (Combined{}).Parse(line, &rec) == nil {
			ncsa++
			if rec.UA != nil {
				withUA++
			}
		}
	}
	switch {
	case tried == 0:
		return combinedFormat("combined", id) // empty input: any parser reads nothing
	case jsonLines*2 > tried:
		return jsonFormat("", id)
	case ncsa*2 > tried && withUA*2 > ncsa:
		return combinedFormat("combined", id)
	case ncsa*2 > tried:
		return combinedFormat("common", id)
	}
	return nil, fmt.Errorf("cannot detect the log format from the first %d lines (not JSON, not common or combined); pass --format, e.g. --format 'nginx:$remote_addr [$time_local] \"$request\" $status'", tried)
}
