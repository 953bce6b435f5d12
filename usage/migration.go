package usage

import (
	"cmp"
	"slices"
	"time"
)

// Migration says which consumers of the retiring service moved to the alternative.
//
// A consumer of the retiring service is
//
//   - moved when it calls the alternative and either its last call to the retiring service came
//     no later than its first call to the alternative, or its last call to the retiring service
//     came before its last call to the alternative and more than a day before the retiring
//     service's logs end;
//   - both when it calls the alternative but is not moved;
//   - not moved when it never calls the alternative.
//
// Consumers only seen on the alternative count as New. Consumers are matched by identity, so
// both sets of logs must name them the same way.
type Migration struct {
	AlternativeInputs    []InputResult `json:"alternative_inputs"`
	AlternativeRequests  int64         `json:"alternative_requests"`
	AlternativeConsumers int64         `json:"alternative_consumers"`
	// Rate is Moved.Count over the retiring service's consumers.
	Rate     float64        `json:"rate"`
	Moved    MigrationGroup `json:"moved"`
	Both     MigrationGroup `json:"both"`
	NotMoved MigrationGroup `json:"not_moved"`
	New      int64          `json:"new"`
}

// MigrationGroup is a count and the heaviest consumers of a migration state, by their requests
// to the retiring service.
type MigrationGroup struct {
	Count     int64              `json:"count"`
	Consumers []MigratedConsumer `json:"consumers"`
}

// MigratedConsumer is one consumer's position in the migration.
type MigratedConsumer struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Tier string `json:"tier,omitempty"`
	// Requests are to the retiring service; LastOld is the last of them.
	Requests int64     `json:"requests"`
	LastOld  time.Time `json:"last_old"`
	// AlternativeRequests and FirstNew are on the alternative (zero when not moved).
	AlternativeRequests int64      `json:"alternative_requests"`
	FirstNew            *time.Time `json:"first_new,omitempty"`
}

// TrackMigration compares r (the retiring service) with alt (the alternative) and sets
// r.Migration. limit bounds the consumers listed per group (all counts stay exact).
func (r *Result) TrackMigration(alt *Result, contacts map[string]Contact, limit int) {
	m := &Migration{AlternativeInputs: alt.Inputs, AlternativeRequests: alt.Requests, AlternativeConsumers: alt.Consumers,
		Moved: MigrationGroup{Consumers: []MigratedConsumer{}}, Both: MigrationGroup{Consumers: []MigratedConsumer{}}, NotMoved: MigrationGroup{Consumers: []MigratedConsumer{}}}
	r.Migration = m
	old, nw := r.all, alt.all
	if old == nil || nw == nil {
		return
	}
	var lists [3][]MigratedConsumer // moved, both, not moved
	settle := old.lastUnix - 86400
	for oi := range int32(old.consumerIdx.len()) {
		key := old.consumerIdx.str(oi)
		oc := &old.consumers[oi]
		ct := contacts[key]
		mc := MigratedConsumer{ID: key, Name: ct.Name, Tier: ct.Tier, Requests: oc.requests,
			LastOld: time.Unix(oc.last, 0).In(time.FixedZone("", int(oc.lastOff)))}
		ni, ok := nw.consumerIdx.find([]byte(key))
		if !ok {
			lists[2] = append(lists[2], mc)
			continue
		}
		nc := &nw.consumers[ni]
		first := time.Unix(nc.first, 0).In(time.FixedZone("", int(nc.firstOff)))
		mc.AlternativeRequests, mc.FirstNew = nc.requests, &first
		if oc.last <= nc.first || (oc.last < nc.last && oc.last < settle) {
			lists[0] = append(lists[0], mc)
		} else {
			lists[1] = append(lists[1], mc)
		}
	}
	for ni := range int32(nw.consumerIdx.len()) {
		if _, ok := old.consumerIdx.find(nw.consumerIdx.key(ni)); !ok {
			m.New++
		}
	}
	groups := [3]*MigrationGroup{&m.Moved, &m.Both, &m.NotMoved}
	for i, l := range lists {
		slices.SortFunc(l, func(x, y MigratedConsumer) int {
			return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.ID, y.ID))
		})
		groups[i].Count = int64(len(l))
		groups[i].Consumers = append(groups[i].Consumers, l[:min(limit, len(l))]...)
	}
	if n := len(old.consumers); n > 0 {
		m.Rate = float64(m.Moved.Count) / float64(n)
	}
}
