package feedback

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/go-ego/gse"
	"github.com/klauspost/compress/zstd"
)

// zhDict is gse's simplified-Chinese dictionary (its data/dict/zh/s_1.txt, see dict/README.md),
// zstd-compressed: 1.6 MB in the binary instead of gse's own embedded dictionaries (Japanese and
// both Chinese ones, 38 MB), which stay out of the binary as long as nothing here calls gse's
// LoadDictEmbed or NewEmbed.
//
//go:embed dict/zh_s.txt.zst
var zhDict []byte

// Theme is a key phrase of the feedback text.
type Theme struct {
	Phrase string `json:"phrase"`
	// Lang is "en" or "zh".
	Lang string `json:"lang"`
	// Count is how many messages mention it.
	Count int `json:"count"`
}

// Themer finds the themes of feedback text in English and Chinese. Chinese is segmented into
// words with gse (a maintained segmenter) and its simplified-Chinese dictionary, not split into
// characters. The dictionary is loaded on first use (about 2 s and 100–200 MB); a Themer is safe
// for concurrent use and meant to be made once per process.
//
// A dictionary that cannot be loaded is an error, never a silent fallback to worse words: Load
// returns it, and Tokens and Themes then find nothing and log it (once, at level ERROR).
type Themer struct {
	// Logger receives the dictionary's load error; nil means slog.Default().
	Logger *slog.Logger

	// dict is the compressed dictionary; nil means zhDict (tests give a damaged one).
	dict []byte
	once sync.Once
	seg  gse.Segmenter
	err  error
}

// NewThemer returns a Themer; the dictionary loads on first use.
func NewThemer() *Themer { return &Themer{} }

// Load loads the dictionary if it is not loaded yet and returns the load's error, the same on
// every call. Callers may call it early to fail at start rather than at the first summary.
func (t *Themer) Load() error {
	t.once.Do(func() {
		dict := t.dict
		if dict == nil {
			dict = zhDict
		}
		t.err = t.load(dict)
		if t.err != nil {
			logger := t.Logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.Error("feedback themes are off: the Chinese dictionary did not load", "err", t.err)
		}
	})
	return t.err
}

// load decompresses dict and loads it into the segmenter. gse's loader reports no error of its
// own (it skips lines it cannot read), so an empty result is one.
func (t *Themer) load(dict []byte) error {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return fmt.Errorf("feedback: Chinese dictionary: %w", err)
	}
	defer dec.Close()
	text, err := dec.DecodeAll(dict, nil)
	if err != nil {
		return fmt.Errorf("feedback: Chinese dictionary: %w", err)
	}
	t.seg.SkipLog = true
	if err := t.seg.LoadDictStr(string(text)); err != nil {
		return fmt.Errorf("feedback: Chinese dictionary: %w", err)
	}
	if t.seg.Dict == nil || t.seg.Dict.NumTokens() == 0 {
		return errors.New("feedback: Chinese dictionary: no words in it")
	}
	return nil
}

