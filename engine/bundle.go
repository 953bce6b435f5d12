package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/plan"
)

// BundleFile is one file a plan revision carried, as stored: its reference and its content's
// SHA-256. Never its content: contacts are personal data.
type BundleFile struct {
	// Ref is the file as the plan names it (contacts.csv); Path the field naming it.
	Ref  string `json:"ref"`
	Path string `json:"path"`
	Kind string `json:"kind"`
	// Hash is the hex SHA-256 of the file's bytes; Size their number.
	Hash string `json:"sha256"`
	Size int64  `json:"size"`
	// Count is the number of contacts of a contacts file.
	Count int64 `json:"count"`
	// Set is the store's id of a contacts file's rows.
	Set int64 `json:"-"`
}

// Revision is one applied version of a sunset's plan: the plan's hash and the files its bundle
// carried. The sunset's PlanHash is the hash of the whole bundle (BundleHash).
type Revision struct {
	SunsetID   int64        `json:"-"`
	Revision   int          `json:"revision"`
	PlanHash   string       `json:"plan_sha256"`
	BundleHash string       `json:"bundle_sha256"`
	Files      []BundleFile `json:"files,omitempty"`
	Actor      string       `json:"actor,omitempty"`
	CreatedAt  time.Time    `json:"created_at"`
}

// ContactSet is a contacts file stored as rows: what StageContacts returns.
type ContactSet struct {
	ID    int64
	Hash  string
	Size  int64
	Count int64
	// Reused is true when the sunset already had a set with the same bytes; the staged rows
	// were dropped for it.
	Reused bool
}

// ContactsChange compares the contacts of two revisions by id: counts only.
type ContactsChange struct {
	Total   int64 `json:"contacts"`
	Added   int64 `json:"added"`
	Removed int64 `json:"removed"`
	Changed int64 `json:"changed"`
}

// Contacts is the part of the store that keeps the contacts of plan bundles. StageContacts
// stores the rows it reads in batches outside of any caller's transaction, so that a large file
// neither holds the database nor sits in memory; the set is not used by any sunset until a
// revision names it (Tx.PutRevision), and DropContacts removes a staged set no revision names.
type Contacts interface {
	// StageContacts reads a contacts file from r (contacts.Read with opt) into a new set of
	// the sunset named sunset. A refused file is a *contacts.Error and nothing stays stored.
	StageContacts(ctx context.Context, sunset string, r io.Reader, read func(io.Reader, func(contacts.Contact) error) error) (*ContactSet, error)
	// DropContacts removes set id unless a revision names it.
	DropContacts(ctx context.Context, id int64) error
}

