package startstop

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestStopBeforeStartAndTwice(t *testing.T) {
	var l Loop
	l.Stop()
	ran := make(chan struct{})
	if err := l.Start(context.Background(), func(ctx context.Context) { close(ran); <-ctx.Done() }); err != nil {
		t.Fatal(err)
	}
	<-ran
	if err := l.Start(context.Background(), func(context.Context) {}); !errors.Is(err, ErrStarted) {
		t.Errorf("second start: %v, want ErrStarted", err)
	}
	l.Stop()
	l.Stop()
	if err := l.Start(context.Background(), func(context.Context) {}); err != nil {
		t.Errorf("start after stop: %v", err)
	}
	l.Stop()
}

func TestEveryTicksUntilStopped(t *testing.T) {
	var l Loop
	var n atomic.Int32
	if err := l.Every(context.Background(), time.Millisecond, func(context.Context) { n.Add(1) }); err != nil {
		t.Fatal(err)
	}
	for n.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	l.Stop()
	after := n.Load()
	time.Sleep(5 * time.Millisecond)
	if n.Load() != after {
		t.Error("ticked after Stop returned")
	}
}
