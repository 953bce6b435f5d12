package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// Event is an append-only audit record. Each event carries the hash of the one before it in the
// same sunset, so changing or removing one breaks the chain.
type Event struct {
	ID       int64           `json:"-"`
	SunsetID int64           `json:"-"`
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Type     string          `json:"type"`
	Actor    string          `json:"actor"`
	Data     json.RawMessage `json:"data"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// ComputeHash returns the hash of e given its fields and PrevHash: hex SHA-256 over a
// length-prefixed encoding of prev hash, sequence, UTC instant, type, actor and data.
func (e *Event) ComputeHash() string {
	h := sha256.New()
	for _, part := range []string{
		e.PrevHash,
		strconv.FormatInt(e.Seq, 10),
		e.At.UTC().Format(time.RFC3339Nano),
		e.Type,
		e.Actor,
		string(e.Data),
	} {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{':'})
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil))
}
