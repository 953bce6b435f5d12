// Package benchserve runs the `sunset serve` process a benchmark program measures: on a free
// loopback port, its log in a file, ready once /readyz answers, stopped gracefully.
package benchserve

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Server is one running `sunset serve`.
type Server struct {
	// URL is where it listens (http://127.0.0.1:PORT).
	URL string
	cmd *exec.Cmd
}

// Start runs bin serve on the database db (a --db value) from the folder dir, with its clock
// pinned to 2027-01-06T00:00:00Z and extra arguments, logging to logDir/serve.log, and waits up
// to 30 s until it is ready.
func Start(bin, db, dir, logDir string, extra ...string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(logDir, "serve.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	s := &Server{URL: "http://" + addr}
	args := append([]string{"serve", "--db", db, "--addr", addr, "--example=false", "--now", "2027-01-06T00:00:00Z"}, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			out, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("the server did not start:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop ends the server with SIGTERM, or kills it after 20 s.
func (s *Server) Stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}
