package notifytest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Exim is a real mail server for tests and benchmarks: Exim from Debian's exim4-daemon-light
// package, started on free 127.0.0.1 ports with a configuration of its own. It delivers nothing:
// accepted messages stay queued, and its main log (milliseconds, recipients) is the record of
// what it accepted and when. It runs as root only (Exim honours an alternate configuration, -C,
// for root alone).
//
// The configuration: AUTH PLAIN and LOGIN as sunset / s3cret over TLS only; STARTTLS on Addr and
// implicit TLS on TLSAddr with a certificate CA trusts; RCPT TO a local part for which
// Flag("defer-PART", true) was set is deferred with 451, and the local part "gone" is refused
// with 550.
type Exim struct {
	// Dir holds the configuration, spool, log and certificate.
	Dir string
	// Addr is the plain/STARTTLS listener, TLSAddr the implicit-TLS one.
	Addr, TLSAddr string
	// CA trusts the server's certificate (for 127.0.0.1 and localhost).
	CA *x509.CertPool

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// EximOptions shape the server's behaviour; zero values keep Exim's defaults.
type EximOptions struct {
	// IdleTimeout is smtp_receive_timeout: how long Exim waits for the next command before it
	// says 421 and closes (default 5 minutes; whole seconds).
	IdleTimeout time.Duration
	// MaxPerSession is smtp_accept_max_per_connection: after that many messages a session's
	// next MAIL FROM gets 421 and the session ends (default 1000).
	MaxPerSession int
	// MaxSessions is smtp_accept_max: beyond that many sessions at once, Exim greets "421 Too
	// many concurrent SMTP connections" (default 20).
	MaxSessions int
}

// EximBinary returns the path of Exim, or an error saying how to install it.
func EximBinary() (string, error) {
	for _, name := range []string{"exim4", "exim"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no exim4 on PATH (apt-get install exim4-daemon-light)")
}

// StartExim starts Exim in dir, an empty folder Exim's own user can reach (StartExim opens its
// permissions), and waits until it listens. Close stops it.
func StartExim(dir string, o EximOptions) (*Exim, error) {
	bin, err := EximBinary()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("not root: Exim honours a test configuration (-C) for root only")
	}
	for _, sub := range []string{"spool", "log", "flags"} {
		p := filepath.Join(dir, sub)
		if err := os.Mkdir(p, 0o777); err != nil {
			return nil, err
		}
		// Exim writes its log and spool as its own user (Debian-exim), not as root.
		if err := os.Chmod(p, 0o777); err != nil {
			return nil, err
		}
	}
	// Exim's user must reach into the folder (a test's TempDir and its parent are 0700).
	for _, p := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(p, 0o755); err != nil {
			return nil, err
		}
	}
	e := &Exim{Dir: dir, exited: make(chan struct{})}
	if e.CA, err = writeCert(dir); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	tlsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	e.Addr, e.TLSAddr = "127.0.0.1:"+port, "127.0.0.1:"+tlsPort
	idle, perSession, maxSessions := "5m", 1000, 20
	if o.IdleTimeout > 0 {
		idle = fmt.Sprintf("%ds", max(1, int(o.IdleTimeout/time.Second)))
	}
	if o.MaxPerSession > 0 {
		perSession = o.MaxPerSession
	}
	if o.MaxSessions > 0 {
		maxSessions = o.MaxSessions
	}
	conf := fmt.Sprintf(eximConfig, dir, port, tlsPort, idle, perSession, maxSessions)
	confPath := filepath.Join(dir, "exim.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	// Exim's output goes to a file, not a pipe: the processes it forks for each session would
	// keep a pipe open after the daemon is killed.
	out, err := os.Create(filepath.Join(dir, "exim.out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	e.cmd = exec.Command(bin, "-bdf", "-C", confPath)
	e.cmd.Stdout, e.cmd.Stderr = out, out
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := e.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { e.waitErr = e.cmd.Wait(); close(e.exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", e.Addr, time.Second)
		if err == nil {
			c.Close()
			return e, nil
		}
		select {
		case <-e.exited:
			return nil, fmt.Errorf("exim exited: %v\n%s", e.waitErr, e.Output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Close()
			return nil, fmt.Errorf("exim did not listen on %s within 20 s:\n%s", e.Addr, e.Output())
		}
	}
}

// eximConfig: %[1]s the folder, %[2]s and %[3]s the ports, %[4]s the idle timeout, %[5]d the
// messages per session, %[6]d the sessions at once.
const eximConfig = `primary_hostname = sunset-test.localhost
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
smtp_accept_queue_per_connection = 0
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
`

// Close stops Exim and every session process it forked.
func (e *Exim) Close() error {
	if e.cmd == nil || e.cmd.Process == nil {
		return nil
	}
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	<-e.exited
	return nil
}

// Output returns what Exim printed, and its main log.
func (e *Exim) Output() string {
	out, _ := os.ReadFile(filepath.Join(e.Dir, "exim.out"))
	log, _ := os.ReadFile(filepath.Join(e.Dir, "log", "mainlog"))
	return fmt.Sprintf("exim output:\n%s\nmainlog:\n%s", out, log)
}

// Flag creates (on) or removes a file the configuration's ACLs look at ("defer-PART").
func (e *Exim) Flag(name string, on bool) error {
	p := filepath.Join(e.Dir, "flags", name)
	if on {
		return os.WriteFile(p, nil, 0o644)
	}
	return os.Remove(p)
}

// Received is one recipient of a message Exim's main log says it accepted, when, and the
// message's Message-ID (without angle brackets).
type Received struct {
	At time.Time
	To string
	ID string
}

var (
	receivedLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \S+ <= .* for (.+)$`)
	messageID    = regexp.MustCompile(` id=(\S+)`)
)

// Received reads Exim's main log: every accepted message's recipients with the instant.
func (e *Exim) Received() ([]Received, error) {
	f, err := os.Open(filepath.Join(e.Dir, "log", "mainlog"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Received
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := receivedLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05.000", m[1], time.Local)
		if err != nil {
			return nil, fmt.Errorf("mainlog instant %q: %w", m[1], err)
		}
		id := ""
		if mid := messageID.FindStringSubmatch(sc.Text()); mid != nil {
			id = mid[1]
		}
		for _, to := range strings.Fields(m[2]) {
			out = append(out, Received{At: at, To: to, ID: id})
		}
	}
	return out, sc.Err()
}

// freePort returns a free port on 127.0.0.1.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

// writeCert writes a self-signed certificate for 127.0.0.1 and localhost into dir and returns a
// pool trusting it.
func writeCert(dir string) (*x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	// Readable by Exim's own user; a throwaway key of a test.
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o644); err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool, nil
}
