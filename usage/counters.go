package usage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// CounterFormat is the --format name of the gateway's counter files.
const CounterFormat = "gateway"

// counterBatch is one line of a gateway counter file (`sunset gateway --usage-file`): the
// requests counted per feature, consumer and hour since the previous flush. It reads the fields
// of Batch that the analysis needs, with a signed count, so that a hand-edited negative count
// adds nothing instead of making its whole line malformed.
type counterBatch struct {
	Gateway string         `json:"gateway"`
	Seq     int64          `json:"seq"`
	Counts  []counterCount `json:"counts"`
}

// counterCount is one count of a counterBatch.
type counterCount struct {
	Feature  string    `json:"feature"`
	Consumer string    `json:"consumer"`
	Hour     time.Time `json:"hour"`
	Count    int64     `json:"count"`
}

// maxCounterLine bounds one flush line: a busy gateway's flush of a minute fits many times.
const maxCounterLine = 64 << 20

// IsCounterLine reports whether line is a gateway counter batch (a JSON object with a
// gateway id, a sequence number and counts), so that counter files are recognised without
// --format gateway.
func IsCounterLine(line []byte) bool {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(line, &probe) != nil {
		return false
	}
	_, g := probe["gateway"]
	_, seq := probe["seq"]
	_, counts := probe["counts"]
	return g && seq && counts
}

// AnalyzeCounters answers the usage questions from the gateway's counter files instead of
// access logs. Each count adds its requests at the start of its hour for its consumer and
// feature; the endpoint of a count is "feature:NAME" (the gateway counts features, not paths),
// or "-" for requests outside every feature. A batch seen twice (the same gateway and sequence
// number, as when files overlap) is counted once. Lines counts requests plus malformed lines,
// so that parsed + malformed = lines holds as it does for logs.
func AnalyzeCounters(ctx context.Context, inputs []Input, opts Options) (*Result, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	w := &worker{a: newAggregate(len(opts.Features)), id: opts.Identity, loc: opts.Location, howQuarter: -1 << 62, hourly: opts.Hourly}
	featureIdx := make(map[string]int, len(opts.Features))
	for i, f := range opts.Features {
		featureIdx[f.Name] = i
	}
	seen := map[string]map[int64]bool{}
	states := make([]inputState, len(inputs))
	for i, in := range inputs {
		states[i] = inputState{name: in.Name, format: CounterFormat}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		states[i].err = w.readCounters(in, i, featureIdx, seen)
	}
	return w.a.result(states, &opts), nil
}

// readCounters adds the batches of one counter file; it returns why the file could not be
// read to its end.
func (w *worker) readCounters(in Input, idx int, featureIdx map[string]int, seen map[string]map[int64]bool) error {
	r, closeR, err := openDecompressed(in)
	if err != nil {
		return err
	}
	defer closeR()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxCounterLine)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var b counterBatch
		if err := json.Unmarshal(text, &b); err != nil {
			w.counterMalformed(idx, line, "not a gateway counter batch (JSON object)", text)
			continue
		}
		if b.Gateway == "" || b.Seq <= 0 {
			w.counterMalformed(idx, line, "batch without a gateway id and a positive seq", text)
			continue
		}
		if seen[b.Gateway] == nil {
			seen[b.Gateway] = map[int64]bool{}
		}
		if seen[b.Gateway][b.Seq] {
			continue // the same flush again: counted once
		}
		seen[b.Gateway][b.Seq] = true
		for _, c := range b.Counts {
			w.addCount(c, featureIdx)
		}
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return fmt.Errorf("%s:%d: a line longer than %d MiB", in.Name, line+1, maxCounterLine>>20)
		}
		return fmt.Errorf("%s: %v", in.Name, err)
	}
	return nil
}

// counterMalformed records a malformed counter line.
func (w *worker) counterMalformed(input, line int, reason string, text []byte) {
	a := w.a
	a.lines++
	a.malformed++
	a.reasons[reason]++
	if len(a.examples) < maxExamples {
		a.examples = append(a.examples, example{block: input, line: line, reason: reason, text: exampleText(text)})
	}
}

// addCount adds one count of a batch. A count that is not positive adds nothing.
func (w *worker) addCount(c counterCount, featureIdx map[string]int) {
	if c.Count <= 0 {
		return
	}
	consumer := []byte(c.Consumer)
	if len(consumer) == 0 {
		consumer = dash
	}
	path := dash
	if c.Feature != "" {
		path = []byte("feature:" + c.Feature)
	}
	r := Record{Host: consumer, ID: consumer, Path: path, Unix: c.Hour.Unix(), Offset: 0}
	w.a.lines += c.Count
	f, ok := featureIdx[c.Feature]
	if !ok {
		f = -1
	}
	w.addNFeature(&r, c.Count, f)
}

// SniffCounters reports whether the first input that is a file (not standard input, which can
// be read only once) starts with a gateway counter batch.
func SniffCounters(inputs []Input) bool {
	for _, in := range inputs {
		if in.Name == "-" {
			continue
		}
		r, closeR, err := openDecompressed(in)
		if err != nil {
			return false
		}
		defer closeR()
		br := bufio.NewReaderSize(r, 1<<16)
		for {
			line, err := br.ReadSlice('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				return IsCounterLine(line)
			}
			if err != nil {
				return false
			}
		}
	}
	return false
}

// openDecompressed opens in and undoes its compression; the function closes both.
func openDecompressed(in Input) (io.Reader, func(), error) {
	rc, _, err := in.Open()
	if err != nil {
		return nil, nil, err
	}
	r, closeR, err := decompress(rc)
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("%s: %v", in.Name, err)
	}
	return r, func() { closeR(); rc.Close() }, nil
}
