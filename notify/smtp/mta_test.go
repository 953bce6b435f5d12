package smtp_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sunsetops/sunset/notify/smtp"
)

// The tests in this file send through a real mail server: Exim from Debian's exim4-daemon-light
// package, started by each test on a free 127.0.0.1 port with a configuration of its own (no
// delivery: accepted messages stay queued, and Exim's main log is the record of what it accepted
// and when). They skip, saying why, where Exim is missing or the tests do not run as root (Exim
// only honours an alternate configuration for root); SUNSET_TEST_MTA=1 (set by .ci/run) turns
// the skip into a failure.

// mta is one running Exim.
type mta struct {
	dir  string
	addr string // the plain/STARTTLS port
	tls  string // the implicit-TLS port
	ca   *x509.CertPool
}

// mtaOptions shape the server's behaviour.
type mtaOptions struct {
	// idle is smtp_receive_timeout: how long Exim waits for the next command before it says 421
	// and closes. Zero keeps Exim's default (5 minutes).
	idle time.Duration
	// perSession is smtp_accept_max_per_connection (zero: Exim's default of 1000).
	perSession int
	// maxConns is smtp_accept_max, how many sessions Exim serves at once; beyond it, it
	// greets "421 Too many concurrent SMTP connections". Zero: Exim's default of 20.
	maxConns int
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// startMTA writes Exim's configuration and starts it in the foreground.
func startMTA(t *testing.T, o mtaOptions) *mta {
	t.Helper()
	bin, err := exec.LookPath("exim4")
	if err != nil {
		bin, err = exec.LookPath("exim")
	}
	must := os.Getenv("SUNSET_TEST_MTA") == "1"
	switch {
	case err != nil && must:
		t.Fatal("SUNSET_TEST_MTA=1 but no exim4 on PATH (apt-get install exim4-daemon-light)")
	case err != nil:
		t.Skip("no exim4 on PATH: skipping the real-MTA tests (apt-get install exim4-daemon-light; .ci/run does)")
	case os.Geteuid() != 0 && must:
		t.Fatal("SUNSET_TEST_MTA=1 but not root: Exim honours a test configuration (-C) for root only")
	case os.Geteuid() != 0:
		t.Skip("not root: Exim honours a test configuration (-C) for root only; skipping the real-MTA tests")
	}
	dir := t.TempDir()
	for _, sub := range []string{"spool", "log", "flags"} {
		p := filepath.Join(dir, sub)
		if err := os.Mkdir(p, 0o777); err != nil {
			t.Fatal(err)
		}
		// Exim writes its log and spool as its own user (Debian-exim), not as root.
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	// Exim's user must reach into the test's folder (t.TempDir makes it and its parent 0700).
	for _, p := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ca := writeCert(t, dir)
	m := &mta{dir: dir, ca: ca}
	port, tlsPort := freePort(t), freePort(t)
	m.addr, m.tls = "127.0.0.1:"+port, "127.0.0.1:"+tlsPort
	idle := "5m"
	if o.idle > 0 {
		idle = fmt.Sprintf("%ds", int(o.idle/time.Second))
	}
	perSession, maxConns := 1000, 20
	if o.perSession > 0 {
		perSession = o.perSession
	}
	if o.maxConns > 0 {
		maxConns = o.maxConns
	}
	conf := fmt.Sprintf(`primary_hostname = sunset-test.localhost
spool_directory = %[1]s/spool
log_file_path = %[1]s/log/%%slog
log_selector = +millisec +received_recipients
keep_environment =
daemon_smtp_ports = %[2]s : %[3]s
tls_on_connect_ports = %[3]s
local_interfaces = 127.0.0.1
tls_advertise_hosts = *
tls_certificate = %[1]s/cert.pem
tls_privatekey = %[1]s/key.pem
smtp_receive_timeout = %[4]s
smtp_accept_max_per_connection = %[5]d
smtp_accept_max = %[6]d
queue_only = true
auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}}
acl_smtp_rcpt = acl_rcpt

begin acl
acl_rcpt:
  defer message = Mailbox busy, try again later
        condition = ${if exists{%[1]s/flags/defer-$local_part}}
  deny  message = No such user here
        local_parts = gone
  accept

begin routers
all:
  driver = redirect
  data = :blackhole:

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and{{eq{$auth2}{sunset}}{eq{$auth3}{s3cret}}}}
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and{{eq{$auth1}{sunset}}{eq{$auth2}{s3cret}}}}
`, dir, port, tlsPort, idle, perSession, maxConns)
	confPath := filepath.Join(dir, "exim.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// Exim's output goes to a file, not a pipe: the processes it forks for each session would
	// keep a pipe open after the daemon is killed.
	outPath := filepath.Join(dir, "exim.out")
	outFile, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	output := func() string { b, _ := os.ReadFile(outPath); return string(b) }
	cmd := exec.Command(bin, "-bdf", "-C", confPath)
	cmd.Stdout, cmd.Stderr = outFile, outFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the daemon and its session processes
		<-exited
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "log", "mainlog"))
			t.Logf("exim output:\n%s\nmainlog:\n%s", output(), log)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", m.addr, time.Second)
		if err == nil {
			c.Close()
			return m
		}
		select {
		case <-exited:
			t.Fatalf("exim exited: %v\n%s", waitErr, output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("exim did not listen on %s within 20 s:\n%s", m.addr, output())
		}
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and localhost and returns a pool
// trusting it.
func writeCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sunset-test.localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Readable by Exim's own user; a throwaway key of a test.
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o644); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// flag creates or removes one of the files the configuration's ACLs look at.
func (m *mta) flag(t *testing.T, name string, on bool) {
	t.Helper()
	p := filepath.Join(m.dir, "flags", name)
	if on {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

// received is one message Exim's main log says it accepted.
type received struct {
	at time.Time
	to string
}

var receivedLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \S+ <= .* for (.+)$`)

// received reads Exim's main log: every accepted message with its instant and recipients.
func (m *mta) received(t *testing.T) []received {
	t.Helper()
	f, err := os.Open(filepath.Join(m.dir, "log", "mainlog"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []received
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		mm := receivedLine.FindStringSubmatch(sc.Text())
		if mm == nil {
			continue
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05.000", mm[1], time.Local)
		if err != nil {
			t.Fatalf("mainlog instant %q: %v", mm[1], err)
		}
		for _, to := range strings.Fields(mm[2]) {
			out = append(out, received{at: at, to: to})
		}
	}
	return out
}

// byRecipient counts the accepted messages per recipient.
func byRecipient(rs []received) map[string]int {
	out := map[string]int{}
	for _, r := range rs {
		out[r.to]++
	}
	return out
}

// channel returns a channel to m's plain/STARTTLS port.
func (m *mta) channel(t *testing.T, cfg smtp.Config) *smtp.Channel {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = m.addr
	}
	if cfg.TLS == "" {
		cfg.TLS = smtp.NoTLS
	}
	cfg.From = "Sunset <noreply@example.com>"
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{RootCAs: m.ca, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	}
	ch, err := smtp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	return ch
}

// sendAt sends to addr and returns when it was handed to Send (the message's due instant).
func sendAt(t *testing.T, ch *smtp.Channel, addr string) time.Time {
	t.Helper()
	due := time.Now()
	send(t, ch, addr)
	return due
}

// assertOnTime checks that each address arrived exactly once, and no later than within after
// its due instant by the MTA's own clock (its log has milliseconds).
func assertOnTime(t *testing.T, m *mta, due map[string]time.Time, within time.Duration) {
	t.Helper()
	rs := m.received(t)
	counts := byRecipient(rs)
	for addr, at := range due {
		if counts[addr] != 1 {
			t.Errorf("%s arrived %d times, want exactly once", addr, counts[addr])
		}
		for _, r := range rs {
			// The log's instants are truncated to the millisecond.
			if r.to == addr && r.at.Sub(at.Truncate(time.Millisecond)) > within {
				t.Errorf("%s arrived %s after it was due, want within %s", addr, r.at.Sub(at), within)
			}
		}
	}
}

func TestRealMTAIdleGaps(t *testing.T) {
	gaps := []time.Duration{0, 45 * time.Second}
	if os.Getenv("SUNSET_TEST_LONG") == "1" {
		gaps = append(gaps, 6*time.Minute) // past Exim's own 5-minute idle timeout
	}
	for _, gap := range gaps {
		t.Run(fmt.Sprintf("gap %s", gap), func(t *testing.T) {
			t.Parallel()
			m := startMTA(t, mtaOptions{})
			// MaxIdle above the gap: the pooled session is reused after it, which is the path
			// that used to fail with "not connected to SMTP server" after 30 s.
			ch := m.channel(t, smtp.Config{MaxIdle: time.Hour})
			due := map[string]time.Time{"first@example.com": sendAt(t, ch, "first@example.com")}
			<-time.After(gap) // the idle gap is the scenario itself
			due["second@example.com"] = sendAt(t, ch, "second@example.com")
			assertOnTime(t, m, due, 2*time.Second)
		})
	}
}

func TestRealMTADropsIdleSessions(t *testing.T) {
	t.Parallel()
	m := startMTA(t, mtaOptions{idle: time.Second})
	ch := m.channel(t, smtp.Config{MaxIdle: time.Hour})
	due := map[string]time.Time{"first@example.com": sendAt(t, ch, "first@example.com")}
	<-time.After(2500 * time.Millisecond) // past Exim's smtp_receive_timeout: it says 421 and closes
	due["second@example.com"] = sendAt(t, ch, "second@example.com")
	assertOnTime(t, m, due, 2*time.Second)
}

func TestRealMTAClosesAfterFiveMessages(t *testing.T) {
	t.Parallel()
	m := startMTA(t, mtaOptions{perSession: 5})
	ch := m.channel(t, smtp.Config{Conns: 1})
	due := map[string]time.Time{}
	for i := range 12 {
		addr := fmt.Sprintf("user%d@example.com", i)
		due[addr] = sendAt(t, ch, addr)
	}
	if got := len(m.received(t)); got != 12 {
		t.Fatalf("Exim accepted %d messages, want 12", got)
	}
	assertOnTime(t, m, due, 2*time.Second)
}

func TestRealMTABusyThenRecovers(t *testing.T) {
	t.Parallel()
	m := startMTA(t, mtaOptions{maxConns: 1})
	// Another client holds Exim's only session: Exim greets the next one with 421. (It may
	// itself be refused while the session of startMTA's readiness probe is still ending.)
	var other net.Conn
	for deadline := time.Now().Add(10 * time.Second); other == nil; {
		c, err := net.Dial("tcp", m.addr)
		if err != nil {
			t.Fatal(err)
		}
		greeting, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(greeting, "220") {
			other = c
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("Exim never greeted with 220: %q", greeting)
		}
		<-time.After(50 * time.Millisecond)
	}
	ch := m.channel(t, smtp.Config{})
	retry, err := ch.Send(context.Background(), message("a@example.com"))
	if err == nil || !retry || !strings.Contains(err.Error(), "421") {
		t.Fatalf("send while busy = (retry %v, %v), want a retryable error naming the 421", retry, err)
	}
	other.Close()
	// The outbox retries a retryable failure; here the test does, until Exim has reaped the
	// other session (it counts sessions by their processes).
	due := time.Now()
	deadline := due.Add(10 * time.Second)
	for {
		_, err := ch.Send(context.Background(), message("a@example.com"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Exim still refuses 10 s after the other session ended: %v", err)
		}
		<-time.After(100 * time.Millisecond)
	}
	assertOnTime(t, m, map[string]time.Time{"a@example.com": due}, 10*time.Second)
}

func TestRealMTATemporaryThenSuccess(t *testing.T) {
	t.Parallel()
	m := startMTA(t, mtaOptions{})
	m.flag(t, "defer-later", true)
	ch := m.channel(t, smtp.Config{})
	retry, err := ch.Send(context.Background(), message("later@example.com"))
	if err == nil || !retry || !strings.Contains(err.Error(), "451") {
		t.Fatalf("deferred send = (retry %v, %v), want a retryable error naming the 451", retry, err)
	}
	retry, err = ch.Send(context.Background(), message("gone@example.com"))
	if err == nil || retry || !strings.Contains(err.Error(), "550") {
		t.Fatalf("refused send = (retry %v, %v), want a permanent error naming the 550", retry, err)
	}
	m.flag(t, "defer-later", false)
	due := map[string]time.Time{"later@example.com": sendAt(t, ch, "later@example.com")}
	assertOnTime(t, m, due, 2*time.Second)
}

func TestRealMTATLSAndAuthentication(t *testing.T) {
	t.Parallel()
	m := startMTA(t, mtaOptions{})
	for _, tc := range []struct {
		name string
		cfg  smtp.Config
	}{
		{"STARTTLS with AUTH", smtp.Config{TLS: smtp.StartTLS, Username: "sunset", Password: "s3cret"}},
		{"implicit TLS with AUTH", smtp.Config{Addr: m.tls, TLS: smtp.Implicit, Username: "sunset", Password: "s3cret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := m.channel(t, tc.cfg)
			addr := strings.ReplaceAll(strings.ToLower(tc.name), " ", "-") + "@example.com"
			due := map[string]time.Time{addr: sendAt(t, ch, addr)}
			assertOnTime(t, m, due, 2*time.Second)
		})
	}
	t.Run("a wrong password is refused", func(t *testing.T) {
		ch := m.channel(t, smtp.Config{TLS: smtp.StartTLS, Username: "sunset", Password: "wrong"})
		if _, err := ch.Send(context.Background(), message("x@example.com")); err == nil {
			t.Fatal("a wrong password was accepted")
		}
	})
	t.Run("an untrusted certificate is refused", func(t *testing.T) {
		ch := m.channel(t, smtp.Config{TLS: smtp.StartTLS, TLSConfig: &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
		if _, err := ch.Send(context.Background(), message("y@example.com")); err == nil {
			t.Fatal("a certificate nobody trusts was accepted")
		}
	})
}
