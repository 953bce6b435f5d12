package storetest

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/engine"
)

// contactCases are the plan bundle subtests Run adds.
var contactCases = []struct {
	name string
	test func(t *testing.T, st engine.Store)
}{
	{"stages a contacts file as a content-addressed set", testStageContacts},
	{"keeps nothing of a contacts file it refused", testStageRefused},
	{"keeps revisions with the files their bundle carried", testRevisions},
	{"compares the contacts of two revisions by id", testDiffContacts},
	{"erases a contact from every revision of its sunset only", testEraseContacts},
}

const contactsV1 = "id,email,name,locale,tier\nacme,ops@acme.example.com,Acme,en,critical\nglobex,dev@globex.example.com,Globex,en,standard\nzs,it@zs.example.cn,中山,zh-CN,free\n"

// readAll is contacts.Read as the engine hands it to StageContacts.
func readAll(r io.Reader, fn func(contacts.Contact) error) error {
	return contacts.Read(r, contacts.Options{}, fn)
}

func stage(t *testing.T, st engine.Store, name, csv string) *engine.ContactSet {
	t.Helper()
	set, err := st.StageContacts(context.Background(), name, strings.NewReader(csv), readAll)
	if err != nil {
		t.Fatalf("stage: %v", err)
	}
	return set
}

// count is the number of contacts of set.
func count(t *testing.T, st engine.Store, set int64) int64 {
	t.Helper()
	var ch engine.ContactsChange
	inTx(t, st, func(tx engine.Tx) error {
		var err error
		ch, err = tx.DiffContacts(context.Background(), 0, set)
		return err
	})
	return ch.Total
}

