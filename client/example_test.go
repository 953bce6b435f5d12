package client_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store/sqlite"
	"github.com/sunsetops/sunset/web"
)

// exampleServer starts a Sunset server on a fresh SQLite database, as `sunset serve` does, and
// returns its URL and a function that stops it.
func exampleServer() (string, func()) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sunset-example")
	if err != nil {
		log.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "sunset.db"))
	if err != nil {
		log.Fatal(err)
	}
	eng, err := engine.New(engine.Config{Store: db, Clock: sunset.NewFixedClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		log.Fatal(err)
	}
	srv := &web.Server{Engine: eng, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ts := httptest.NewServer(srv.Handler())
	return ts.URL, func() { ts.Close(); eng.Stop(); db.Close(); os.RemoveAll(dir) }
}

// Example applies a plan to a Sunset server and reads back where its sunset stands.
func Example() {
	url, stop := exampleServer()
	defer stop()

	c := &client.Client{BaseURL: url, Actor: "release-bot"}
	ctx := context.Background()
	res, err := c.Apply(ctx, "billing.yaml", []byte(testPlan))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", res.Created)
	st, err := c.Get(ctx, "billing-v1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Name, st.State, st.Awaiting)
	// Output:
	// created: true
	// billing-v1 draft [legal]
}
