package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/web"
)

// serveAuth decides whether the server demands credentials: when --auth is given, or when the
// database holds any live token or user. It returns nil when authentication stays off.
func serveAuth(ctx context.Context, o serveOptions, st *store.DB, now time.Time, publicURL string, logger *slog.Logger) (*web.Auth, error) {
	on := o.auth
	if !on {
		configured, err := st.AuthConfigured(ctx, now)
		if err != nil {
			return nil, fail("read the credentials: %v", err)
		}
		on = configured
	}
	if !on {
		return nil, nil
	}
	a := &web.Auth{Store: st.Credentials(), SecureCookie: strings.HasPrefix(publicURL, "https://")}
	logger.Info("authentication is on: every route that is not public needs a token or a session")
	return a, nil
}

// isLoopback reports whether the host of addr (HOST:PORT) is a loopback address or localhost.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, &exitError{code: 2, msg: fmt.Sprintf("--addr %q: use HOST:PORT, e.g. 127.0.0.1:8080", addr)}
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// checkListenAddr refuses a non-loopback address unless authentication is on (or allow, the
// --insecure-listen-anywhere override): anyone who can reach the API could otherwise pause or
// cancel a sunset.
func checkListenAddr(addr string, authOn, allow bool) error {
	loop, err := isLoopback(addr)
	if err != nil {
		return err
	}
	if loop || authOn || allow {
		return nil
	}
	return fail("refusing to listen on %s: the API has no authentication configured, so only loopback addresses are allowed (create a token with `sunset token create --role admin --name YOU`, or pass --auth, or --insecure-listen-anywhere to override)", addr)
}
