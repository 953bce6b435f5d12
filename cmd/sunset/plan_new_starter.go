package main

import (
	"strings"
	"time"
)

// starterPlan is the commented plan `sunset plan new` writes without --from: every section
// with a sensible default, the announcement on announce's day and the other milestones after
// it. Its TODO markers (name, title, description) make it invalid until they are filled in.
func starterPlan(announce time.Time) []byte {
	day := func(offset int) string { return announce.AddDate(0, 0, offset).Format("2006-01-02") }
	r := strings.NewReplacer(
		"{{announce}}", day(0), "{{read_only}}", day(60), "{{shutdown}}", day(90), "{{delete_data}}", day(270),
	)
	return []byte(r.Replace(starterTemplate))
}

// starterTemplate is the starter plan; {{...}} are the milestones' days.
const starterTemplate = `# A Sunset plan: how one service is retired. Fill in every TODO, then:
#   sunset plan validate sunset.yaml     # every problem, with its line
#   sunset plan timeline sunset.yaml     # what happens when
#   sunset rehearse sunset.yaml          # watch it play in a minute, on scratch data
# The schema (sunset plan schema) gives every field; docs/ explains each part.
# 中文：填写所有 TODO 后运行 sunset plan validate 检查；sunset rehearse 可在约一分钟内用临时数据演练整个计划。
service:
  name: TODO                  # TODO: lower-case letters, digits and dashes, e.g. orders-api-v1
  title: {en: "TODO: the service's title", zh: "TODO：服务名称"}
  description:
    en: "TODO: what the service does and what replaces it"
    zh: "TODO：服务的用途及替代方案"
  timezone: UTC               # dates below are read in this IANA time zone
  upstream: http://127.0.0.1:9000   # where the gateway forwards requests until shutdown
  owners:
    - {name: Your Name, email: you@example.com, role: accountable}
    - {team: platform, email: platform@example.com, role: responsible, for: [gateway, runbook, data]}

# Who signs off before anything is scheduled (sunset signoff NAME STAKEHOLDER).
stakeholders:
  - {name: support, team: Customer Support, email: support@example.com, role: support}

# Where users should go instead; shown in notices, headers and public pages.
alternatives:
  - name: The new service
    url: https://example.com/new
    guide: https://example.com/new/migrate

# How callers are told apart, and who they are.
consumers:
  identify: {header: X-API-Key}
  # contacts: contacts.csv    # id,email,name,locale,tier — who gets the notices
  tiers: [critical, standard, free]

# The dates. Times are in service.timezone; other instants may be relative, e.g. shutdown-14d.
milestones:
  announce: {{announce}}T10:00
  deprecate: {{announce}}T10:00
  read_only: {{read_only}}T02:00
  shutdown: {{shutdown}}T02:00
  delete_data: {{delete_data}}

# Short planned outages before the end, so that forgotten callers notice in time.
brownouts:
  - {from: shutdown-28d, until: shutdown-14d, every: "Tue,Thu 14:00", for: 15m, status: 503}
  - {from: shutdown-14d, every: "Tue,Thu 14:00", for: 1h, status: 410}

# Who is told what, when, and through which channels (templates in English and Chinese are built in).
notices:
  - {at: announce, to: all, channels: [email, status_page, feed], template: announce}
  - {at: shutdown-30d, to: active_consumers, channels: [email], template: reminder}
  - {at: shutdown-7d, to: laggards, channels: [email], template: final_reminder}
  - {at: shutdown, to: all, channels: [email, status_page, feed], template: done}

channels:
  email:
    smtp: smtp.example.com:587
    tls: starttls
    from: "Your Service <noreply@example.com>"
    username: sunset
    password: env:SUNSET_SMTP_PASSWORD   # secrets are env:NAME or file:PATH, never written here

# When to stop and ask a human.
guardrails:
  - {name: unhappy-users, when: "feedback.negative_ratio > 0.4 over 24h", then: pause}

# Data to keep and give back.
data:
  backups:
    - {name: main-db, source: {sqlite: /var/lib/service/service.db}, to: "file:///var/backups/service"}
  retention: {keep: 180d}

# The final shutdown, step by step; resumable, with approvals.
runbook:
  - {name: read-only, gateway: read_only}
  - {name: drain, drain: {max_rps: 0, within: 10m}}
  - {name: final-backup, backup: main-db, verify: true}
  - {name: sign-off, approval: {role: approver, count: 2}}
  - {name: gone, gateway: gone}
`
