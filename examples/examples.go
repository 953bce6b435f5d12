// Package examples bundles the example plans so that a bare `sunset serve` has something to show
// and tests can read realistic plans without knowing the repository layout.
package examples

import "embed"

// Files holds every example plan (*.yaml) and the contact lists they name (*.csv).
//
//go:embed *.yaml *.csv
var Files embed.FS

// Default is the plan `sunset serve` loads into an empty store.
const Default = "api-v2.yaml"
