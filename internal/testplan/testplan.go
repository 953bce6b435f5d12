// Package testplan holds the small plans that the tests of several packages (web, client, the
// operator pages) apply, so that they agree on one billing-v1.
package testplan

import "strings"

// Billing is a small valid plan with one stakeholder, so it starts in draft: billing-v1,
// announced 2027-01-04 10:00 in Berlin, read-only on 2027-02-15, shut down on 2027-03-01 10:00.
const Billing = `
service:
  name: billing-v1
  title: {en: Billing API v1, zh: 账单 API v1}
  timezone: Europe/Berlin
stakeholders:
  - {name: legal, role: legal}
milestones:
  announce: 2027-01-04T10:00
  deprecate: announce+1d
  read_only: 2027-02-15T10:00
  shutdown: 2027-03-01T10:00
notices:
  - {at: announce, to: all, channels: [email], template: announce}
  - {at: shutdown-7d, to: active_consumers, channels: [email], template: final_reminder}
channels:
  email: {smtp: "127.0.0.1:2525", from: noreply@example.com}
`

// BillingMoved is Billing with its shutdown a week later.
var BillingMoved = strings.Replace(Billing, "shutdown: 2027-03-01T10:00", "shutdown: 2027-03-08T10:00", 1)