// BundleHash is the hash a sunset keeps for a revision: the plan's SHA-256 alone when the
// bundle carries no file (so plans applied before bundles keep their hash), else the SHA-256 of
// the plan's hash and each file's reference and hash.
func BundleHash(planHash string, files []BundleFile) string {
	if len(files) == 0 {
		return planHash
	}
	var b strings.Builder
	b.WriteString("plan " + planHash + "\n")
	for _, f := range files {
		b.WriteString("file " + strconv.Quote(f.Ref) + " " + f.Hash + "\n")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// ApplyBundle is Apply for a plan with the files it references: files yields them (a request's
// parts, or plan.LocalFiles on the operator's side). Each contacts file is read with
// contacts.Read and stored as rows; the revision keeps which files it carried. A referenced file
// that files does not yield, one it yields that the plan does not reference, or a contacts file
// with problems is a sunset.EINVALID error whose Details name the plan's line and the file's,
// and nothing is stored. files may be nil for a plan that references no file.
func (e *Engine) ApplyBundle(ctx context.Context, file string, data []byte, files plan.Files, actor string) (*ApplyResult, error) {
	p, problems := plan.Parse(file, data)
	if err := problems.Err(); err != nil {
		return nil, invalidPlan(problems)
	}
	refs := p.References()
	var staged []BundleFile
	var owned []int64 // sets staged by this call, dropped when it fails
	drop := func() {
		for _, id := range owned {
			_ = e.contacts().DropContacts(context.WithoutCancel(ctx), id)
		}
	}
	var bad plan.Problems
	seen := map[string]bool{}
	if files != nil && len(refs) > 0 {
		err := files(refs, func(name string, body io.Reader) error {
			i := slices.IndexFunc(refs, func(r plan.Reference) bool { return r.Name == name })
			if i < 0 {
				names := make([]string, len(refs))
				for j, r := range refs {
					names[j] = r.Name
				}
				return sunset.Errorf(sunset.EINVALID, "The bundle carries %q, which the plan does not reference (it references %s).", name, strings.Join(names, ", "))
			}
			if seen[name] {
				return sunset.Errorf(sunset.EINVALID, "The bundle carries %q twice.", name)
			}
			seen[name] = true
			r := refs[i]
			var probs plan.Problems
			tiers := map[string]int{}
			set, err := e.contacts().StageContacts(ctx, p.Service.Name, body, func(in io.Reader, fn func(contacts.Contact) error) error {
				var rerr error
				probs, rerr = p.ReadReference(r, in, func(c contacts.Contact) error {
					if c.Tier != "" {
						tiers[c.Tier]++
					}
					return fn(c)
				})
				if rerr != nil {
					return rerr
				}
				if len(probs) == 0 {
					// Tiers the guardrails and notices name that no contact has.
					probs = p.CheckContactTiers(tiers)
				}
				if len(probs) > 0 {
					return &contacts.Error{} // refused: the store drops what it staged
				}
				return nil
			})
			if len(probs) > 0 {
				bad = append(bad, probs...)
				return nil
			}
			if err != nil {
				return err
			}
			staged = append(staged, BundleFile{Ref: r.Name, Path: r.Path, Kind: r.Kind, Hash: set.Hash, Size: set.Size, Count: set.Count, Set: set.ID})
			if !set.Reused {
				owned = append(owned, set.ID)
			}
			return nil
		})
		var re *plan.RefError
		switch {
		case errors.As(err, &re):
			bad = append(bad, plan.Problem{File: file, Pos: re.Ref.Pos, Path: re.Ref.Path, Message: "cannot read " + re.Error()})
			seen[re.Ref.Name] = true
		case err != nil:
			drop()
			return nil, err
		}
	}
	for _, r := range refs {
		if !seen[r.Name] {
			bad = append(bad, plan.Problem{File: file, Pos: r.Pos, Path: r.Path,
				Message: "the bundle does not carry " + strconv.Quote(r.Name) + "; apply the plan with its files (sunset apply FILE sends them, relative to the plan's folder)"})
		}
	}
	if len(bad) > 0 {
		drop()
		return nil, invalidPlan(bad)
	}
	res, err := e.apply(ctx, file, data, p, problems, staged, actor)
	if err != nil {
		drop()
		return nil, err
	}
	return res, nil
}

// contacts returns the store's Contacts.
func (e *Engine) contacts() Contacts { return e.store }

// contactSet is the contacts set among files, 0 when none.
func contactSet(files []BundleFile) int64 {
	for _, f := range files {
		if f.Kind == plan.RefContacts {
			return f.Set
		}
	}
	return 0
}

// recordRevision stores s's new revision and, when its contacts changed from those of the
// revision before (prevSet, 0 for none), an Event with the counts of the change — never a
// contact's data.
func (e *Engine) recordRevision(ctx context.Context, tx Tx, s *Sunset, planHash string, files []BundleFile, prevSet int64, actor string, now time.Time) error {
	rev := &Revision{SunsetID: s.ID, Revision: s.Revision, PlanHash: planHash, BundleHash: s.PlanHash, Files: files, Actor: actor, CreatedAt: now}
	if err := tx.PutRevision(ctx, rev); err != nil {
		return err
	}
	set := contactSet(files)
	if set == prevSet {
		return nil
	}
	ch, err := tx.DiffContacts(ctx, prevSet, set)
	if err != nil {
		return err
	}
	return e.appendEvent(ctx, tx, s, "contacts.changed", actor, map[string]any{
		"revision": s.Revision, "contacts": ch.Total, "added": ch.Added, "removed": ch.Removed, "changed": ch.Changed,
	})
}

// Revisions returns the applied revisions of the sunset named name, oldest first: which plan
// and which files each carried. Revisions applied before bundles existed are not listed.
func (e *Engine) Revisions(ctx context.Context, name string) ([]Revision, error) {
	s, err := e.store.GetSunset(ctx, name)
	if err != nil {
		return nil, err
	}
	return e.store.ListRevisions(ctx, s.ID)
}

// EraseContacts removes the contacts with ids from every stored revision of the sunset named
// name (a person's right to erasure) and records a "contacts.erased" Event with the number of
// ids asked and of rows removed — never the ids. It returns the rows removed.
func (e *Engine) EraseContacts(ctx context.Context, name string, ids []string, actor string) (int64, error) {
	if len(ids) == 0 {
		return 0, sunset.Errorf(sunset.EINVALID, "Name at least one contact id to erase.")
	}
	var removed int64
	err := e.store.InTx(ctx, func(tx Tx) error {
		s, err := tx.LockSunset(ctx, name)
		if err != nil {
			return err
		}
		removed, err = tx.EraseContacts(ctx, name, ids)
		if err != nil {
			return err
		}
		if err := e.appendEvent(ctx, tx, s, "contacts.erased", actor, map[string]any{"ids": len(ids), "rows": removed}); err != nil {
			return err
		}
		s.UpdatedAt = e.now()
		return tx.UpdateSunset(ctx, s)
	})
	return removed, err
}
