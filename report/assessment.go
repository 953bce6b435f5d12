package report

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// AssessmentWindow is how far back the assessment looks for active consumers.
const AssessmentWindow = 30 * 24 * time.Hour

// Assessment answers, before the sunset is scheduled, "what will this shutdown hit?": the
// consumers and tiers still active, the accounts and revenue at risk, the features in use, the
// risks with their owners and the stakeholders with their sign-off. It is the document the
// stakeholders sign off on. Its JSON field names are stable (docs/report.md).
type Assessment struct {
	// Kind is "assessment".
	Kind        string    `json:"kind"`
	Sunset      string    `json:"sunset"`
	Title       plan.Text `json:"title"`
	State       string    `json:"state"`
	TimeZone    string    `json:"timezone"`
	GeneratedAt time.Time `json:"generated_at"`
	// From and To bound the usage looked at: AssessmentWindow before GeneratedAt.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`

	Milestones []PlannedMilestone `json:"milestones"`
	// Consumers are the identified consumers with requests in the window, busiest first.
	Consumers []ActiveConsumer `json:"consumers"`
	// Unidentified counts requests in the window from callers the gateway could not name.
	Unidentified uint64       `json:"unidentified"`
	Tiers        []TierCount  `json:"tiers"`
	Features     []FeatureUse `json:"features"`
	// Accounts is present when an accounts CSV was given.
	Accounts     *AccountRisk  `json:"accounts,omitempty"`
	Risks        []plan.Risk   `json:"risks"`
	Stakeholders []Stakeholder `json:"stakeholders"`
	Alternatives []Alternative `json:"alternatives"`
}

// PlannedMilestone is one milestone of the plan and its planned instant.
type PlannedMilestone struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// ActiveConsumer is one consumer still calling.
type ActiveConsumer struct {
	ID       string    `json:"id"`
	Name     string    `json:"name,omitempty"`
	Tier     string    `json:"tier"`
	Requests uint64    `json:"requests"`
	LastSeen time.Time `json:"last_seen"`
	Features []string  `json:"features"`
}

// TierCount counts the active consumers of one tier ("unknown" for consumers without contact).
type TierCount struct {
	Tier      string `json:"tier"`
	Consumers int    `json:"consumers"`
	Requests  uint64 `json:"requests"`
}

// FeatureUse is the traffic of one feature in the window. Gone is when it is planned to go.
type FeatureUse struct {
	Name      string    `json:"name"`
	Core      bool      `json:"core"`
	Requests  uint64    `json:"requests"`
	Consumers int       `json:"consumers"`
	Gone      time.Time `json:"gone,omitzero"`
}

// AccountRisk is the revenue the shutdown puts at risk: accounts with an active consumer.
type AccountRisk struct {
	Accounts       []AccountExposure `json:"accounts"`
	AccountsAtRisk int               `json:"accounts_at_risk"`
	RevenueTotal   float64           `json:"revenue_total"`
	RevenueAtRisk  float64           `json:"revenue_at_risk"`
}

// AccountExposure is one account and its active consumers.
type AccountExposure struct {
	Account         string   `json:"account"`
	Revenue         float64  `json:"revenue"`
	Consumers       []string `json:"consumers"`
	ActiveConsumers []string `json:"active_consumers"`
	AtRisk          bool     `json:"at_risk"`
}

// Stakeholder is one stakeholder of the plan and whether they signed off.
type Stakeholder struct {
	Name      string `json:"name"`
	Team      string `json:"team,omitempty"`
	Role      string `json:"role,omitempty"`
	Email     string `json:"email,omitempty"`
	SignedOff bool   `json:"signed_off"`
}

// Alternative is where users are sent.
type Alternative struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	Guide string `json:"guide,omitempty"`
}

// Assess builds the impact assessment of the sunset described by in.
func Assess(in Input) *Assessment {
	p := in.Plan
	loc := p.Location()
	a := &Assessment{
		Kind: "assessment", Sunset: in.Name, Title: p.Service.Title, State: in.State, TimeZone: loc.String(),
		GeneratedAt: in.Now.UTC(), From: in.Now.Add(-AssessmentWindow).UTC().Truncate(time.Hour), To: in.Now.UTC(),
		Milestones: []PlannedMilestone{}, Consumers: []ActiveConsumer{}, Tiers: []TierCount{}, Features: []FeatureUse{},
		Risks: []plan.Risk{}, Stakeholders: []Stakeholder{}, Alternatives: []Alternative{},
	}
	if a.Title == (plan.Text{}) {
		a.Title = plan.Text{EN: in.Name}
	}
	ms, _ := p.MilestoneTimes()
	for _, m := range p.Milestones {
		if t, ok := ms[m.Name]; ok {
			a.Milestones = append(a.Milestones, PlannedMilestone{Name: m.Name, At: t.UTC()})
		}
	}
	u := newWindowUsage(p, ms)
	u.count(in, a)
	a.Consumers = append(a.Consumers, u.activeConsumers()...)
	a.Tiers = append(a.Tiers, tierCounts(a.Consumers, p.Consumers.Tiers)...)
	a.Features = append(a.Features, u.featureUses()...)
	if in.Accounts != nil {
		a.Accounts = accountRisk(in.Accounts, u.cons)
	}
	a.Risks = append(a.Risks, p.Risks...)
	for _, s := range p.Stakeholders {
		a.Stakeholders = append(a.Stakeholders, Stakeholder{Name: s.Name, Team: s.Team, Role: s.Role, Email: s.Email, SignedOff: slices.Contains(in.Signoffs, s.Name)})
	}
	for _, alt := range p.Alternatives {
		a.Alternatives = append(a.Alternatives, Alternative{Name: alt.Name, URL: alt.URL, Guide: alt.Guide})
	}
	return a
}

