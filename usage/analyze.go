package usage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxLineBytes is the longest line read; a longer one is counted as malformed and skipped
// without being held in memory.
const MaxLineBytes = 1 << 20

// blockSize is how much one worker parses at a time. It is larger than MaxLineBytes so that any
// acceptable line fits in one block, and no larger: the buffers (workers+2 of them) are a
// fixed part of the peak memory.
const blockSize = MaxLineBytes + 64<<10

// Options configure an analysis. The zero value reads any detected format, names consumers by
// IP, and computes the heatmap in UTC.
type Options struct {
	// Format is the log format; nil detects it per input from its first lines.
	Format *Format
	// Identity names consumers.
	Identity Identity
	// Location is the time zone of the heatmap and quiet windows (UTC when nil).
	Location *time.Location
	// Features maps routes to features (the plan's); none means no feature table.
	Features []FeatureRoutes
	// Contacts joins consumer ids to names and tiers.
	Contacts map[string]Contact
	// Window is the length of the recommended quiet windows (default 2h, whole hours).
	Window time.Duration
	// Windows is how many quiet windows to recommend (default 3).
	Windows int
	// Top is how many consumers to list (default 10); endpoints list up to 10×Top (at least 100).
	Top int
	// Hourly keeps requests per feature, consumer and UTC hour, for Result.HourlyCounts (what
	// the control plane stores). It costs memory per consumer-hour, so it is off by default.
	Hourly bool
	// Workers is the number of parsing goroutines (default GOMAXPROCS).
	Workers int
	// Progress, when set, is called with the bytes read so far (compressed bytes for compressed
	// inputs) and the total size of the inputs (-1 when unknown), at most a few times a second.
	Progress func(done, total int64)
}

// block is a run of whole lines from one input.
type block struct {
	seq      int
	input    int
	format   *Format
	data     []byte
	buf      *[]byte // returned to the pool when parsed
	oversize bool    // data is the start of a single line longer than the buffer
}

// Analyze reads every input and answers the usage questions. An input that cannot be opened or
// read is reported in the result (Inputs[i].Error) and the others are still analysed; the error
// returned is for problems that stop the whole analysis (bad options, a cancelled context).
func Analyze(ctx context.Context, inputs []Input, opts Options) (*Result, error) {
	a, in, err := analyze(ctx, inputs, &opts)
	if err != nil {
		return nil, err
	}
	return a.result(in, &opts), nil
}

// inputState is what the reader learned about one input.
type inputState struct {
	name   string
	format string
	err    error
	blocks []int // sequence numbers of its blocks
}

func analyze(ctx context.Context, inputs []Input, opts *Options) (*aggregate, []inputState, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var matchers []*featureMatcher
	if len(opts.Features) > 0 {
		for range workers {
			m, err := newFeatureMatcher(opts.Features)
			if err != nil {
				return nil, nil, err
			}
			matchers = append(matchers, m)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// A bounded set of buffers bounds memory: they are made as needed (a small input needs
	// one), and the reader waits when every buffer is being parsed. One per worker and two
	// being filled or queued keep every worker busy.
	free := make(chan *[]byte, workers+2)
	work := make(chan *block, workers)
	var (
		mu         sync.Mutex
		blockLines []int
	)
	setLines := func(seq, n int) {
		mu.Lock()
		for len(blockLines) <= seq {
			blockLines = append(blockLines, 0)
		}
		blockLines[seq] = n
		mu.Unlock()
	}

	aggs := make([]*aggregate, workers)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{a: newAggregate(len(opts.Features)), id: opts.Identity, loc: opts.Location, howQuarter: -1 << 62, hourly: opts.Hourly}
		if matchers != nil {
			w.match = matchers[i]
		}
		aggs[i] = w.a
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				setLines(b.seq, w.block(b))
				if b.buf != nil {
					free <- b.buf
				}
			}
		}()
	}

	var total int64
	var done atomic.Int64
	stopProgress := startProgress(opts.Progress, &done, &total)

	r := &reader{ctx: ctx, free: free, work: work, opts: opts, done: &done}
	states := r.readAll(inputs, &total)
	close(work)
	wg.Wait()
	stopProgress()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}

	all := aggs[0]
	for i := 1; i < len(aggs); i++ {
		all.merge(aggs[i])
		aggs[i] = nil // a merged worker's tables are garbage: let the collector have them
	}
	numberExamples(all, states, blockLines)
	return all, states, nil
}

// startProgress calls progress with the bytes read so far (done) and the inputs' total size
// every 200ms until the returned function is called, which reports a last time. Without a
// progress function it does nothing. total is read and written atomically.
func startProgress(progress func(done, total int64), done *atomic.Int64, total *int64) (stop func()) {
	if progress == nil {
		return func() {}
	}
	*total = 0
	tick := time.NewTicker(200 * time.Millisecond)
	quit := make(chan struct{})
	var pwg sync.WaitGroup
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		for {
			select {
			case <-tick.C:
				progress(done.Load(), atomic.LoadInt64(total))
			case <-quit:
				return
			}
		}
	}()
	return func() {
		tick.Stop()
		close(quit)
		pwg.Wait()
		progress(done.Load(), atomic.LoadInt64(total))
	}
}

