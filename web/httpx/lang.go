package httpx

import (
	"net/http"

	"golang.org/x/text/language"
)

// pageLanguages are the pages' languages, the first being the fallback.
var pageLanguages = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})

// PageLanguage picks a page's language tag ("en" or "zh-Hans"): ?lang= first, then
// Accept-Language, then English.
func PageLanguage(r *http.Request) string {
	prefs := []string{r.URL.Query().Get("lang"), r.Header.Get("Accept-Language")}
	for _, p := range prefs {
		if p == "" {
			continue
		}
		tags, _, err := language.ParseAcceptLanguage(p)
		if err != nil || len(tags) == 0 {
			continue
		}
		_, i, conf := pageLanguages.Match(tags...)
		if conf == language.No {
			continue
		}
		if i == 1 {
			return "zh-Hans"
		}
		return "en"
	}
	return "en"
}

// ShortLang is the ?lang= value of a language tag: "zh" for Chinese, else "en".
func ShortLang(lang string) string {
	if lang == "zh-Hans" {
		return "zh"
	}
	return "en"
}