// windowUsage is the usage in an assessment's window, per identified consumer and per feature.
type windowUsage struct {
	cons     map[string]*ActiveConsumer
	consFeat map[string]map[string]bool // the features each consumer used
	feats    map[string]*FeatureUse
	featCons map[string]map[string]bool // the consumers of each feature
}

// newWindowUsage starts with every feature of p, used by no one, and when it is planned to go.
func newWindowUsage(p *plan.Plan, ms map[string]time.Time) *windowUsage {
	u := &windowUsage{cons: map[string]*ActiveConsumer{}, consFeat: map[string]map[string]bool{}, feats: map[string]*FeatureUse{}, featCons: map[string]map[string]bool{}}
	for _, f := range p.Features {
		fu := &FeatureUse{Name: f.Name, Core: f.Core}
		if f.Gone != nil {
			if t, err := p.Resolve(*f.Gone, ms); err == nil {
				fu.Gone = t.UTC()
			}
		}
		u.feats[f.Name], u.featCons[f.Name] = fu, map[string]bool{}
	}
	return u
}

// count adds in's usage counts within a's window: requests without a feature count under
// "(none)", and requests from callers nobody could name add to a.Unidentified only.
func (u *windowUsage) count(in Input, a *Assessment) {
	contacts := contactIndex(in.Contacts)
	for _, c := range in.Usage {
		if c.Count == 0 || c.Hour.Before(a.From) || c.Hour.After(a.To) {
			continue
		}
		fname := cmp.Or(c.Feature, "(none)")
		fu := u.feats[fname]
		if fu == nil {
			fu = &FeatureUse{Name: fname}
			u.feats[fname], u.featCons[fname] = fu, map[string]bool{}
		}
		fu.Requests += c.Count
		if c.Consumer == in.unknown() {
			a.Unidentified += c.Count
			continue
		}
		u.featCons[fname][c.Consumer] = true
		x := u.cons[c.Consumer]
		if x == nil {
			ct := contacts[c.Consumer]
			x = &ActiveConsumer{ID: c.Consumer, Name: ct.Name, Tier: cmp.Or(ct.Tier, "unknown")}
			u.cons[c.Consumer], u.consFeat[c.Consumer] = x, map[string]bool{}
		}
		x.Requests += c.Count
		u.consFeat[c.Consumer][fname] = true
		if c.Last().After(x.LastSeen) {
			x.LastSeen = c.Last()
		}
	}
}

// activeConsumers returns the consumers with the features they used, busiest first.
func (u *windowUsage) activeConsumers() []ActiveConsumer {
	var out []ActiveConsumer
	for id, x := range u.cons {
		x.Features = slices.Sorted(maps.Keys(u.consFeat[id]))
		out = append(out, *x)
	}
	slices.SortFunc(out, func(x, y ActiveConsumer) int {
		return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.ID, y.ID))
	})
	return out
}

// featureUses returns the features with their distinct consumers, busiest first.
func (u *windowUsage) featureUses() []FeatureUse {
	var out []FeatureUse
	for name, f := range u.feats {
		f.Consumers = len(u.featCons[name])
		out = append(out, *f)
	}
	slices.SortFunc(out, func(x, y FeatureUse) int {
		return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.Name, y.Name))
	})
	return out
}

// tierCounts counts the consumers and requests per tier, in the plan's order of tiers (order;
// critical, standard, free when the plan names none), then tiers it does not name by name.
func tierCounts(consumers []ActiveConsumer, order []string) []TierCount {
	tiers := map[string]*TierCount{}
	for _, x := range consumers {
		t := tiers[x.Tier]
		if t == nil {
			t = &TierCount{Tier: x.Tier}
			tiers[x.Tier] = t
		}
		t.Consumers++
		t.Requests += x.Requests
	}
	if len(order) == 0 {
		order = []string{"critical", "standard", "free"}
	}
	rank := func(t string) int {
		if i := slices.Index(order, t); i >= 0 {
			return i
		}
		return len(order)
	}
	var out []TierCount
	for _, t := range tiers {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(x, y TierCount) int {
		return cmp.Or(cmp.Compare(rank(x.Tier), rank(y.Tier)), cmp.Compare(x.Tier, y.Tier))
	})
	return out
}

// accountRisk finds the accounts with an active consumer (cons) and the revenue they put at
// risk; the accounts at risk come first, then by revenue.
func accountRisk(accounts []Account, cons map[string]*ActiveConsumer) *AccountRisk {
	ar := &AccountRisk{Accounts: []AccountExposure{}}
	for _, acc := range accounts {
		e := AccountExposure{Account: acc.Account, Revenue: acc.Revenue, Consumers: slices.Clone(acc.Consumers), ActiveConsumers: []string{}}
		for _, id := range acc.Consumers {
			if cons[id] != nil {
				e.ActiveConsumers = append(e.ActiveConsumers, id)
			}
		}
		e.AtRisk = len(e.ActiveConsumers) > 0
		ar.RevenueTotal += acc.Revenue
		if e.AtRisk {
			ar.AccountsAtRisk++
			ar.RevenueAtRisk += acc.Revenue
		}
		ar.Accounts = append(ar.Accounts, e)
	}
	slices.SortFunc(ar.Accounts, func(x, y AccountExposure) int {
		if x.AtRisk != y.AtRisk {
			if x.AtRisk {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(y.Revenue, x.Revenue), cmp.Compare(x.Account, y.Account))
	})
	return ar
}
