package api

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
)

// DefaultMaxPlanParses is how many plans the server parses at once unless Server.MaxPlanParses
// says otherwise. A plan is parsed in milliseconds and at most a few MB (plan.MaxNodes,
// plan.MaxPlanSize); the bound keeps a burst of hostile plans from taking every core and the
// memory of the server with them.
const DefaultMaxPlanParses = 2

// DefaultPlanWait is how long a plan waits for its turn to be parsed before the server answers
// 503; well within the server's write timeout.
const DefaultPlanWait = 2 * time.Second

// planRetryAfter is the Retry-After, in seconds, of the 503 answered when every slot stays busy.
const planRetryAfter = 5

// planSlots is a semaphore sized on first use from the Server's settings.
type planSlots struct {
	once sync.Once
	c    chan struct{}
}

// AcquirePlanSlot takes one of the server's plan-parsing slots, waiting up to PlanWait, and
// returns the function that gives it back. When none frees up in time, or the request ends, it
// returns a 503 error; the caller answers it after setting Retry-After.
func (s *Server) AcquirePlanSlot(ctx context.Context) (func(), error) {
	s.planSlots.once.Do(func() {
		n := s.MaxPlanParses
		if n <= 0 {
			n = DefaultMaxPlanParses
		}
		s.planSlots.c = make(chan struct{}, n)
	})
	select {
	case s.planSlots.c <- struct{}{}:
		return func() { <-s.planSlots.c }, nil
	default:
	}
	wait := s.PlanWait
	if wait <= 0 {
		wait = DefaultPlanWait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s.planSlots.c <- struct{}{}:
		return func() { <-s.planSlots.c }, nil
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, sunset.Errorf(problem.CodeUnavailable, "The server is busy parsing other plans; nothing was stored. Try again in %d seconds.", planRetryAfter)
}

// withPlanSlot runs apply while holding a plan-parsing slot, or answers 503 with Retry-After.
func (s *Server) withPlanSlot(w http.ResponseWriter, r *http.Request, apply func()) {
	release, err := s.AcquirePlanSlot(r.Context())
	if err != nil {
		w.Header().Set("Retry-After", strconv.Itoa(planRetryAfter))
		s.writeError(w, r, err)
		return
	}
	defer release()
	apply()
}
