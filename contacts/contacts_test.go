package contacts_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/sunsetops/sunset/contacts"
)

func read(t *testing.T, in string, opt contacts.Options) ([]contacts.Contact, error) {
	t.Helper()
	var list []contacts.Contact
	err := contacts.Read(strings.NewReader(in), opt, func(c contacts.Contact) error {
		list = append(list, c)
		return nil
	})
	return list, err
}

func TestReadsEveryColumnInAnyOrder(t *testing.T) {
	in := "\ufeffTier, id ,email,name,locale,timezone\r\ncritical,acme,ops@acme.example.com,\"Acme, Inc.\",en-GB,Europe/London\r\nfree,zs,it@zs.example.cn,中山贸易,zh_CN,Asia/Shanghai\r\n,hooli,,,,\r\n"
	list, err := read(t, in, contacts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []contacts.Contact{
		{ID: "acme", Email: "ops@acme.example.com", Name: "Acme, Inc.", Locale: "en-GB", Tier: "critical", TimeZone: "Europe/London", Line: 2},
		{ID: "zs", Email: "it@zs.example.cn", Name: "中山贸易", Locale: "zh_CN", Tier: "free", TimeZone: "Asia/Shanghai", Line: 3},
		{ID: "hooli", Line: 4},
	}
	if fmt.Sprint(list) != fmt.Sprint(want) {
		t.Errorf("got  %+v\nwant %+v", list, want)
	}
}

// TestRefusesMalformedInput is the table of what a contacts file may not hold; each problem
// names its line and, where it can, its column.
func TestRefusesMalformedInput(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		opt      contacts.Options
		want     []string
	}{
		{"an empty file", "", contacts.Options{}, []string{"1: the file is empty"}},
		{"a header without id", "email,name\na@example.com,A\n", contacts.Options{}, []string{"1: the header has no id column (allowed: id, email, name, locale, tier, timezone"}},
		{"an unknown column", "id,phone,email\nacme,123,a@example.com\n", contacts.Options{}, []string{`1: unknown column "phone" (allowed: id, email, name, locale, tier, timezone)`}},
		{"a column twice", "id,email,email\n", contacts.Options{}, []string{`1: column "email" appears twice`}},
		{"a duplicate id names both lines", "id\nacme\nglobex\nacme\n", contacts.Options{}, []string{`4:1: duplicate id "acme": line 2 has it too`}},
		{"an empty id", "id,email\n,a@example.com\n", contacts.Options{}, []string{"2:1: the id is empty"}},
		{"text that is not UTF-8", "id,name\nacme,Caf\xe9\n", contacts.Options{}, []string{"2:9: not valid UTF-8"}},
		{"a header that is not UTF-8", "id,n\xe4me\n", contacts.Options{}, []string{"1: the header is not valid UTF-8"}},
		{"a formula cell with =", "id,name\nacme,=cmd|' /C calc'!A0\n", contacts.Options{}, []string{`2:6: the cell starts with "=": a spreadsheet would run it as a formula (CSV injection)`}},
		{"a formula cell with +", "id,name\nacme,+1+1\n", contacts.Options{}, []string{`2:6: the cell starts with "+"`}},
		{"a formula cell with -", "id,name\nacme,-2+3\n", contacts.Options{}, []string{`2:6: the cell starts with "-"`}},
		{"a formula cell with @", "id,name\nacme,@SUM(A1)\n", contacts.Options{}, []string{`2:6: the cell starts with "@"`}},
		{"a formula cell with a tab", "id,name\nacme,\"\t=1\"\n", contacts.Options{}, []string{`2:6: the cell starts with "\t"`}},
		{"a formula cell with a carriage return", "id,name\nacme,\"\r=1\"\n", contacts.Options{}, []string{`2:6: the cell starts with "\r"`}},
		{"a formula id behind spaces", "id\n  =1\n", contacts.Options{}, []string{`2:1: the cell starts with "="`}},
		{"a bad email", "id,email\nacme,ops(at)acme\n", contacts.Options{}, []string{`2:6: "ops(at)acme" is not an email address`}},
		{"an email with a display name", "id,email\nacme,Acme <ops@acme.example.com>\n", contacts.Options{}, []string{`2:6: "Acme <ops@acme.example.com>" is not an email address`}},
		{"an unknown locale", "id,locale\nacme,fr\n", contacts.Options{}, []string{`2:6: unknown locale "fr"`}},
		{"an unknown tier", "id,tier\nacme,gold\n", contacts.Options{Tiers: []string{"critical", "free"}}, []string{`2:6: unknown tier "gold" (the plan's consumers.tiers: critical, free)`}},
		{"an unknown time zone", "id,timezone\nacme,Mars/Olympus\n", contacts.Options{}, []string{`2:6: unknown time zone "Mars/Olympus"`}},
		{"a row with too many cells", "id,email\nacme,a@example.com,extra\n", contacts.Options{}, []string{"2: 3 cells, but the header names 2 columns"}},
		{"a bare quote", "id,name\nacme,say \"hi\"\n", contacts.Options{}, []string{`2:10: not valid CSV: bare " in non-quoted-field (a quote inside a cell must be doubled`}},
		{"every problem at once", "id,email,locale\nacme,bad,fr\nacme,=x,en\n", contacts.Options{}, []string{
			`2:6: "bad" is not an email address`, `2:10: unknown locale "fr"`,
			`3:6: the cell starts with "="`, `3:1: duplicate id "acme": line 2 has it too`, `3:6: "=x" is not an email address`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, err := read(t, tc.in, tc.opt)
			var ce *contacts.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *contacts.Error", err)
			}
			var got []string
			for _, p := range ce.Problems {
				got = append(got, p.String())
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, w)
				}
				if !found {
					t.Errorf("no problem %q in\n%s", w, strings.Join(got, "\n"))
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			// Rows after the first problem are never handed on.
			for _, c := range list {
				if c.Line >= ce.Problems[0].Line && ce.Problems[0].Line > 0 {
					t.Errorf("row %d handed on after a problem on line %d", c.Line, ce.Problems[0].Line)
				}
			}
		})
	}
}

