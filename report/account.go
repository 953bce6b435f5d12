package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Account is one business account of the accounts CSV: the consumers (API keys, user ids) it
// calls the service as, and the revenue it brings.
type Account struct {
	Account   string   `json:"account"`
	Consumers []string `json:"consumers"`
	Revenue   float64  `json:"revenue"`
	// Status, when the CSV says it, is what became of the account: churned, migrated or
	// retained. Empty lets the report infer it from traffic.
	Status string `json:"status,omitempty"`
}

// Account outcomes after the shutdown.
const (
	// Churned accounts left: the CSV says so.
	Churned = "churned"
	// Migrated accounts stopped calling the retired service before its shutdown.
	Migrated = "migrated"
	// Retained accounts never depended on it: none of their consumers called it.
	Retained = "retained"
	// AtRisk accounts still call the retired service after its shutdown.
	AtRisk = "at_risk"
)

// maxAccounts bounds the accounts read from one CSV.
const maxAccounts = 100_000

// ReadAccounts reads an accounts CSV with a header row naming the columns account, consumers
// (ids separated by ";"), revenue (a number; currency symbols and thousands commas are not
// accepted) and an optional status (churned, migrated or retained). The columns may come in
// any order; unknown ones are ignored. Every bad row is reported, naming its line.
func ReadAccounts(r io.Reader) ([]Account, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("accounts: the file is empty; want a header row: account,consumers,revenue")
		}
		return nil, fmt.Errorf("accounts: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"account", "consumers", "revenue"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("accounts: line 1: no %q column; want a header row: account,consumers,revenue[,status]", need)
		}
	}
	field := func(rec []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	var out []Account
	var problems []error
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			problems = append(problems, fmt.Errorf("accounts: %w", err))
			continue
		}
		a := Account{Account: field(rec, "account"), Status: strings.ToLower(field(rec, "status"))}
		if a.Account == "" {
			problems = append(problems, fmt.Errorf("accounts: line %d: account is empty", line))
			continue
		}
		for _, id := range strings.Split(field(rec, "consumers"), ";") {
			if id = strings.TrimSpace(id); id != "" {
				a.Consumers = append(a.Consumers, id)
			}
		}
		if a.Consumers == nil {
			a.Consumers = []string{}
		}
		if v := field(rec, "revenue"); v != "" {
			a.Revenue, err = strconv.ParseFloat(v, 64)
			if err != nil || a.Revenue < 0 {
				problems = append(problems, fmt.Errorf("accounts: line %d: revenue %q is not a non-negative number", line, v))
				continue
			}
		}
		switch a.Status {
		case "", Churned, Migrated, Retained:
		default:
			problems = append(problems, fmt.Errorf("accounts: line %d: status %q: use churned, migrated or retained", line, a.Status))
			continue
		}
		if len(out) == maxAccounts {
			return nil, fmt.Errorf("accounts: more than %d accounts", maxAccounts)
		}
		out = append(out, a)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return out, nil
}
