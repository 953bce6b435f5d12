package backup

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// progress prints how much work is done on w about once a second, for long work on a terminal.
type progress struct {
	w     io.Writer
	what  string
	total int64
	done  atomic.Int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startProgress(w io.Writer, what string, total int64) *progress {
	p := &progress{w: w, what: what, total: total, start: time.Now(), stop: make(chan struct{})}
	if w == nil {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.print("\r")
			}
		}
	}()
	return p
}

func (p *progress) add(n int64) { p.done.Add(n) }

func (p *progress) print(prefix string) {
	d := p.done.Load()
	secs := time.Since(p.start).Seconds()
	rate := float64(d) / max(secs, 1e-9) / (1 << 20)
	if p.total > 0 {
		fmt.Fprintf(p.w, "%s%s: %s / %s (%.0f%%), %.0f MiB/s   ", prefix, p.what, FormatSize(d), FormatSize(p.total), 100*float64(d)/float64(p.total), rate)
	} else {
		fmt.Fprintf(p.w, "%s%s: %s, %.0f MiB/s   ", prefix, p.what, FormatSize(d), rate)
	}
}

// finish stops the ticker and prints the final figure on its own line.
func (p *progress) finish() {
	if p.w == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.print("\r")
	fmt.Fprintf(p.w, "in %.1fs\n", time.Since(p.start).Seconds())
}

// FormatSize writes a byte count with a binary unit: 512 B, 3.5 KiB, 20.1 MiB, 1.95 GiB.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
