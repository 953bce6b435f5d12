// Command sunset retires a service safely: it validates and schedules a sunset plan, serves the
// API that carries it out, and talks to that server from the command line.
//
// This package only wires: flags and configuration in, the capability packages out.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset"
)

// Version is the version printed by `sunset version`; release builds set it with -ldflags.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	os.Exit(m.Run(ctx, os.Args[1:]))
}

// Main is one run of the program. Tests build one with their own streams and environment and
// call Run, exactly as main does.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (os.Getenv by default).
	Getenv func(string) string

	// now is the --now flag's value; zero means the wall clock.
	now string
	// ready, when set, receives the server's address once `serve` listens (tests use it).
	ready chan<- string
	// gatewayReady, when set, receives the address of the gateway of `serve --upstream` once it
	// listens; adminReady the admin address (/metrics) of `gateway`. Tests use them.
	gatewayReady, adminReady chan<- string
}

// NewMain returns a Main on the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// exitError carries an exit status through cobra. Its message, if any, is printed on stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// fail returns an error that makes Run print msg and exit with status 1.
func fail(format string, args ...any) error {
	return &exitError{code: 1, msg: fmt.Sprintf(format, args...)}
}

// Run runs the command line args and returns the process exit status: 0 on success, 1 when the
// command failed (an invalid plan, a refused request), 2 for a usage error.
func (m *Main) Run(ctx context.Context, args []string) int {
	root := m.rootCommand()
	root.SetArgs(args)
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(m.Stderr, "sunset: "+ee.msg)
		}
		return ee.code
	}
	// Anything else is a usage error from cobra (unknown flag, wrong argument count).
	fmt.Fprintln(m.Stderr, "sunset: "+err.Error())
	fmt.Fprintln(m.Stderr, "Run 'sunset --help' for usage.")
	return 2
}

func (m *Main) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "sunset",
		Short: "Retire a service safely: find its users, tell them, phase it out, keep the data, shut it down",
		Long: `Sunset retires a service safely. You write one plan file (sunset.yaml); Sunset finds
who still uses the service, tells them in time, turns the service off step by step
while watching how users react, keeps every byte of data, and runs the final
shutdown as a checked, resumable procedure.

Sunset 安全地下线一个服务：一份计划文件，通知用户、分阶段下线、保留数据、按流程关停。`,
		Example: `  # Check a plan and see its timeline
  sunset plan validate examples/api-v2.yaml
  sunset plan timeline examples/api-v2.yaml

  # Run the server (SQLite in ./sunset.db) and apply a plan to it
  sunset serve &
  sunset apply examples/api-v2.yaml
  sunset status orders-api-v1`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.PersistentFlags().StringVar(&m.now, "now", "", "pin the current time (RFC 3339, e.g. 2027-03-01T10:00:00+08:00) for rehearsals and tests")
	root.AddCommand(
		m.planCommand(),
		m.serveCommand(),
		m.gatewayCommand(),
		m.applyCommand(),
		m.statusCommand(),
		m.pauseCommand(),
		m.resumeCommand(),
		m.skipCommand(),
		m.cancelCommand(),
		m.signoffCommand(),
		m.replanCommand(),
		m.guardrailsCommand(),
		m.feedbackCommand(),
		m.eventsCommand(),
		m.contactsCommand(),
		m.notifyCommand(),
		m.usageCommand(),
		m.backupCommand(),
		m.runbookCommand(),
		m.exportCommand(),
		m.reportCommand(),
		m.rehearseCommand(),
		m.versionCommand(),
		m.tokenCommand(),
		m.userCommand(),
	)
	wrapRunErrors(root)
	return root
}

// wrapRunErrors makes every error a command's RunE returns a failure (exit 1), so that the only
// errors left unwrapped are cobra's own usage errors (exit 2).
func wrapRunErrors(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			var ee *exitError
			if err != nil && !errors.As(err, &ee) {
				return &exitError{code: 1, msg: err.Error()}
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		wrapRunErrors(sub)
	}
}

// clock returns the clock the command runs on: pinned by --now (standing still) or the wall clock.
func (m *Main) clock() (sunset.Clock, error) {
	if m.now == "" {
		return sunset.SystemClock{}, nil
	}
	t, err := parseNow(m.now)
	if err != nil {
		return nil, err
	}
	return sunset.NewFixedClock(t), nil
}

func parseNow(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &exitError{code: 2, msg: fmt.Sprintf("--now %q: use RFC 3339, e.g. 2027-03-01T10:00:00+08:00", s)}
}

func (m *Main) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version",
		Example: "  sunset version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "sunset "+version)
			return nil
		},
	}
}
