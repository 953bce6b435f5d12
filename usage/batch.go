package usage

import "time"

// OtherConsumer stands for the consumers a gateway counted past its memory bound: one counter
// for every consumer it could not tell apart.
const OtherConsumer = "(other)"

// Batch is one flush of a gateway's usage counters: the counts and first warnings since the
// previous flush. Gateway and Seq make it idempotent: the control plane applies a (Gateway,
// Seq) pair once, so a flush retried after a lost answer is not counted twice. Its JSON is the
// gateway's flush format (the control plane's POST /api/v1/sunsets/{name}/usage and the lines
// of `sunset gateway --usage-file`).
type Batch struct {
	Gateway string      `json:"gateway"`
	Seq     int64       `json:"seq"`
	Counts  []Count     `json:"counts"`
	Aware   []Awareness `json:"aware,omitempty"`
}

// Count is one counter of a Batch: the requests of one consumer to one feature in one hour.
type Count struct {
	// Feature is the feature's name; "" for requests that match no feature's route.
	Feature  string    `json:"feature"`
	Consumer string    `json:"consumer"`
	Hour     time.Time `json:"hour"`
	Count    uint64    `json:"count"`
	// Errors is how many of those requests were answered with a server error (status 500 and
	// above) by the service, or by the gateway failing to reach it. The gateway's own answers
	// that carry out the plan (a brownout, gone, read-only) are not errors.
	Errors uint64 `json:"errors,omitempty"`
	// LastAt is the instant of the latest request counted, within Hour's hour, so that "last
	// seen" is a request's time and not the start of its hour; zero from a gateway that does not
	// send it.
	LastAt time.Time `json:"last_at,omitzero"`
}

// Awareness records the first time a consumer was served a Deprecation header: the in-band proof
// that it was told.
type Awareness struct {
	Consumer  string    `json:"consumer"`
	FirstSeen time.Time `json:"first_seen"`
}
