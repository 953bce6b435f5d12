package ui

import (
	"slices"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
)

// buildGantt lays the plan's timeline out as Gantt rows: the service's and each feature's
// phases, then the notices, brownouts, runbook and data actions as marks, the milestones as
// lines.
func buildGantt(p *plan.Plan, tl *plan.Timeline, acts []engine.Action, now time.Time, lang string) *gantt {
	t := uiTexts[lang]
	g := &gantt{Title: t["TimelineChart"], Now: now, NowLabel: t["Now"], Loc: p.Location()}
	ms, _ := p.MilestoneTimes()
	end := time.Time{}
	for _, a := range tl.Actions {
		if a.At.After(end) {
			end = a.At
		}
	}
	// Phases run on to now once the last action is past, so "gone" shows how long it has been.
	if now.After(end) {
		end = now
	}
	service, features, err := p.PhaseTimes()
	if err == nil {
		g.Rows = append(g.Rows, phaseRow(t["Service"], ms[plan.Announce], service, end, t))
		for i, f := range features {
			if i >= 8 {
				break
			}
			label := p.Features[i].Title.In(lang)
			if label == "" {
				label = p.Features[i].Name
			}
			g.Rows = append(g.Rows, phaseRow(label, time.Time{}, f, end, t))
		}
	}
	status := map[string]engine.ActionStatus{}
	for _, a := range acts {
		status[a.Key] = a.Status
	}
	rows := map[plan.ActionKind]*ganttRow{}
	order := []plan.ActionKind{plan.KindNotice, plan.KindBrownout, plan.KindRunbook, plan.KindData}
	for _, k := range order {
		rows[k] = &ganttRow{Label: kindText(lang, string(k))}
	}
	for _, a := range tl.Actions {
		row := rows[a.Kind]
		if row == nil {
			continue
		}
		row.Marks = append(row.Marks, ganttMark{At: a.At, Label: a.Name, Done: status[a.Key] == engine.ActionDone, Held: status[a.Key] == engine.ActionHeld})
	}
	for _, k := range order {
		if len(rows[k].Marks) > 0 {
			g.Rows = append(g.Rows, *rows[k])
		}
	}
	for _, name := range plan.StandardMilestones {
		if at, ok := ms[name]; ok {
			g.Lines = append(g.Lines, ganttLine{At: at, Label: milestoneText(lang, name)})
		}
	}
	return g
}

// phaseRow is one Gantt row of phases: announced (from announce, when given), deprecated,
// read-only, gone (until end).
func phaseRow(label string, announce time.Time, pt plan.PhaseTimes, end time.Time, t uiText) ganttRow {
	row := ganttRow{Label: label}
	type edge struct {
		at           time.Time
		class, label string
	}
	edges := []edge{{announce, "announced", t["PhaseAnnounced"]}, {pt.Deprecated, "deprecated", t["PhaseDeprecated"]},
		{pt.ReadOnly, "read_only", t["PhaseReadOnly"]}, {pt.Gone, "gone", t["PhaseGone"]}}
	edges = slices.DeleteFunc(edges, func(e edge) bool { return e.at.IsZero() })
	for i, e := range edges {
		to := end
		if i+1 < len(edges) {
			to = edges[i+1].at
		}
		if e.class == "gone" && !to.After(e.at) {
			to = e.at.Add(24 * time.Hour)
		}
		row.Segments = append(row.Segments, ganttSegment{From: e.at, To: to, Class: e.class, Label: e.label})
	}
	return row
}
