package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/policy"
	"github.com/sunsetops/sunset/web/httpx"
)

// UsageRecorder stores what gateways report; store.Usage implements it. Errors are
// *sunset.Error values (ENOTFOUND for an unknown sunset); any other error is internal.
type UsageRecorder interface {
	// RecordUsage adds a flush to the named sunset, once per (gateway, seq): a repeated flush
	// returns applied false and changes nothing.
	RecordUsage(ctx context.Context, name string, b gateway.Batch) (applied bool, err error)
}

// LaggardLister finds the consumers that laggards-only brownouts target; store.Usage implements
// it. When the Server's Usage also implements it, the policy it serves names them.
type LaggardLister interface {
	// Laggards returns the consumers of the named sunset that were told in-band and are still
	// calling at now.
	Laggards(ctx context.Context, name string, now time.Time) ([]string, error)
}

// PhaseOverrides tells the phase a sunset was switched to ahead of its timeline (a runbook's
// gateway step); store.DB implements it. An Active phase means none.
type PhaseOverrides interface {
	PhaseOverride(ctx context.Context, name string) (policy.Override, error)
}

// maxUsageBody bounds a usage flush: a minute of counts of a busy gateway fits many times over.
const maxUsageBody = 8 << 20

// handlePolicyGet serves GET /api/v1/sunsets/{name}/policy: the sunset's compiled policy
// snapshot for gateways, with an ETag; If-None-Match with the current ETag answers 304. The
// snapshot's laggards (whom `audience: laggards` brownouts target) come from the usage that
// gateways reported, when the Server's Usage can list them; a phase a runbook switched the
// sunset to (Phases) holds from the switch on. A change of either changes the ETag, so gateways
// pick it up at their next poll.
func (s *Server) handlePolicyGet(w http.ResponseWriter, r *http.Request) {
	var laggards LaggardLister
	if l, ok := s.Usage.(LaggardLister); ok {
		laggards = l
	}
	snap, err := EnforcedSnapshot(r.Context(), s.Engine, laggards, s.Phases, r.PathValue("name"), s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := json.Marshal(snap)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(append(body, '\n'))
}

// EnforcedSnapshot is the policy gateways enforce for the sunset name at now — the one
// place that decides it, for the control plane's policy endpoint and for the gateway `sunset
// serve --upstream` runs in process:
//   - the plan's phases and brownouts, with the laggards that laggards lists (nil: none) for
//     `audience: laggards` brownouts;
//   - a phase a runbook switched the sunset to (phases; nil: none), from the switch on;
//   - what the sunset's state allows: a draft (not yet signed off, even if paused since) and a
//     cancelled sunset change nothing for users, so the policy passes everything; a paused
//     sunset keeps the phases it had entered when it was paused (the time of asking when no
//     event says) and runs no brownout until it resumes; every other state follows the plan.
func EnforcedSnapshot(ctx context.Context, eng Engine, laggards LaggardLister, phases PhaseOverrides, name string, now time.Time) (*policy.Snapshot, error) {
	st, err := eng.Status(ctx, name)
	if err != nil {
		return nil, err
	}
	p, _, err := eng.Plan(ctx, name)
	if err != nil {
		return nil, err
	}
	var opts policy.Options
	if laggards != nil {
		if opts.Laggards, err = laggards.Laggards(ctx, name, now); err != nil {
			return nil, err
		}
	}
	snap, err := policy.SnapshotOf(p, opts)
	if err != nil {
		return nil, sunset.Errorf(sunset.EINTERNAL, "compile the policy: %v", err)
	}
	if phases != nil {
		o, err := phases.PhaseOverride(ctx, name)
		if err != nil {
			return nil, err
		}
		snap = snap.WithOverride(o)
	}
	switch {
	case st.State == engine.StateDraft, st.State == engine.StateCancelled,
		st.State == engine.StatePaused && st.PausedFrom == engine.StateDraft:
		snap.Off()
	case st.State == engine.StatePaused:
		events, err := eng.Events(ctx, name)
		if err != nil {
			return nil, err
		}
		at, ok := engine.PausedAt(events)
		if !ok {
			at = now
		}
		snap.Hold(at)
	}
	return snap, nil
}

// etagMatch reports whether an If-None-Match value names etag (weak comparison, or "*").
func etagMatch(header, etag string) bool {
	for v := range strings.SplitSeq(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || v == etag {
			return true
		}
	}
	return false
}

// handleUsageCreate serves POST /api/v1/sunsets/{name}/usage: a gateway's usage flush,
// idempotent per gateway id and sequence number.
func (s *Server) handleUsageCreate(w http.ResponseWriter, r *http.Request) {
	if s.Usage == nil {
		s.writeError(w, r, sunset.Errorf(problem.CodeUnavailable, "This server does not record gateway usage."))
		return
	}
	var b gateway.Batch
	if err := httpx.DecodeJSON(http.MaxBytesReader(w, r.Body, maxUsageBody), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkBatch(b); err != nil {
		s.writeError(w, r, err)
		return
	}
	applied, err := s.Usage.RecordUsage(r.Context(), r.PathValue("name"), b)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, client.UsageResult{Applied: applied})
}

// checkBatch refuses a flush that cannot be stored as it is.
func checkBatch(b gateway.Batch) error {
	if err := httpx.CheckText("gateway", b.Gateway, 200); err != nil {
		return err
	}
	if strings.TrimSpace(b.Gateway) == "" {
		return sunset.Errorf(sunset.EINVALID, "gateway is required: the id of the gateway that counted.")
	}
	if b.Seq <= 0 {
		return sunset.Errorf(sunset.EINVALID, "seq must be a positive flush sequence number.")
	}
	for i, c := range b.Counts {
		if c.Hour.IsZero() || c.Hour.Unix()%3600 != 0 || c.Hour.Nanosecond() != 0 {
			return sunset.Errorf(sunset.EINVALID, "counts[%d].hour must be the start of an hour.", i)
		}
		if c.Count > 1<<62 {
			return sunset.Errorf(sunset.EINVALID, "counts[%d].count is out of range.", i)
		}
		if !c.LastAt.IsZero() && (c.LastAt.Before(c.Hour) || !c.LastAt.Before(c.Hour.Add(time.Hour))) {
			return sunset.Errorf(sunset.EINVALID, "counts[%d].last_at must fall within its hour (%s).", i, c.Hour.Format(time.RFC3339))
		}
		if c.Errors > c.Count {
			return sunset.Errorf(sunset.EINVALID, "counts[%d].errors is more than its count: errors are the requests of count answered with a server error.", i)
		}
	}
	for i, a := range b.Aware {
		if a.Consumer == "" || a.FirstSeen.IsZero() {
			return sunset.Errorf(sunset.EINVALID, "aware[%d] needs a consumer and first_seen.", i)
		}
	}
	return nil
}
