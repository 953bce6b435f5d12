package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/sunsetops/sunset/engine"
)

// A guardrail trip driven by a burst of feedback from senders never seen before is marked
// suspect (feedback/suspect.go, engine.SuspectTrip). For that, every public post keeps who sent
// it as a keyed hash of the client's address: the same address gives the same hash under one
// database's intake key, and the hash cannot be turned back into the address.

// senderOf is the keyed hash of r's client address (its addressScope) that feedback keeps.
func (s *Server) senderOf(r *http.Request) string {
	m := hmac.New(sha256.New, s.intakeKey())
	m.Write([]byte("sunset sender v1\x00" + addressScope(clientAddress(r))))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// suspectTexts say, on the public page, that the pause followed a suspect burst.
var suspectTexts = map[string]string{
	"en":      "The pause followed a burst of messages from addresses we had not seen before; the team is checking whether they are genuine.",
	"zh-Hans": "此次暂停源于一批来自此前从未出现过的地址的留言；团队正在核实这些留言是否真实。",
}

// suspectPause returns the mark of the guardrail trip that paused the sunset named name when
// that trip was suspect (every guardrail that tripped was), summed over its guardrails; nil when
// the sunset is not paused by a suspect trip (a later resume or a manual pause clears it).
func (s *Server) suspectPause(ctx context.Context, name string) (*engine.SuspectTrip, error) {
	evs, err := s.Engine.Events(ctx, name)
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
