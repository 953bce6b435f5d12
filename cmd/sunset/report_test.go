package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportFromTheCLI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	url, stop := server(t, "sqlite:"+filepath.Join(dir, "sunset.db"))
	defer stop()
	cli := func(args ...string) (int, string, string) {
		return run(t, ctx, append(args, "--server", url)...)
	}
	accounts := filepath.Join(dir, "accounts.csv")
	os.WriteFile(accounts, []byte("account,consumers,revenue\nAcme,acme-prod;acme-test,120000\n"), 0o644)

	t.Run("the assessment lists stakeholders and accounts", func(t *testing.T) {
		code, out, errs := cli("report", "orders-api-v1", "--assessment", "--accounts", accounts, "--format", "md")
		if code != 0 || !strings.Contains(out, "# Impact assessment") || !strings.Contains(out, "## Stakeholders and sign-off") || !strings.Contains(out, "| Acme | 120,000.00 | no |") {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
	})
	t.Run("lessons appear in the report", func(t *testing.T) {
		lessons := filepath.Join(dir, "lessons.md")
		os.WriteFile(lessons, []byte("提前一个月通知合作伙伴。\n"), 0o644)
		if code, out, errs := cli("report", "lessons", "orders-api-v1", "--file", lessons); code != 0 || !strings.Contains(out, "saved") {
			t.Fatalf("lessons: exit %d %s%s", code, out, errs)
		}
		code, out, errs := cli("report", "orders-api-v1", "--format", "json")
		var r struct {
			Kind    string `json:"kind"`
			Lessons struct {
				Text      string `json:"text"`
				UpdatedBy string `json:"updated_by"`
			} `json:"lessons"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Kind != "report" || r.Lessons.Text != "提前一个月通知合作伙伴。\n" || r.Lessons.UpdatedBy != "tester" {
			t.Fatalf("report: exit %d %+v\n%s", code, r, errs)
		}
	})
	t.Run("html in Chinese to a file", func(t *testing.T) {
		out := filepath.Join(dir, "report.html")
		if code, _, errs := cli("report", "orders-api-v1", "--format", "html", "--lang", "zh", "-o", out); code != 0 {
			t.Fatalf("exit %d %s", code, errs)
		}
		b, err := os.ReadFile(out)
		if err != nil || !strings.Contains(string(b), `<html lang="zh-CN">`) || !strings.Contains(string(b), "经验教训") {
			t.Fatalf("%v\n%.500s", err, b)
		}
	})
	t.Run("refuses what it cannot do", func(t *testing.T) {
		if code, _, _ := cli("report", "orders-api-v1", "--format", "pdf"); code != 2 {
			t.Errorf("--format pdf: exit %d, want 2", code)
		}
		if code, _, errs := cli("report", "no-such-sunset"); code != 1 || !strings.Contains(errs, "no-such-sunset") {
			t.Errorf("unknown sunset: exit %d %s", code, errs)
		}
		bad := filepath.Join(dir, "bad.csv")
		os.WriteFile(bad, []byte("account,consumers,revenue\nAcme,a,lots\n"), 0o644)
		if code, _, errs := cli("report", "orders-api-v1", "--accounts", bad); code != 1 || !strings.Contains(errs, "line 2: revenue") {
			t.Errorf("bad accounts: exit %d %s", code, errs)
		}
	})
}
