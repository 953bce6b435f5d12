package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// inst parses an instant or fails the test.
func inst(t testing.TB, s string) Instant {
	t.Helper()
	in, err := ParseInstant(s)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func instp(t testing.TB, s string) *Instant {
	t.Helper()
	in := inst(t, s)
	return &in
}

func dur(t testing.TB, s string) Duration {
	t.Helper()
	d, err := ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return Duration(d)
}

// ordersPlan is a small plan in the spirit of examples/api-v2.yaml, built in Go. Tests change
// a copy of it to state one behaviour each.
func ordersPlan(t testing.TB) *Plan {
	t.Helper()
	return &Plan{
		Service: Service{Name: "orders-api-v1", TimeZone: "Asia/Shanghai"},
		Milestones: Milestones{
			{Announce, inst(t, "2027-01-05T10:00")},
			{Deprecate, inst(t, "announce")},
			{ReadOnly, inst(t, "2027-03-01T02:00")},
			{Shutdown, inst(t, "2027-03-15T02:00")},
			{DeleteData, inst(t, "2027-09-15")},
		},
		Features: []Feature{
			{Name: "reports", Routes: []string{"GET /v1/reports/{id}", "POST /v1/reports"}, Gone: instp(t, "2027-02-01T02:00")},
			{Name: "exports", Routes: []string{"GET /v1/exports/{id}"}, Gone: instp(t, "shutdown-14d"), Redirect: "https://api.example.com/v2/exports"},
			{Name: "orders", Core: true, Routes: []string{"/v1/orders/"}},
		},
		Brownouts: []Brownout{
			{From: inst(t, "shutdown-28d"), Until: instp(t, "shutdown-14d"), Every: "Tue,Thu 14:00", For: dur(t, "15m"), Features: []string{"reports"}},
			{From: inst(t, "shutdown-7d"), Percent: 10, Audience: "laggards"},
		},
		Notices: []Notice{
			{At: inst(t, "announce"), To: "all", Channels: []string{"email", "banner"}, Template: "announce"},
			{At: inst(t, "shutdown-30d"), To: "active_consumers", Channels: []string{"email"}, Template: "reminder"},
		},
		Guardrails: []Guardrail{
			{Name: "unhappy-users", When: "feedback.negative_ratio > 0.4 over 24h"},
			{When: "consumers.active{tier=critical} > 0", Before: instp(t, "shutdown-3d"), Then: "notify"},
		},
		Data: Data{
			Export:    &Export{PerUser: ExportSource{HTTP: "http://127.0.0.1:9000/export?user={id}"}, Until: instp(t, "delete_data")},
			Retention: &Retention{Keep: dur(t, "180d")},
		},
		Runbook: []RunbookStep{{Name: "read-only", Gateway: "read_only"}, {Name: "drain"}, {Name: "stop", Exec: []string{"true"}}},
	}
}

func mustCompile(t testing.TB, p *Plan) *Timeline {
	t.Helper()
	tl, err := p.Compile()
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return tl
}

// lines writes the actions of the given kinds (all when none) as "KEY @ LOCAL TIME | NAME |
// DETAIL", the form the expectations below are written in.
func lines(tl *Timeline, kinds ...ActionKind) []string {
	var out []string
	for _, a := range tl.Actions {
		if len(kinds) > 0 && !slices.Contains(kinds, a.Kind) {
			continue
		}
		out = append(out, fmt.Sprintf("%s @ %s | %s | %s", a.Key, a.At.Format("2006-01-02 15:04 MST"), a.Name, a.Detail))
	}
	return out
}

func assertLines(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("actions differ\n got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func TestCompileMilestones(t *testing.T) {
	tl := mustCompile(t, ordersPlan(t))
	if tl.Service != "orders-api-v1" || tl.TimeZone != "Asia/Shanghai" || tl.Location.String() != "Asia/Shanghai" {
		t.Errorf("header = %q %q %v", tl.Service, tl.TimeZone, tl.Location)
	}
	assertLines(t, lines(tl, KindMilestone), []string{
		"milestone/announce @ 2027-01-05 10:00 CST | announce | the sunset is announced",
		"milestone/deprecate @ 2027-01-05 10:00 CST | deprecate | Deprecation and Sunset headers on every answer (announce)",
		"milestone/read_only @ 2027-03-01 02:00 CST | read_only | the service refuses writes",
		"milestone/shutdown @ 2027-03-15 02:00 CST | shutdown | the service answers 410 Gone",
		"milestone/delete_data @ 2027-09-15 00:00 CST | delete_data | end of data retention",
	})
	t.Run("custom milestones are kept with their own name", func(t *testing.T) {
		p := ordersPlan(t)
		p.Milestones = append(p.Milestones, Milestone{"partner_call", inst(t, "shutdown-10d")})
		got := lines(mustCompile(t, p), KindMilestone)
		if !slices.Contains(got, "milestone/partner_call @ 2027-03-05 02:00 CST | partner_call | custom milestone (shutdown-10d)") {
			t.Errorf("custom milestone missing: %v", got)
		}
	})
	t.Run("a plan without a time zone is in UTC", func(t *testing.T) {
		p := ordersPlan(t)
		p.Service.TimeZone = ""
		tl := mustCompile(t, p)
		if tl.TimeZone != "UTC" || tl.Actions[0].At.Location() != time.UTC {
			t.Errorf("zone = %q, first action at %v", tl.TimeZone, tl.Actions[0].At)
		}
	})
}

func TestCompileFeatures(t *testing.T) {
	tests := []struct {
		name    string
		feature func(t *testing.T) Feature
		want    []string
	}{
		{"a non-core feature is deprecated with the service and gone on its own date",
			func(t *testing.T) Feature {
				return Feature{Name: "reports", Routes: []string{"GET /v1/reports/{id}", "POST /v1/reports"}, Gone: instp(t, "2027-02-01T02:00")}
			}, []string{
				"feature/reports/deprecated @ 2027-01-05 10:00 CST | reports | deprecated: Deprecation and Sunset headers on GET /v1/reports/{id}, POST /v1/reports",
				"feature/reports/gone @ 2027-02-01 02:00 CST | reports | gone: 410",
			}},
		{"a core feature follows read_only and shutdown",
			func(t *testing.T) Feature {
				return Feature{Name: "orders", Core: true, Routes: []string{"/v1/orders/"}}
			},
			[]string{
				"feature/orders/deprecated @ 2027-01-05 10:00 CST | orders | deprecated: Deprecation and Sunset headers on /v1/orders/",
				"feature/orders/read_only @ 2027-03-01 02:00 CST | orders | read_only: writes refused with 503, reads still served",
				"feature/orders/gone @ 2027-03-15 02:00 CST | orders | gone: 410",
			}},
		{"a non-core feature without dates skips read_only and goes at shutdown",
			func(t *testing.T) Feature { return Feature{Name: "search", Routes: []string{"GET /v1/search"}} },
			[]string{
				"feature/search/deprecated @ 2027-01-05 10:00 CST | search | deprecated: Deprecation and Sunset headers on GET /v1/search",
				"feature/search/gone @ 2027-03-15 02:00 CST | search | gone: 410",
			}},
		{"a feature with a redirect is redirected instead of gone",
			func(t *testing.T) Feature {
				return Feature{Name: "exports", Routes: []string{"GET /v1/exports/{id}"}, Gone: instp(t, "shutdown-14d"), Redirect: "https://api.example.com/v2/exports"}
			}, []string{
				"feature/exports/deprecated @ 2027-01-05 10:00 CST | exports | deprecated: Deprecation and Sunset headers on GET /v1/exports/{id}",
				"feature/exports/redirect @ 2027-03-01 02:00 CST | exports | redirect: 308 to https://api.example.com/v2/exports",
			}},
		{"a feature's own dates win over the milestones",
			func(t *testing.T) Feature {
				return Feature{Name: "bulk", Core: true, Routes: []string{"POST /v1/bulk"}, Deprecate: instp(t, "announce+1w"), ReadOnly: instp(t, "2027-02-01T00:00"), Gone: instp(t, "read_only")}
			}, []string{
				"feature/bulk/deprecated @ 2027-01-12 10:00 CST | bulk | deprecated: Deprecation and Sunset headers on POST /v1/bulk",
				"feature/bulk/read_only @ 2027-02-01 00:00 CST | bulk | read_only: writes refused with 503, reads still served",
				"feature/bulk/gone @ 2027-03-01 02:00 CST | bulk | gone: 410",
			}},
		{"phases that would begin once the feature is gone are left out",
			func(t *testing.T) Feature {
				return Feature{Name: "legacy", Core: true, Routes: []string{"GET /v0/"}, Gone: instp(t, "2027-01-01T00:00")}
			}, []string{
				"feature/legacy/gone @ 2027-01-01 00:00 CST | legacy | gone: 410",
			}},
		{"many routes are cut to three",
			func(t *testing.T) Feature {
				return Feature{Name: "admin", Routes: []string{"GET /a", "GET /b", "GET /c", "GET /d", "GET /e"}, Gone: instp(t, "shutdown")}
			}, []string{
				"feature/admin/deprecated @ 2027-01-05 10:00 CST | admin | deprecated: Deprecation and Sunset headers on GET /a, GET /b, GET /c and 2 more routes",
				"feature/admin/gone @ 2027-03-15 02:00 CST | admin | gone: 410",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ordersPlan(t)
			p.Features = []Feature{tt.feature(t)}
			assertLines(t, lines(mustCompile(t, p), KindFeature), tt.want)
		})
	}
	t.Run("without a deprecate milestone features are deprecated at announce", func(t *testing.T) {
		p := ordersPlan(t)
		p.Milestones = slices.DeleteFunc(p.Milestones, func(m Milestone) bool { return m.Name == Deprecate })
		p.Features = p.Features[2:]
		got := lines(mustCompile(t, p), KindFeature)
		if !strings.HasPrefix(got[0], "feature/orders/deprecated @ 2027-01-05 10:00 CST") {
			t.Errorf("got %v", got)
		}
	})
}

func TestCompileBrownouts(t *testing.T) {
	t.Run("weekly windows are listed from from (inclusive) to until (exclusive)", func(t *testing.T) {
		p := ordersPlan(t)
		p.Brownouts = p.Brownouts[:1]
		// shutdown-28d is Mon 2027-02-15 02:00; shutdown-14d is Mon 2027-03-01 02:00.
		assertLines(t, lines(mustCompile(t, p), KindBrownout), []string{
			"brownout/0/1 @ 2027-02-16 14:00 CST | brownout | window 1/4, Tue,Thu 14:00 for 15m: 503 for all consumers (features: reports)",
			"brownout/0/2 @ 2027-02-18 14:00 CST | brownout | window 2/4, Tue,Thu 14:00 for 15m: 503 for all consumers (features: reports)",
			"brownout/0/3 @ 2027-02-23 14:00 CST | brownout | window 3/4, Tue,Thu 14:00 for 15m: 503 for all consumers (features: reports)",
			"brownout/0/4 @ 2027-02-25 14:00 CST | brownout | window 4/4, Tue,Thu 14:00 for 15m: 503 for all consumers (features: reports)",
		})
	})
	t.Run("until defaults to shutdown and status and share are shown", func(t *testing.T) {
		p := ordersPlan(t)
		p.Brownouts = []Brownout{{From: inst(t, "shutdown-3d"), Every: "daily 02:00", For: dur(t, "1h"), Status: 410, Percent: 50}}
		// A window at exactly shutdown (03-15 02:00) is not listed: until is exclusive.
		assertLines(t, lines(mustCompile(t, p), KindBrownout), []string{
			"brownout/0/1 @ 2027-03-12 02:00 CST | brownout | window 1/3, daily 02:00 for 1h: 410 for 50% of requests from all consumers (whole service)",
			"brownout/0/2 @ 2027-03-13 02:00 CST | brownout | window 2/3, daily 02:00 for 1h: 410 for 50% of requests from all consumers (whole service)",
			"brownout/0/3 @ 2027-03-14 02:00 CST | brownout | window 3/3, daily 02:00 for 1h: 410 for 50% of requests from all consumers (whole service)",
		})
	})
	t.Run("a percentage brownout is one start action", func(t *testing.T) {
		p := ordersPlan(t)
		p.Brownouts = p.Brownouts[1:]
		assertLines(t, lines(mustCompile(t, p), KindBrownout), []string{
			"brownout/0/start @ 2027-03-08 02:00 CST | brownout | 10% of requests from laggards fail with 503 until shutdown (whole service)",
		})
	})
	t.Run("exempt consumers are named", func(t *testing.T) {
		p := ordersPlan(t)
		p.Consumers.Exempt = []string{"acme-prod", "globex"}
		p.Brownouts = p.Brownouts[1:]
		assertLines(t, lines(mustCompile(t, p), KindBrownout), []string{
			"brownout/0/start @ 2027-03-08 02:00 CST | brownout | 10% of requests from laggards except acme-prod, globex fail with 503 until shutdown (whole service)",
		})
		p.Consumers.Exempt = []string{"a", "b", "c", "d"}
		if got := lines(mustCompile(t, p), KindBrownout); !strings.Contains(got[0], "from laggards except 4 exempt consumers fail") {
			t.Errorf("got %v", got)
		}
	})
	t.Run("an absolute until is shown as a local time", func(t *testing.T) {
		p := ordersPlan(t)
		p.Brownouts = []Brownout{{From: inst(t, "shutdown-7d"), Until: instp(t, "2027-03-14T00:00"), Percent: 2.5}}
		assertLines(t, lines(mustCompile(t, p), KindBrownout), []string{
			"brownout/0/start @ 2027-03-08 02:00 CST | brownout | 2.5% of requests from all consumers fail with 503 until 2027-03-14 00:00 CST (whole service)",
		})
	})
	t.Run("a daily 5-minute window over three years compiles to a start and an end", func(t *testing.T) {
		p := ordersPlan(t)
		p.Milestones[3].At = inst(t, "2030-01-05T02:00")
		p.Milestones[4].At = inst(t, "2030-06-01")
		p.Brownouts = []Brownout{{From: inst(t, "2027-01-05T00:00"), Every: "daily 03:00", For: dur(t, "5m")}}
		tl := mustCompile(t, p)
		assertLines(t, lines(tl, KindBrownout), []string{
			"brownout/0/start @ 2027-01-05 03:00 CST | brownout | 1096 windows, daily 03:00 for 5m until shutdown, too many to list: 503 for all consumers (whole service)",
			"brownout/0/end @ 2030-01-04 03:05 CST | brownout | last of 1096 windows ends, daily 03:00 for 5m",
		})
	})
	t.Run("exactly MaxListedWindows windows are still listed", func(t *testing.T) {
		p := ordersPlan(t)
		p.Brownouts = []Brownout{{From: inst(t, fmt.Sprintf("shutdown-%dd", MaxListedWindows)), Every: "daily 03:00", For: dur(t, "5m")}}
		if got := len(lines(mustCompile(t, p), KindBrownout)); got != MaxListedWindows {
			t.Errorf("%d windows listed, want %d", got, MaxListedWindows)
		}
		p.Brownouts[0].From = inst(t, fmt.Sprintf("shutdown-%dd", MaxListedWindows+1))
		if got := len(lines(mustCompile(t, p), KindBrownout)); got != 2 {
			t.Errorf("%d actions for %d windows, want a start and an end", got, MaxListedWindows+1)
		}
	})
}

func TestCompileNoticesGuardrailsRunbookData(t *testing.T) {
	tl := mustCompile(t, ordersPlan(t))
	t.Run("notices are named by template", func(t *testing.T) {
		assertLines(t, lines(tl, KindNotice), []string{
			"notice/0 @ 2027-01-05 10:00 CST | announce | to all via email, banner",
			"notice/1 @ 2027-02-13 02:00 CST | reminder | to active_consumers via email",
		})
	})
	t.Run("guardrails are checked an hour before each milestone after announce, until before", func(t *testing.T) {
		assertLines(t, lines(tl, KindGuardrail), []string{
			"guardrail/0/read_only @ 2027-03-01 01:00 CST | unhappy-users | before read_only, pause if feedback.negative_ratio > 0.4 over 24h",
			"guardrail/1/read_only @ 2027-03-01 01:00 CST | guardrail-1 | before read_only, notify if consumers.active{tier=critical} > 0",
			"guardrail/0/shutdown @ 2027-03-15 01:00 CST | unhappy-users | before shutdown, pause if feedback.negative_ratio > 0.4 over 24h",
			"guardrail/0/delete_data @ 2027-09-14 23:00 CST | unhappy-users | before delete_data, pause if feedback.negative_ratio > 0.4 over 24h",
		})
	})
	t.Run("the runbook starts at shutdown", func(t *testing.T) {
		assertLines(t, lines(tl, KindRunbook), []string{
			"runbook/start @ 2027-03-15 02:00 CST | runbook | 3 steps: read-only, drain, stop",
		})
	})
	t.Run("data is deleted at delete_data and export links expire", func(t *testing.T) {
		assertLines(t, lines(tl, KindData), []string{
			"data/delete @ 2027-09-15 00:00 CST | delete | delete data (legal hold: no, backups kept 180 days)",
			"data/export-until @ 2027-09-15 00:00 CST | export | export links expire",
		})
	})
	t.Run("a legal hold is shown", func(t *testing.T) {
		p := ordersPlan(t)
		p.Data.Retention = &Retention{LegalHold: true}
		got := lines(mustCompile(t, p), KindData)
		if got[0] != "data/delete @ 2027-09-15 00:00 CST | delete | delete data (legal hold: yes)" {
			t.Errorf("got %v", got)
		}
	})
	t.Run("a plan without runbook, data or delete_data has no such actions", func(t *testing.T) {
		p := ordersPlan(t)
		p.Runbook, p.Data = nil, Data{}
		p.Milestones = p.Milestones[:4]
		if got := lines(mustCompile(t, p), KindRunbook, KindData); len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
}

func TestCompileOrder(t *testing.T) {
	tl := mustCompile(t, ordersPlan(t))
	t.Run("actions are sorted by instant", func(t *testing.T) {
		if !slices.IsSortedFunc(tl.Actions, func(a, b Action) int { return a.At.Compare(b.At) }) {
			t.Error("actions are not sorted")
		}
	})
	t.Run("ties keep plan order: milestones, features, brownouts, notices, guardrails, runbook, data", func(t *testing.T) {
		var atShutdown, atAnnounce []string
		for _, a := range tl.Actions {
			switch a.At.Format(time.DateTime) {
			case "2027-03-15 02:00:00":
				atShutdown = append(atShutdown, a.Key)
			case "2027-01-05 10:00:00":
				atAnnounce = append(atAnnounce, a.Key)
			}
		}
		assertLines(t, atAnnounce, []string{
			"milestone/announce", "milestone/deprecate",
			"feature/reports/deprecated", "feature/exports/deprecated", "feature/orders/deprecated",
			"notice/0",
		})
		assertLines(t, atShutdown, []string{"milestone/shutdown", "feature/orders/gone", "runbook/start"})
	})
	t.Run("every instant is in the plan's zone", func(t *testing.T) {
		for _, a := range tl.Actions {
			if a.At.Location() != tl.Location {
				t.Errorf("%s at %v", a.Key, a.At)
			}
		}
	})
}

func TestCompileKeys(t *testing.T) {
	p := ordersPlan(t)
	before := mustCompile(t, p)
	keys := func(tl *Timeline) map[string]bool {
		m := map[string]bool{}
		for _, a := range tl.Actions {
			if m[a.Key] {
				t.Errorf("key %q twice", a.Key)
			}
			m[a.Key] = true
		}
		return m
	}
	t.Run("keys are unique", func(t *testing.T) { keys(before) })
	t.Run("keys stay when a re-plan moves every date", func(t *testing.T) {
		moved := ordersPlan(t)
		moved.Milestones[0].At = inst(t, "2027-02-05T10:00")
		moved.Milestones[2].At = inst(t, "2027-04-01T02:00")
		moved.Milestones[3].At = inst(t, "2027-04-15T02:00")
		moved.Milestones[4].At = inst(t, "2027-10-15")
		moved.Features[0].Gone = instp(t, "2027-03-01T02:00")
		after := mustCompile(t, moved)
		if a, b := slices.Sorted(maps.Keys(keys(before))), slices.Sorted(maps.Keys(keys(after))); !slices.Equal(a, b) {
			t.Errorf("keys changed\nbefore %v\nafter  %v", a, b)
		}
		if before.Actions[0].At.Equal(after.Actions[0].At) {
			t.Error("the dates did not move")
		}
	})
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		change  func(t *testing.T, p *Plan)
		wantErr []string
	}{
		{"an instant naming an unknown milestone", func(t *testing.T, p *Plan) {
			p.Notices[1].At = inst(t, "shutdwn-30d")
		}, []string{`notices[1].at: "shutdwn-30d" names unknown milestone "shutdwn" (did you mean "shutdown"?)`}},
		{"milestones in a cycle", func(t *testing.T, p *Plan) {
			p.Milestones[0].At = inst(t, "deprecate")
		}, []string{"milestones:", "cycle"}},
		{"two features of one name", func(t *testing.T, p *Plan) {
			p.Features[1].Name = "reports"
			p.Features[1].Redirect = ""
		}, []string{`two plan elements compile to the action "feature/reports/deprecated"`}},
		{"an unreadable schedule", func(t *testing.T, p *Plan) {
			p.Brownouts[0].Every = "Tus 14:00"
		}, []string{`brownouts[0].every: cannot read "Tus 14:00"`}},
		{"windows without a duration", func(t *testing.T, p *Plan) {
			p.Brownouts[0].For = 0
		}, []string{"brownouts[0].for: a brownout with weekly windows needs a duration"}},
		{"a brownout that is neither weekly nor a percentage", func(t *testing.T, p *Plan) {
			p.Brownouts[1].Percent = 0
		}, []string{"brownouts[1]: a brownout needs either every (weekly windows) or percent"}},
		{"a schedule with no window in its period", func(t *testing.T, p *Plan) {
			p.Brownouts[0].Every = "Sat 10:00"
			p.Brownouts[0].From = inst(t, "shutdown-3d") // Fri 03-12 02:00
			p.Brownouts[0].Until = instp(t, "shutdown-2d")
		}, []string{"brownouts[0]: no Sat 10:00 window starts between from (2027-03-12 02:00 CST) and until (2027-03-13 02:00 CST)"}},
		{"no shutdown milestone for defaults", func(t *testing.T, p *Plan) {
			p.Milestones = slices.DeleteFunc(p.Milestones, func(m Milestone) bool { return m.Name == Shutdown })
			p.Notices, p.Guardrails, p.Features[1].Gone = nil, nil, nil
			p.Brownouts = []Brownout{{From: inst(t, "2027-03-01T00:00"), Percent: 5}}
		}, []string{
			`features[1]: feature "exports" has no gone instant and the plan has no shutdown milestone`,
			"brownouts[0]: a brownout without until ends at the shutdown milestone, which the plan lacks",
			"runbook: the runbook starts at the shutdown milestone, which the plan lacks",
		}},
		{"every problem is reported at once", func(t *testing.T, p *Plan) {
			p.Features[0].Gone = instp(t, "gone_day")
			p.Guardrails[1].Before = instp(t, "later")
			p.Data.Export.Until = instp(t, "forever")
		}, []string{"features[0].gone:", "guardrails[1].before:", "data.export.until:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ordersPlan(t)
			tt.change(t, p)
			tl, err := p.Compile()
			if err == nil {
				t.Fatalf("Compile succeeded with %d actions, want an error", len(tl.Actions))
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
			}
		})
	}
}

// benchPlan has 50 features and four brownouts, about the size the gateway's benchmarks use.
func benchPlan(b *testing.B) *Plan {
	p := ordersPlan(b)
	p.Features = nil
	for i := range 50 {
		f := Feature{Name: fmt.Sprintf("feature-%02d", i), Core: i%5 == 0, Routes: []string{fmt.Sprintf("GET /v1/f%d/{id}", i), fmt.Sprintf("POST /v1/f%d", i)}}
		if i%3 == 0 {
			f.Gone = instp(b, fmt.Sprintf("shutdown-%dd", i%28))
		}
		p.Features = append(p.Features, f)
	}
	p.Brownouts = append(p.Brownouts,
		Brownout{From: inst(b, "shutdown-14d"), Every: "Mon-Fri 10:00", For: dur(b, "1h"), Status: 410},
		Brownout{From: inst(b, "shutdown-60d"), Every: "daily 03:00", For: dur(b, "5m")},
	)
	return p
}

func BenchmarkCompile(b *testing.B) {
	p := benchPlan(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Compile(); err != nil {
			b.Fatal(err)
		}
	}
}
