package plan

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/sunsetops/sunset/contacts"
)

// Kinds of file a plan references.
const (
	// RefContacts is a contacts CSV (consumers.contacts).
	RefContacts = "contacts"
)

// Reference is a file a plan names: it travels with the plan in its bundle, and the server
// never reads it from its own file system.
type Reference struct {
	// Path is the field that names the file, e.g. consumers.contacts.
	Path string `json:"path"`
	// Name is the file as the plan writes it (contacts.csv), relative to the plan file's folder
	// unless absolute; it is the bundle part's name.
	Name string `json:"name"`
	// Kind says how the file is read: RefContacts.
	Kind string `json:"kind"`
	// Pos is where the plan names it.
	Pos Pos `json:"-"`
}

// References returns the files p names, in file order (today consumers.contacts).
func (p *Plan) References() []Reference {
	var refs []Reference
	if p.Consumers.Contacts != "" {
		refs = append(refs, Reference{Path: "consumers.contacts", Name: p.Consumers.Contacts, Kind: RefContacts, Pos: p.at("consumers.contacts")})
	}
	return refs
}

// Problem returns a problem at the place p names r.
func (p *Plan) refProblem(r Reference, format string, args ...any) Problem {
	return Problem{File: p.file, Pos: r.Pos, Path: r.Path, Message: fmt.Sprintf(format, args...)}
}

// ContactOptions are what p's contacts file must satisfy beyond its format: when the plan
// lists consumers.tiers, a contact's tier is one of them.
func (p *Plan) ContactOptions() contacts.Options {
	return contacts.Options{Tiers: p.Consumers.Tiers}
}

// Files yields the files of a bundle: fn is called once per file with its name (a Reference's
// Name) and its content. A Files value may stream its files from a request; it is iterated once.
type Files func(refs []Reference, fn func(name string, body io.Reader) error) error

// LocalFiles returns the files of refs read from dir, the plan file's folder (an absolute
// reference is read as it is). A file that cannot be opened is a *RefError naming it.
func LocalFiles(dir string) Files {
	return func(refs []Reference, fn func(name string, body io.Reader) error) error {
		for _, r := range refs {
			f, err := os.Open(LocalPath(dir, r.Name))
			if err != nil {
				return &RefError{Ref: r, Err: err}
			}
			err = fn(r.Name, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// FSFiles returns the files of refs read from fsys, relative to dir within it (the bundled
// examples).
func FSFiles(fsys fs.FS, dir string) Files {
	return func(refs []Reference, fn func(name string, body io.Reader) error) error {
		for _, r := range refs {
			f, err := fsys.Open(path.Join(dir, r.Name))
			if err != nil {
				return &RefError{Ref: r, Err: err}
			}
			err = fn(r.Name, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// LocalPath is where a reference named name lives, for a plan file in dir.
func LocalPath(dir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, name)
}

// RefError is a referenced file that could not be read.
type RefError struct {
	Ref Reference
	Err error
}

// Error implements error.
func (e *RefError) Error() string { return e.Ref.Name + ": " + osErrText(e.Err) }

// Unwrap returns the cause.
func (e *RefError) Unwrap() error { return e.Err }

// CheckReferences reads every file p references from files and returns their problems, each
// at the place the plan names the file: a missing or unreadable file, every problem of a
// contacts file with its line (FILE:LINE:COL: consumers.contacts: contacts.csv:LINE:COL: …),
// and the tiers the plan's guardrails and notices name that no contact has (CheckContactTiers).
// Nothing is kept in memory but what contacts.Read keeps.
func (p *Plan) CheckReferences(files Files) Problems {
	refs := p.References()
	if len(refs) == 0 {
		return nil
	}
	var probs Problems
	seen := map[string]bool{}
	err := files(refs, func(name string, body io.Reader) error {
		for _, r := range refs {
			if r.Name != name {
				continue
			}
			seen[name] = true
			tiers := map[string]int{}
			ps, err := p.ReadReference(r, body, func(c contacts.Contact) error {
				if c.Tier != "" {
					tiers[c.Tier]++
				}
				return nil
			})
			if err != nil {
				ps = Problems{p.refProblem(r, "cannot read %s: %v", r.Name, err)}
			}
			if len(ps) == 0 && r.Kind == RefContacts {
				ps = p.CheckContactTiers(tiers)
			}
			probs = append(probs, ps...)
		}
		return nil
	})
	var re *RefError
	switch {
	case errors.As(err, &re):
		probs = append(probs, p.refProblem(re.Ref, "cannot read %s", re.Error()))
		seen[re.Ref.Name] = true
	case err != nil:
		probs = append(probs, Problem{File: p.file, Message: err.Error()})
	}
	for _, r := range refs {
		if !seen[r.Name] {
			probs = append(probs, p.refProblem(r, "the file %s is missing", r.Name))
		}
	}
	return probs
}

// ReadReference reads the referenced file r from body, handing each contact to fn, and returns
// its problems at the place p names r. An error fn returns, or one reading body, is returned as
// err, not as a problem.
func (p *Plan) ReadReference(r Reference, body io.Reader, fn func(contacts.Contact) error) (Problems, error) {
	err := contacts.Read(body, p.ContactOptions(), fn)
	if err == nil {
		return nil, nil
	}
	var ce *contacts.Error
	if !errors.As(err, &ce) {
		return nil, err
	}
	probs := make(Problems, 0, len(ce.Problems))
	for _, cp := range ce.Problems {
		if cp.Line == 0 {
			probs = append(probs, p.refProblem(r, "%s: %s", r.Name, cp.Message))
			continue
		}
		probs = append(probs, p.refProblem(r, "%s:%s", r.Name, cp.String()))
	}
	return probs, nil
}
