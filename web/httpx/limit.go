package httpx

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
)

// DefaultPerMinute is a Limiter's budget when its N is zero: the feedback intake's posts per
// client address per minute.
const DefaultPerMinute = 10

// TooLarge is the problem for a body over its limit.
func TooLarge(what string, limit int64) error {
	return &sunset.Error{Code: problem.CodeTooLarge, Message: what + " is larger than " + strconv.FormatInt(limit>>10, 10) + " KiB."}
}

// Limiter allows N events per client per minute (a fixed window). It forgets idle clients so
// that a flood of addresses cannot grow it without bound. The zero value allows
// DefaultPerMinute; set N before first use.
type Limiter struct {
	// N is how many events one client may have a minute; zero means DefaultPerMinute.
	N       int
	mu      sync.Mutex
	clients map[string]*window
}

// window is one client's current minute.
type window struct {
	start time.Time
	count int
}

// Allow counts an event of client at now and reports whether it is within the budget.
func (l *Limiter) Allow(client string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients == nil {
		l.clients = map[string]*window{}
	}
	if len(l.clients) > 10000 {
		for k, w := range l.clients {
			if now.Sub(w.start) >= time.Minute {
				delete(l.clients, k)
			}
		}
	}
	w := l.clients[client]
	if w == nil || now.Sub(w.start) >= time.Minute || now.Before(w.start) {
		w = &window{start: now}
		l.clients[client] = w
	}
	limit := l.N
	if limit == 0 {
		limit = DefaultPerMinute
	}
	if w.count >= limit {
		return false
	}
	w.count++
	return true
}

// ClientAddress is the address a request came from, without its port.
func ClientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