func TestReadsAJSONArrayWithTheSameChecks(t *testing.T) {
	list, err := read(t, ` [{"id":"acme","email":"ops@acme.example.com","locale":"en","tier":"critical"},{"id":"zs","locale":"zh-CN"}]`, contacts.Options{})
	if err != nil || len(list) != 2 || list[1].ID != "zs" || list[0].Tier != "critical" || list[1].Line != 3 {
		t.Fatalf("%+v %v", list, err)
	}
	for in, want := range map[string]string{
		`[{"id":"a"},{"id":"a"}]`:                        `entry 2: duplicate id "a": entry 1 has it too`,
		`[{"id":"a","email":"nope"}]`:                    `entry 1: "nope" is not an email address`,
		`[{"id":"a","name":"=1+1"}]`:                     `entry 1: the cell starts with "="`,
		`[{"id":"a","phone":"1"}]`:                       `entry 1: json: unknown field "phone"`,
		`[{"id":"a"},`:                                   `not a contact`,
		`[{"id":"a"}] x`:                                 `text after the JSON array`,
		`[{"id":"a","locale":"fr"},{"id":"b","tier":7}]`: `entry 1: unknown locale "fr"`,
	} {
		_, err := read(t, in, contacts.Options{})
		var ce *contacts.Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

func TestStopsAfterMaxProblemsAndReadsToTheEnd(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,email\n")
	for i := range 100 {
		fmt.Fprintf(&b, "u%d,not-an-address\n", i)
	}
	r := strings.NewReader(b.String())
	err := contacts.Read(r, contacts.Options{}, func(contacts.Contact) error { return nil })
	var ce *contacts.Error
	if !errors.As(err, &ce) || len(ce.Problems) != contacts.MaxProblems+1 {
		t.Fatalf("err = %v", err)
	}
	if r.Len() != 0 {
		t.Errorf("%d bytes left unread; a caller hashing the input needs all of it", r.Len())
	}
}

func TestAnErrorOfTheCallbackStopsReading(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := contacts.Read(strings.NewReader("id\na\nb\nc\n"), contacts.Options{}, func(contacts.Contact) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("err %v after %d rows", err, n)
	}
}

// failingReader fails after its data, as a cut connection does.
type failingReader struct{ r io.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func TestAReadErrorIsNotAProblemOfTheFile(t *testing.T) {
	err := contacts.Read(failingReader{strings.NewReader("id\nacme\n")}, contacts.Options{}, func(contacts.Contact) error { return nil })
	var ce *contacts.Error
	if errors.As(err, &ce) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v, want the reader's error", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("id,email,name,locale,tier\nacme,ops@acme.example.com,Acme,en,critical\n"))
	f.Add([]byte("id\nacme\nacme\n"))
	f.Add([]byte("id,name\nacme,=1\n"))
	f.Add([]byte("id,\"na\nme\"\n\"a\"\"b\",c\n"))
	f.Add([]byte("\ufeffid,timezone\nx,Asia/Shanghai\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := contacts.Read(bytes.NewReader(data), contacts.Options{Tiers: []string{"critical"}}, func(c contacts.Contact) error {
			n++
			if c.ID == "" || c.Line < 2 {
				t.Fatalf("a contact without id or line: %+v", c)
			}
			return nil
		})
		var ce *contacts.Error
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("not a *contacts.Error: %v", err)
		}
		if ce != nil && (len(ce.Problems) == 0 || len(ce.Problems) > contacts.MaxProblems+1) {
			t.Fatalf("%d problems", len(ce.Problems))
		}
	})
}

// BenchmarkRead reads a contacts file of 100 000 rows (about 6 MB), as the server does on apply.
func BenchmarkRead(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("id,email,name,locale,tier\n")
	for i := range 100_000 {
		fmt.Fprintf(&buf, "user-%07d,user%07d@example.com,User Number %d,%s,%s\n", i, i, i, []string{"en", "zh-CN"}[i%2], []string{"critical", "standard", "free"}[i%3])
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := contacts.Read(bytes.NewReader(data), contacts.Options{}, func(contacts.Contact) error { n++; return nil }); err != nil || n != 100_000 {
			b.Fatal(err, n)
		}
	}
}
