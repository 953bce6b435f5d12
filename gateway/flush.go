package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/sunsetops/sunset/startstop"
	"github.com/sunsetops/sunset/usage"
)

// Batch is one flush of usage: the counts and first warnings since the previous flush, with the
// gateway's id and sequence number that make it idempotent. The type lives in the usage domain,
// so that the control plane's store reads it without importing the gateway.
type Batch = usage.Batch

// Sink receives usage batches.
type Sink interface {
	// Flush delivers b. An error means b was not stored; it is offered again later with the
	// same Seq.
	Flush(ctx context.Context, b Batch) error
}

// maxQueuedBatches bounds the batches kept while the sink fails; past it the oldest is dropped
// (and logged), so a long outage costs old counts, not memory.
const maxQueuedBatches = 360

// Flusher drains a Usage every Interval and delivers the batch to a Sink, retrying failed
// batches in order.
type Flusher struct {
	Usage    *Usage
	Sink     Sink
	Gateway  string        // this gateway's id; NewGatewayID makes one
	Interval time.Duration // zero means 1m
	Metrics  *Metrics
	Logger   *slog.Logger

	mu    sync.Mutex
	seq   int64
	queue []Batch
	life  startstop.Loop
}

// NewGatewayID returns an id for this gateway process: the host name and a random suffix, so
// that sequence numbers of two processes never collide.
func NewGatewayID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%s", host, hex.EncodeToString(b[:]))
}

// Flush drains the counters and delivers every queued batch, oldest first. It stops at the
// first failure, keeping the rest for next time.
func (f *Flusher) Flush(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	counts, aware := f.Usage.Drain()
	if len(counts) > 0 || len(aware) > 0 {
		f.seq++
		f.queue = append(f.queue, Batch{Gateway: f.Gateway, Seq: f.seq, Counts: counts, Aware: aware})
		if len(f.queue) > maxQueuedBatches {
			logger(f.Logger).Warn("usage sink down too long; dropping the oldest batch", slog.Int64("seq", f.queue[0].Seq))
			f.queue = f.queue[1:]
		}
	}
	for len(f.queue) > 0 {
		if err := f.Sink.Flush(ctx, f.queue[0]); err != nil {
			if f.Metrics != nil {
				f.Metrics.Flushes.WithLabelValues("error").Inc()
			}
			return err
		}
		if f.Metrics != nil {
			f.Metrics.Flushes.WithLabelValues("ok").Inc()
		}
		f.queue = f.queue[1:]
	}
	return nil
}

// Start flushes every Interval until Stop or ctx ends.
func (f *Flusher) Start(ctx context.Context) error {
	interval := f.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	_ = f.life.Every(ctx, interval, func(ctx context.Context) {
		if err := f.Flush(ctx); err != nil && ctx.Err() == nil {
			logger(f.Logger).Warn("usage flush failed; will retry", slog.String("error", err.Error()))
		}
	})
	return nil
}

// Stop ends the loop and makes a last flush, bounded by a few seconds, so that a graceful
// shutdown loses no counts when the sink is up. Safe before Start and twice.
func (f *Flusher) Stop() {
	f.life.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.Flush(ctx); err != nil {
		logger(f.Logger).Warn("last usage flush failed", slog.String("error", err.Error()))
	}
}

// FileSink appends each batch as one JSON line to a file: the standalone gateway's record.
type FileSink struct {
	Path string
	mu   sync.Mutex
}

// Flush appends b to the file.
func (s *FileSink) Flush(_ context.Context, b Batch) error {
	line, err := json.Marshal(b)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ServerSink posts batches to the control plane: POST {Server}/api/v1/sunsets/{Service}/usage.
type ServerSink struct {
	Server, Service string
	Client          *http.Client // nil means a client with a 10s timeout
}

// Flush posts b; any answer but 2xx is an error.
func (s *ServerSink) Flush(ctx context.Context, b Batch) error {
	body, err := json.Marshal(b)
	if err != nil {
		return err
	}
	u := s.Server + "/api/v1/sunsets/" + url.PathEscape(s.Service) + "/usage"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Sunset-Actor", "gateway:"+b.Gateway)
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("control plane answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