// Tokens splits text into lower-case words: English words as they are, Chinese segmented.
// Punctuation and spaces are dropped. It returns nil when the dictionary did not load (see
// Load).
func (t *Themer) Tokens(text string) []string {
	if t.Load() != nil {
		return nil
	}
	var out []string
	for _, tok := range t.seg.Cut(strings.ToLower(text), true) {
		tok = strings.TrimFunc(tok, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if tok != "" {
			out = append(out, tok)
		}
	}
	return out
}

// Themes returns up to n key phrases of texts, each mentioned by at least two messages: first
// two-word phrases ("export link", "下载链接"), then single words that no chosen phrase already
// covers. Stop words of both languages are left out. It returns none when the dictionary did
// not load (see Load).
func (t *Themer) Themes(texts []string, n int) []Theme {
	if t.Load() != nil {
		return []Theme{}
	}
	uni := map[string]int{}
	bi := map[string]int{}
	lang := map[string]string{}
	for _, text := range texts {
		seenU, seenB := map[string]bool{}, map[string]bool{}
		toks := t.Tokens(text)
		var prev string
		for _, tok := range toks {
			content := isContent(tok)
			if content && !seenU[tok] {
				seenU[tok] = true
				uni[tok]++
				lang[tok] = langOf(tok)
			}
			if content && prev != "" && langOf(prev) == langOf(tok) {
				phrase := prev + " " + tok
				if langOf(tok) == "zh" {
					phrase = prev + tok
				}
				if !seenB[phrase] {
					seenB[phrase] = true
					bi[phrase]++
					lang[phrase] = langOf(tok)
				}
			}
			if content {
				prev = tok
			} else {
				prev = ""
			}
		}
	}
	type cand struct {
		phrase string
		count  int
		parts  []string
	}
	var bis, unis []cand
	for p, c := range bi {
		if c >= 2 {
			parts := strings.Fields(p)
			if len(parts) == 1 { // Chinese: the parts are not space-separated
				parts = nil
			}
			bis = append(bis, cand{p, c, parts})
		}
	}
	for p, c := range uni {
		if c >= 2 {
			unis = append(unis, cand{p, c, nil})
		}
	}
	byCount := func(cs []cand) {
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].count != cs[j].count {
				return cs[i].count > cs[j].count
			}
			return cs[i].phrase < cs[j].phrase
		})
	}
	byCount(bis)
	byCount(unis)
	var out []Theme
	covered := map[string]int{} // word → count of the phrase that covers it
	for _, b := range bis {
		if len(out) >= n/2 {
			break
		}
		out = append(out, Theme{Phrase: b.phrase, Lang: lang[b.phrase], Count: b.count})
		for _, u := range unis {
			if strings.Contains(b.phrase, u.phrase) && covered[u.phrase] < b.count {
				covered[u.phrase] = b.count
			}
		}
	}
	for _, u := range unis {
		if len(out) >= n {
			break
		}
		// A word stays a theme of its own when it is much more frequent than the phrase
		// that contains it.
		if c, ok := covered[u.phrase]; ok && u.count < 2*c {
			continue
		}
		out = append(out, Theme{Phrase: u.phrase, Lang: lang[u.phrase], Count: u.count})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

func langOf(tok string) string {
	for _, r := range tok {
		if unicode.Is(unicode.Han, r) {
			return "zh"
		}
	}
	return "en"
}

// isContent reports whether tok may be part of a theme: not a stop word, not a number, and for
// Chinese at least two characters (single characters are nearly all function words).
func isContent(tok string) bool {
	if stopwords[tok] {
		return false
	}
	if strings.IndexFunc(tok, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		return false
	}
	if langOf(tok) == "zh" {
		return len([]rune(tok)) >= 2
	}
	return len(tok) >= 3
}

var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
a about above after again against all also am an and any are aren't as at be because been before
being below between both but by can can't cannot could did do does doing don't down during each few
for from further had has have having he her here hers herself him himself his how i if in into is it
its itself just let me most my myself no nor not now of off on once only or other our ours out
over own same she should so some such than that the their theirs them then there these they this
those through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself please thanks thank still even really much many get got make
need needs want would like one two use using used new old yet already since back way able
us let's it's i'm we're you're isn't doesn't didn't won't
我 我们 你 你们 他 她 它 他们 的 了 是 在 和 与 及 也 都 就 还 又 很 太 非常 比较 一个 一些 这个 那个 这 那
有 没有 没 不 会 能 可以 要 想 希望 请 谢谢 吗 呢 吧 啊 哦 对 把 被 让 给 从 到 上 下 中 里 后 前 时候
因为 所以 但是 但 而且 如果 还是 或者 已经 现在 目前 之后 之前 什么 怎么 为什么 如何 一直 一下 一定 真的 还有
我们的 你们的 觉得 感觉 需要 问题 服务 自己 版本 新版本 旧版本 这样 那样 为了 关于 进行 已经 然后 其他 所有 每个 一样 这么
`) {
		m[w] = true
	}
	return m
}()
