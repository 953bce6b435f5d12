// Package startstop is the one lifecycle that Sunset's long-running parts share (STYLE habit 7):
// a background loop that starts once, stops once, and is safe to stop before it starts and to
// stop twice.
package startstop

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrStarted is returned by Start when the loop already runs.
var ErrStarted = errors.New("already started")

// Loop runs one background goroutine. The zero value is ready to use; a Loop must not be copied
// after first use.
type Loop struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs run in a goroutine with a context that ends when ctx ends or Stop is called. It
// returns ErrStarted, and runs nothing, when the loop already runs.
func (l *Loop) Start(ctx context.Context, run func(ctx context.Context)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel != nil {
		return ErrStarted
	}
	ctx, l.cancel = context.WithCancel(ctx)
	done := make(chan struct{})
	l.done = done
	go func() {
		defer close(done)
		run(ctx)
	}()
	return nil
}

// Every starts a loop that calls tick every interval (the first call one interval after the
// start) until the loop is stopped or ctx ends.
func (l *Loop) Every(ctx context.Context, interval time.Duration, tick func(ctx context.Context)) error {
	return l.Start(ctx, func(ctx context.Context) {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			tick(ctx)
		}
	})
}

// Stop ends the loop's context and waits for the goroutine to return. It is safe to call before
// Start and more than once; after Stop the loop may be started again.
func (l *Loop) Stop() {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.cancel = nil
	l.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}
