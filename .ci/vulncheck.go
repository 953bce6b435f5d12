//go:build ignore

// Command vulncheck reads `govulncheck -format json` on standard input and fails (exit 1) when
// the code calls a vulnerable function of a module it requires. A vulnerable function of the
// standard library that the code calls is listed too; it fails the check as well unless
// SUNSET_VULNCHECK_STDLIB=warn, which is for a Go release the project cannot take yet: the fix
// is then a newer toolchain, named in the output.
//
// Run by .ci/run: govulncheck -db file://DB -format json ./... | go run .ci/vulncheck.go
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// finding is the part of a govulncheck JSON finding this check reads.
type finding struct {
	OSV          string `json:"osv"`
	FixedVersion string `json:"fixed_version"`
	Trace        []struct {
		Module   string `json:"module"`
		Version  string `json:"version"`
		Package  string `json:"package"`
		Function string `json:"function"`
	} `json:"trace"`
}

func main() {
	dec := json.NewDecoder(os.Stdin)
	called := map[string]string{} // osv → "module@version (fixed in …): package.function"
	stdlib := map[string]bool{}
	for {
		var msg struct {
			Finding *finding `json:"finding"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			fmt.Fprintf(os.Stderr, "vulncheck: reading govulncheck's output: %v\n", err)
			os.Exit(2)
		}
		f := msg.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue // only vulnerable code the program can reach counts
		}
		t := f.Trace[0]
		called[f.OSV] = fmt.Sprintf("%s@%s (fixed in %s): %s.%s", t.Module, t.Version, f.FixedVersion, t.Package, t.Function)
		stdlib[f.OSV] = t.Module == "stdlib"
	}
	ids := make([]string, 0, len(called))
	for id := range called {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	modules, std := 0, 0
	for _, id := range ids {
		kind := "required modules"
		if stdlib[id] {
			kind = "standard library"
			std++
		} else {
			modules++
		}
		fmt.Printf("vulncheck: %s in the %s, called: %s (https://pkg.go.dev/vuln/%s)\n", id, kind, called[id], id)
	}
	fmt.Printf("vulncheck: %d vulnerabilities reached in required modules, %d in the standard library\n", modules, std)
	if modules > 0 || (std > 0 && os.Getenv("SUNSET_VULNCHECK_STDLIB") != "warn") {
		os.Exit(1)
	}
	if std > 0 {
		fmt.Println("vulncheck: WARNING: the standard library findings above are fixed by a newer Go toolchain; they do not fail CI while SUNSET_VULNCHECK_STDLIB=warn")
	}
}