func testStageContacts(t *testing.T, st engine.Store) {
	a := stage(t, st, "crm-v1", contactsV1)
	if a.Count != 3 || a.Size != int64(len(contactsV1)) || len(a.Hash) != 64 || a.Reused {
		t.Fatalf("set = %+v", a)
	}
	if n := count(t, st, a.ID); n != 3 {
		t.Errorf("%d rows stored, want 3", n)
	}
	// The same bytes again: the sunset's set is reused, the new rows dropped.
	b := stage(t, st, "crm-v1", contactsV1)
	if !b.Reused || b.ID != a.ID || b.Hash != a.Hash || b.Count != 3 {
		t.Errorf("same file: %+v, want the set %d reused", b, a.ID)
	}
	// Another sunset keeps its own copy, so that erasing from one never touches the other.
	c := stage(t, st, "other-v1", contactsV1)
	if c.Reused || c.ID == a.ID || c.Hash != a.Hash {
		t.Errorf("other sunset: %+v", c)
	}
	// A staged set no revision names can be dropped.
	if err := st.DropContacts(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(t, st, c.ID); n != 0 {
		t.Errorf("%d rows left after drop", n)
	}
}

func testStageRefused(t *testing.T, st engine.Store) {
	bad := contactsV1 + "acme,x@example.com,=cmd,en,free\n"
	var staged int
	_, err := st.StageContacts(context.Background(), "crm-v1", strings.NewReader(bad), func(r io.Reader, fn func(contacts.Contact) error) error {
		return readAll(r, func(c contacts.Contact) error { staged++; return fn(c) })
	})
	var ce *contacts.Error
	if !errors.As(err, &ce) || len(ce.Problems) != 2 {
		t.Fatalf("err = %v, want the file's two problems", err)
	}
	if staged != 3 {
		t.Errorf("%d rows handed to the store before the problem, want 3", staged)
	}
	// Nothing stays: the next set of the same bytes is new, and the sunset has no set.
	a := stage(t, st, "crm-v1", contactsV1)
	if a.Reused {
		t.Error("a refused file left a set behind")
	}
	var total int64
	for id := int64(1); id < a.ID; id++ {
		total += count(t, st, id)
	}
	if total != 0 {
		t.Errorf("%d rows of the refused file stayed", total)
	}
}

func testRevisions(t *testing.T, st engine.Store) {
	s := create(t, st, newSunset("crm-v1"))
	set := stage(t, st, "crm-v1", contactsV1)
	files := []engine.BundleFile{{Ref: "contacts.csv", Path: "consumers.contacts", Kind: "contacts", Hash: set.Hash, Size: set.Size, Count: set.Count, Set: set.ID}}
	inTx(t, st, func(tx engine.Tx) error {
		if err := tx.PutRevision(context.Background(), &engine.Revision{SunsetID: s.ID, Revision: 1, PlanHash: "p1", BundleHash: "b1", Files: files, Actor: "li.wei", CreatedAt: t0}); err != nil {
			return err
		}
		return tx.PutRevision(context.Background(), &engine.Revision{SunsetID: s.ID, Revision: 2, PlanHash: "p2", BundleHash: "p2", CreatedAt: t0})
	})
	err := st.InTx(context.Background(), func(tx engine.Tx) error {
		return tx.PutRevision(context.Background(), &engine.Revision{SunsetID: s.ID, Revision: 2, PlanHash: "p2", BundleHash: "p2", CreatedAt: t0})
	})
	wantCode(t, err, sunset.ECONFLICT)
	var revs []engine.Revision
	revs, err = st.ListRevisions(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 2 || revs[0].Revision != 1 || len(revs[0].Files) != 1 || revs[1].Files != nil {
		t.Fatalf("revisions = %+v", revs)
	}
	got := revs[0].Files[0]
	if got != files[0] || revs[0].Actor != "li.wei" || revs[0].BundleHash != "b1" {
		t.Errorf("revision 1 = %+v, files %+v", revs[0], got)
	}
	sameInstant(t, "created_at", revs[0].CreatedAt, t0)
	inTx(t, st, func(tx engine.Tx) error {
		r, err := tx.GetRevision(context.Background(), s.ID, 1)
		if err != nil || r.Files[0].Set != set.ID {
			t.Errorf("get revision 1: %+v %v", r, err)
		}
		return nil
	})
	err = st.InTx(context.Background(), func(tx engine.Tx) error {
		_, err := tx.GetRevision(context.Background(), s.ID, 9)
		return err
	})
	wantCode(t, err, sunset.ENOTFOUND)
	// A set a revision names is not dropped, nor pruned; an orphan is pruned.
	if err := st.DropContacts(context.Background(), set.ID); err != nil {
		t.Fatal(err)
	}
	orphan := stage(t, st, "crm-v1", contactsV1+"hooli,api@hooli.example.com,Hooli,en,free\n")
	if p, ok := st.(interface {
		PruneContacts(context.Context, time.Time) (int64, error)
	}); ok {
		n, err := p.PruneContacts(context.Background(), time.Now().Add(time.Hour))
		if err != nil || n != 1 {
			t.Errorf("pruned %d sets (%v), want the orphan", n, err)
		}
		if count(t, st, orphan.ID) != 0 {
			t.Error("the orphan's rows stayed")
		}
	}
	if n := count(t, st, set.ID); n != 3 {
		t.Errorf("DropContacts removed a set revision 1 names: %d rows left", n)
	}
}

func testDiffContacts(t *testing.T, st engine.Store) {
	a := stage(t, st, "crm-v1", contactsV1)
	v2 := strings.Replace(contactsV1, "dev@globex", "ops@globex", 1)
	v2 = strings.Replace(v2, "zs,it@zs.example.cn,中山,zh-CN,free\n", "initech,it@initech.example.com,Initech,en,free\nhooli,api@hooli.example.com,Hooli,en,free\n", 1)
	b := stage(t, st, "crm-v1", v2)
	inTx(t, st, func(tx engine.Tx) error {
		ch, err := tx.DiffContacts(context.Background(), a.ID, b.ID)
		if err != nil {
			return err
		}
		if want := (engine.ContactsChange{Total: 4, Added: 2, Removed: 1, Changed: 1}); ch != want {
			t.Errorf("diff = %+v, want %+v", ch, want)
		}
		ch, err = tx.DiffContacts(context.Background(), 0, a.ID)
		if want := (engine.ContactsChange{Total: 3, Added: 3}); err != nil || ch != want {
			t.Errorf("diff from nothing = %+v %v, want %+v", ch, err, want)
		}
		return nil
	})
}

func testEraseContacts(t *testing.T, st engine.Store) {
	a := stage(t, st, "crm-v1", contactsV1)
	b := stage(t, st, "crm-v1", contactsV1+"hooli,api@hooli.example.com,Hooli,en,free\n")
	other := stage(t, st, "other-v1", contactsV1)
	inTx(t, st, func(tx engine.Tx) error {
		n, err := tx.EraseContacts(context.Background(), "crm-v1", []string{"globex", "nobody"})
		if err != nil || n != 2 {
			t.Errorf("erased %d rows (%v), want 2: one per set", n, err)
		}
		return nil
	})
	if count(t, st, a.ID) != 2 || count(t, st, b.ID) != 3 {
		t.Errorf("after erasure: %d and %d contacts, want 2 and 3", count(t, st, a.ID), count(t, st, b.ID))
	}
	if count(t, st, other.ID) != 3 {
		t.Error("erasure reached another sunset's contacts")
	}
}
