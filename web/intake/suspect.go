package intake

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/web/httpx"
)

// A guardrail trip driven by a burst of feedback from senders never seen before is marked
// suspect (feedback/suspect.go, engine.SuspectTrip). For that, every public post keeps who sent
// it as a keyed hash of the client's address: the same address gives the same hash under one
// database's intake key, and the hash cannot be turned back into the address.

// SenderOf is the keyed hash of r's client address (its addressScope) that feedback keeps.
func (s *Intake) SenderOf(r *http.Request) string {
	m := hmac.New(sha256.New, s.key())
	m.Write([]byte("sunset sender v1\x00" + addressScope(httpx.ClientAddress(r))))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Events lists a sunset's audit events, oldest first; *engine.Engine implements it.
type Events interface {
	Events(ctx context.Context, name string) ([]engine.Event, error)
}

// SuspectPause returns the mark of the guardrail trip that paused the sunset named name when
// that trip was suspect (every guardrail that tripped was), summed over its guardrails; nil when
// the sunset is not paused by a suspect trip (a later resume or a manual pause clears it).
func SuspectPause(ctx context.Context, eng Events, name string) (*engine.SuspectTrip, error) {
	evs, err := eng.Events(ctx, name)
	if err != nil {
		return nil, err
	}
	for i := len(evs) - 1; i >= 0; i-- {
		switch evs[i].Type {
		case "sunset.resumed", "sunset.paused", "sunset.cancelled":
			return nil, nil
		case "guardrail.tripped":
			var data struct {
				Suspect    bool                     `json:"suspect"`
				Guardrails []engine.GuardrailResult `json:"guardrails"`
			}
			if err := json.Unmarshal(evs[i].Data, &data); err != nil || !data.Suspect {
				return nil, nil
			}
			var sum engine.SuspectTrip
			for _, g := range data.Guardrails {
				if g.Suspect == nil {
					continue
				}
				if sum.Since.IsZero() || g.Suspect.Since.Before(sum.Since) {
					sum.Since = g.Suspect.Since
				}
				sum.Driving += g.Suspect.Driving
				sum.New += g.Suspect.New
			}
			return &sum, nil
		}
	}
	return nil, nil
}
