package feedback

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestTheChineseDictionaryLoads(t *testing.T) {
	th := themer()
	if err := th.Load(); err != nil {
		t.Fatal(err)
	}
	// The whole of gse's simplified-Chinese dictionary: 352,279 lines.
	if n := th.seg.Dict.NumTokens(); n < 300000 {
		t.Errorf("the dictionary holds %d words, want the whole of it (about 350,000)", n)
	}
	if got := th.Tokens("导出链接打不开"); strings.Join(got, "|") != "导出|链接|打不开" {
		t.Errorf("Tokens = %q, want words", got)
	}
}

func TestADictionaryThatDoesNotLoadTurnsThemesOffLoudly(t *testing.T) {
	for name, dict := range map[string][]byte{
		"not zstd":  []byte("导出 3 v\n"),
		"truncated": zhDict[:len(zhDict)/2],
		"no words":  {0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x00, 0x01, 0x00, 0x00, 0x99, 0xe9, 0xd8, 0x51}, // an empty file, compressed
	} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			th := &Themer{Logger: slog.New(slog.NewTextHandler(&logs, nil)), dict: dict}
			if err := th.Load(); err == nil || !strings.Contains(err.Error(), "Chinese dictionary") {
				t.Fatalf("Load = %v, want the dictionary's error", err)
			}
			texts := []string{"export link broken", "export link broken again"}
			if got := th.Themes(texts, 5); len(got) != 0 {
				t.Errorf("Themes = %v, want none rather than themes of badly split words", got)
			}
			if got := th.Tokens("导出链接"); got != nil {
				t.Errorf("Tokens = %q, want nil", got)
			}
			if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), "feedback themes are off") {
				t.Errorf("logged %d errors, want one:\n%s", n, logs.String())
			}
		})
	}
}
