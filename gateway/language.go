package gateway

import (
	"strconv"
	"strings"
)

// maxAcceptLanguage bounds how much of an Accept-Language header is read; real ones are a few
// dozen bytes.
const maxAcceptLanguage = 512

// language picks "zh" or "en" from an Accept-Language value: the one with the higher weight,
// English on a tie or when neither is named. Absurd values are read up to a bound and never
// fail.
func language(header string) string {
	if len(header) > maxAcceptLanguage {
		header = header[:maxAcceptLanguage]
	}
	var en, zh float64 = -1, -1
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		switch {
		case tag == "zh" || strings.HasPrefix(tag, "zh-"):
			zh = max(zh, q)
		case tag == "en" || strings.HasPrefix(tag, "en-"), tag == "*":
			en = max(en, q)
		}
	}
	if zh > 0 && zh > en {
		return "zh"
	}
	return "en"
}

// wantsHTML reports whether the client is a browser: its Accept names text/html before any JSON
// type.
func wantsHTML(accept string) bool {
	if len(accept) > maxAcceptLanguage {
		accept = accept[:maxAcceptLanguage]
	}
	h := strings.Index(accept, "text/html")
	if h < 0 {
		return false
	}
	j := strings.Index(accept, "json")
	return j < 0 || h < j
}
