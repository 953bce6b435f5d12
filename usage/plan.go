package usage

import (
	"fmt"
	"os"

	"github.com/sunsetops/sunset/plan"
)

// ApplyPlan sets what a plan says about an analysis: its features' routes, its time zone and
// its contacts (the consumers.contacts file, relative to the plan's folder dir), so that routes
// are counted per feature and consumers are joined with their names and tiers. It returns how
// to identify consumers: identify when it is given, otherwise the plan's consumers.identify (a
// header, or a query parameter read as the log field arg_NAME), otherwise "" (the default).
func (o *Options) ApplyPlan(p *plan.Plan, dir, identify string) (string, error) {
	for _, f := range p.Features {
		o.Features = append(o.Features, FeatureRoutes{Name: f.Name, Core: f.Core, Routes: f.Routes})
	}
	o.Location = p.Location()
	if p.Consumers.Contacts != "" {
		f, err := os.Open(plan.LocalPath(dir, p.Consumers.Contacts))
		if err != nil {
			return "", fmt.Errorf("contacts: %w", err)
		}
		c, err := ReadContacts(f, p.ContactOptions())
		f.Close()
		if err != nil {
			return "", fmt.Errorf("%s: %w", p.Consumers.Contacts, err)
		}
		o.Contacts = c
	}
	if identify != "" {
		return identify, nil
	}
	switch id := p.Consumers.Identify; {
	case id.Header != "":
		return "header:" + id.Header, nil
	case id.Query != "":
		return "field:arg_" + id.Query, nil
	}
	return "", nil
}