// readAll reads the inputs one after the other into blocks, adding their sizes to total (-1
// once one is unknown), and returns what it learned about each. An input that cannot be opened
// or read keeps its error; a cancelled context stops the reading.
func (r *reader) readAll(inputs []Input, total *int64) []inputState {
	states := make([]inputState, len(inputs))
	for i, in := range inputs {
		states[i].name = in.Name
		rc, size, err := in.Open()
		if err != nil {
			states[i].err = err
			continue
		}
		if size < 0 || *total < 0 {
			atomic.StoreInt64(total, -1)
		} else {
			atomic.AddInt64(total, size)
		}
		err = r.read(i, rc, &states[i])
		rc.Close()
		if err != nil {
			states[i].err = err
		}
		if r.ctx.Err() != nil {
			break
		}
	}
	return states
}

// numberExamples turns the malformed examples' block-relative line numbers into line numbers
// in their inputs, and their blocks into the inputs' indexes: a block's first line follows the
// lines of the earlier blocks of its input. blockLines is the number of lines per block.
func numberExamples(all *aggregate, states []inputState, blockLines []int) {
	startLine := make([]int, len(blockLines))
	for i := range states {
		n := 0
		for _, seq := range states[i].blocks {
			startLine[seq] = n
			n += blockLines[seq]
		}
	}
	seqInput := make([]int, len(blockLines))
	for i := range states {
		for _, seq := range states[i].blocks {
			seqInput[seq] = i
		}
	}
	for i := range all.examples {
		e := &all.examples[i]
		e.line += startLine[e.block]
		e.block = seqInput[e.block]
	}
}

// reader cuts inputs into blocks of whole lines.
type reader struct {
	ctx  context.Context
	free chan *[]byte
	work chan *block
	opts *Options
	done *atomic.Int64
	seq  int
	made int // buffers made so far, at most cap(free)
}

func (r *reader) get() (*[]byte, error) {
	select {
	case b := <-r.free:
		return b, nil
	default:
	}
	if r.made < cap(r.free) {
		r.made++
		b := make([]byte, blockSize)
		return &b, nil
	}
	select {
	case b := <-r.free:
		return b, nil
	case <-r.ctx.Done():
		return nil, r.ctx.Err()
	}
}

func (r *reader) send(b *block, st *inputState) error {
	b.seq = r.seq
	r.seq++
	st.blocks = append(st.blocks, b.seq)
	select {
	case r.work <- b:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

// countingReader counts the raw bytes read, for the progress bar.
type countingReader struct {
	r    io.Reader
	done *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.done.Add(int64(n))
	return n, err
}

func (r *reader) read(idx int, rc io.Reader, st *inputState) error {
	src, closeSrc, err := decompress(countingReader{rc, r.done})
	if err != nil {
		return err
	}
	defer closeSrc()
	format := r.opts.Format
	var carry []byte
	eof := false
	for !eof {
		bp, err := r.get()
		if err != nil {
			return err
		}
		buf := (*bp)[:cap(*bp)]
		n := copy(buf, carry)
		for n < len(buf) {
			m, err := src.Read(buf[n:])
			n += m
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				r.free <- bp
				return fmt.Errorf("read: %v", err)
			}
		}
		data := buf[:n]
		if format == nil {
			f, err := Detect(data[:min(len(data), 64<<10)], r.opts.Identity)
			if err != nil {
				r.free <- bp
				return err
			}
			format = f
		}
		st.format = format.Name
		if !format.HasID {
			r.free <- bp
			return fmt.Errorf("the %s format does not log %s: pass --format with the server's log_format/LogFormat that logs it, or --identify ip", format.Name, r.opts.Identity)
		}
		if eof {
			carry = nil
			if len(data) == 0 {
				r.free <- bp
				break
			}
			if err := r.send(&block{input: idx, format: format, data: data, buf: bp}, st); err != nil {
				return err
			}
			break
		}
		cut := lastNewline(data)
		if cut < 0 {
			// One line fills the whole buffer: count it as too long and skip to its end.
			prefix := append([]byte(nil), data[:min(len(data), 200)]...)
			r.free <- bp
			if err := r.send(&block{input: idx, format: format, data: prefix, oversize: true}, st); err != nil {
				return err
			}
			rest, err := skipLine(src)
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fmt.Errorf("read: %v", err)
			}
			carry = rest
			continue
		}
		// Copy the partial last line aside before the block is handed over.
		carry = append(carry[:0:0], data[cut+1:]...)
		if err := r.send(&block{input: idx, format: format, data: data[:cut+1], buf: bp}, st); err != nil {
			return err
		}
	}
	return nil
}

func lastNewline(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			return i
		}
	}
	return -1
}

// skipLine reads up to and including the next newline and returns what followed it in the last
// read.
func skipLine(src io.Reader) ([]byte, error) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if i := indexByte(buf[:n], '\n'); i >= 0 {
			return append([]byte(nil), buf[i+1:n]...), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// exampleText makes a malformed line printable: valid UTF-8, control bytes shown as \xNN, and
// at most 160 bytes.
func exampleText(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b) && sb.Len() < 160; {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&sb, `\x%02x`, b[i])
		case !unicode.IsPrint(r) && r != ' ':
			if r < 0x100 {
				fmt.Fprintf(&sb, `\x%02x`, r)
			} else {
				fmt.Fprintf(&sb, `\u%04x`, r)
			}
		default:
			sb.WriteRune(r)
		}
		i += size
	}
	if sb.Len() >= 160 || len(b) > 160 {
		sb.WriteString("…")
	}
	return sb.String()
}
