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
	contacts := contactIndex(in.Contacts)
	cons := map[string]*ActiveConsumer{}
	consFeat := map[string]map[string]bool{}
	feats := map[string]*FeatureUse{}
	featCons := map[string]map[string]bool{}
	for _, f := range p.Features {
		fu := &FeatureUse{Name: f.Name, Core: f.Core}
		if f.Gone != nil {
			if t, err := p.Resolve(*f.Gone, ms); err == nil {
				fu.Gone = t.UTC()
			}
		}
		feats[f.Name], featCons[f.Name] = fu, map[string]bool{}
	}
	for _, c := range in.Usage {
		if c.Count == 0 || c.Hour.Before(a.From) || c.Hour.After(a.To) {
			continue
		}
		fname := cmp.Or(c.Feature, "(none)")
		fu := feats[fname]
		if fu == nil {
			fu = &FeatureUse{Name: fname}
			feats[fname], featCons[fname] = fu, map[string]bool{}
		}
		fu.Requests += c.Count
		if c.Consumer == in.unknown() {
			a.Unidentified += c.Count
			continue
		}
		featCons[fname][c.Consumer] = true
		x := cons[c.Consumer]
		if x == nil {
			ct := contacts[c.Consumer]
			x = &ActiveConsumer{ID: c.Consumer, Name: ct.Name, Tier: cmp.Or(ct.Tier, "unknown")}
			cons[c.Consumer], consFeat[c.Consumer] = x, map[string]bool{}
		}
		x.Requests += c.Count
		consFeat[c.Consumer][fname] = true
		if c.Last().After(x.LastSeen) {
			x.LastSeen = c.Last()
		}
	}
	tiers := map[string]*TierCount{}
	for id, x := range cons {
		x.Features = slices.Sorted(maps.Keys(consFeat[id]))
		a.Consumers = append(a.Consumers, *x)
		t := tiers[x.Tier]
		if t == nil {
			t = &TierCount{Tier: x.Tier}
			tiers[x.Tier] = t
		}
		t.Consumers++
		t.Requests += x.Requests
	}
	slices.SortFunc(a.Consumers, func(x, y ActiveConsumer) int {
		return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.ID, y.ID))
	})
	order := p.Consumers.Tiers
	if len(order) == 0 {
		order = []string{"critical", "standard", "free"}
	}
	rank := func(t string) int {
		if i := slices.Index(order, t); i >= 0 {
			return i
		}
		return len(order)
	}
	for _, t := range tiers {
		a.Tiers = append(a.Tiers, *t)
	}
	slices.SortFunc(a.Tiers, func(x, y TierCount) int {
		return cmp.Or(cmp.Compare(rank(x.Tier), rank(y.Tier)), cmp.Compare(x.Tier, y.Tier))
	})
	for name, f := range feats {
		f.Consumers = len(featCons[name])
		a.Features = append(a.Features, *f)
	}
	slices.SortFunc(a.Features, func(x, y FeatureUse) int {
		return cmp.Or(cmp.Compare(y.Requests, x.Requests), cmp.Compare(x.Name, y.Name))
	})
	if in.Accounts != nil {
		ar := &AccountRisk{Accounts: []AccountExposure{}}
		for _, acc := range in.Accounts {
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
		a.Accounts = ar
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
