// Command contacts measures a campaign to a million users: a contacts file of N rows (about
// 60 MB at a million) is applied with its plan through a real `sunset serve` on SQLite — streamed
// by `sunset apply`, validated and stored in batches — and the announcement is fanned out to
// every contact into the outbox. It prints each phase's time, the server's peak RSS, and ratios
// against a baseline measured in the same run: the best plain bulk load of the same rows into
// the same table of a fresh store (one transaction, 500-row INSERTs, no validation, no HTTP).
//
// Delivery is not measured: the server runs without --public-url, so the emails, which would
// link to a loopback address, are held in the outbox and not sent. bench/contacts.sh runs it.
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sunsetops/sunset/store/sqlite"

	"github.com/sunsetops/sunset/bench/internal/benchserve"
)

const planYAML = `service: {name: bench-contacts, timezone: UTC}
consumers: {contacts: contacts.csv}
milestones: {announce: 2027-01-05T10:00, deprecate: 2027-01-05T10:00, shutdown: 2027-03-15T02:00}
notices:
  - {at: announce, to: all, channels: [email], template: announce}
channels:
  email: {smtp: "127.0.0.1:1", tls: none, from: "Sunset <noreply@example.com>"}
`

func main() {
	bin := flag.String("bin", "", "the sunset binary")
	n := flag.Int("n", 1_000_000, "contacts")
	header := flag.Bool("header", false, "print the table header")
	flag.Parse()
	if *bin == "" {
		log.Fatal("-bin is required")
	}
	dir, err := os.MkdirTemp("", "sunset-bench-contacts")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	csvPath := filepath.Join(dir, "contacts.csv")
	size, err := writeContacts(csvPath, *n)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(planYAML), 0o644); err != nil {
		log.Fatal(err)
	}

	base, err := baseline(filepath.Join(dir, "baseline.db"), csvPath)
	if err != nil {
		log.Fatal(err)
	}

	// Its own folder, not the plan's: the contacts can only arrive with the bundle.
	serveDir := filepath.Join(dir, "server")
	if err := os.Mkdir(serveDir, 0o755); err != nil {
		log.Fatal(err)
	}
	srv, err := benchserve.Start(*bin, "sqlite:sunset.db", serveDir, dir, "--log-level", "error")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	start := time.Now()
	out, err := exec.Command(*bin, "apply", filepath.Join(dir, "plan.yaml"), "--server", srv.URL).CombinedOutput()
	if err != nil {
		log.Fatalf("apply: %v\n%s", err, out)
	}
	applied := time.Since(start)
	deliveries, err := waitFanout(srv, "bench-contacts", "notice/0", 10*time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	fanout := time.Since(start) - applied
	rss, err := peakRSS(srv.Pid())
	if err != nil {
		log.Fatal(err)
	}
	if *header {
		fmt.Printf("%-9s %9s %8s %10s %10s %8s %10s %8s %9s %10s\n", "backend", "contacts", "file", "baseline", "apply", "ratio", "fan-out", "ratio", "outbox", "peak RSS")
	}
	fmt.Printf("%-9s %9d %7.1fM %10s %10s %7.2fx %10s %7.2fx %9d %9.0fM\n", "sqlite", *n, float64(size)/1e6,
		base.Round(time.Millisecond), applied.Round(time.Millisecond), applied.Seconds()/base.Seconds(),
		fanout.Round(time.Millisecond), fanout.Seconds()/base.Seconds(), deliveries, float64(rss)/(1<<20))
	if deliveries != *n {
		log.Fatalf("the fan-out queued %d deliveries, want %d", deliveries, *n)
	}
}

// writeContacts writes n contacts (half en, half zh-CN; three tiers) and returns the size.
func writeContacts(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("id,email,name,locale,tier\n")
	locales, tiers := []string{"en", "zh-CN"}, []string{"critical", "standard", "free"}
	for i := range n {
		fmt.Fprintf(w, "user-%07d,user%07d@example.com,User Number %07d,%s,%s\n", i, i, i, locales[i%2], tiers[i%3])
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), f.Close()
}

// baseline loads the same rows into the contacts table of a fresh store the plainest fast way:
// one transaction, 500 rows per INSERT, no validation, no hashing, no HTTP.
func baseline(dbPath, csvPath string) (time.Duration, error) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	db := st.DB()
	start := time.Now()
	f, err := os.Open(csvPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<16))
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		return 0, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	const per = 500
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO contacts (set_id, line, id, email, name, locale, tier) VALUES "+strings.TrimSuffix(strings.Repeat("(1, ?, ?, ?, ?, ?, ?),", per), ","))
	if err != nil {
		return 0, err
	}
	args := make([]any, 0, per*6)
	line := 1
	flush := func(last bool) error {
		if len(args) == 0 {
			return nil
		}
		if len(args) == per*6 {
			_, err := stmt.ExecContext(ctx, args...)
			args = args[:0]
			return err
		}
		if !last {
			return nil
		}
		q := "INSERT INTO contacts (set_id, line, id, email, name, locale, tier) VALUES " + strings.TrimSuffix(strings.Repeat("(1, ?, ?, ?, ?, ?, ?),", len(args)/6), ",")
		_, err := tx.ExecContext(ctx, q, args...)
		args = args[:0]
		return err
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		line++
		args = append(args, line, rec[0], rec[1], rec[2], rec[3], rec[4])
		if err := flush(false); err != nil {
			return 0, err
		}
	}
	if err := flush(true); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// waitFanout polls the sunset's events until the action key is done and returns the number of
// deliveries its event recorded.
func waitFanout(s *benchserve.Server, name, key string, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL + "/api/v1/sunsets/" + name + "/events")
		if err != nil {
			return 0, err
		}
		var events []struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&events)
		resp.Body.Close()
		if err != nil {
			return 0, err
		}
		for _, e := range events {
			if e.Type == "action.notice" && e.Data["key"] == key {
				d, _ := e.Data["deliveries"].(float64)
				return int(d), nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s of %s did not run within %s", key, name, limit)
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}
