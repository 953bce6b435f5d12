package ui

import (
	"testing"
	"time"
)

func TestUITextsHaveTheSameKeysInBothLanguages(t *testing.T) {
	en, zh := uiTexts["en"], uiTexts["zh-Hans"]
	for k := range en {
		if zh[k] == "" {
			t.Errorf("zh-Hans lacks %q", k)
		}
	}
	for k := range zh {
		if en[k] == "" {
			t.Errorf("en lacks %q", k)
		}
	}
}

func TestCountdownText(t *testing.T) {
	tests := []struct {
		lang string
		d    time.Duration
		want string
	}{
		{"en", 3*24*time.Hour + 4*time.Hour + 5*time.Minute, "in 3 d 4 h"},
		{"en", 2*time.Hour + 30*time.Minute, "in 2 h 30 min"},
		{"en", 59 * time.Second, "in 0 min"},
		{"en", -90 * time.Minute, "due 1 h 30 min ago"},
		{"zh-Hans", 26 * time.Hour, "还有 1 天 2 小时"},
		{"zh-Hans", -5 * time.Minute, "已过期 5 分钟"},
	}
	for _, tt := range tests {
		if got := countdown(tt.lang, tt.d); got != tt.want {
			t.Errorf("countdown(%s, %v) = %q, want %q", tt.lang, tt.d, got, tt.want)
		}
	}
}
