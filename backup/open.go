package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrLink is a key of a local destination whose path is, or passes through, a symbolic link
// (or is not a regular file): Open refuses it rather than follow it, wherever the link points.
// A link planted in the data folder can thus neither leak a file from elsewhere nor make a
// download read something else than what was written there.
var ErrLink = errors.New("backup: the path is a symbolic link or not a regular file")

// ErrNoObject is a key that names nothing at the destination.
var ErrNoObject = errors.New("backup: no such object")

// Open opens key for reading; the caller closes it. A local destination's file is opened through
// an os.Root of its folder, checking every element of the path with Lstat: a key that is or
// passes through a symbolic link, or that is not a regular file, is ErrLink, and one that climbs
// out of the folder ("..") or is missing is ErrNoObject. The file opened is checked to be the
// one checked (os.SameFile), so a link swapped in meanwhile is refused too. On other
// destinations a missing key is ErrNoObject.
func (d *Dest) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if s, ok := d.Bucket.store.(*dirStore); ok {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return openNoFollow(s.root, key)
	}
	r, err := d.Bucket.NewReader(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoObject, key)
	}
	return r, err
}

// openNoFollow opens key under root without following any symbolic link (see Dest.Open).
func openNoFollow(root *os.Root, key string) (*os.File, error) {
	name := filepath.FromSlash(key)
	if key == "" || !filepath.IsLocal(name) {
		return nil, fmt.Errorf("%w: %s", ErrNoObject, key)
	}
	parts := strings.Split(name, string(filepath.Separator))
	var last fs.FileInfo
	for i := range parts {
		p := filepath.Join(parts[:i+1]...)
		fi, err := root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("%w: %s", ErrNoObject, key)
		case err != nil:
			return nil, err
		case fi.Mode()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("%w: %s (%s)", ErrLink, key, filepath.ToSlash(p))
		case i < len(parts)-1 && !fi.IsDir():
			return nil, fmt.Errorf("%w: %s", ErrNoObject, key)
		case i == len(parts)-1 && !fi.Mode().IsRegular():
			return nil, fmt.Errorf("%w: %s", ErrLink, key)
		}
		last = fi
	}
	f, err := root.OpenFile(name, os.O_RDONLY|openFlags, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoObject, key)
	}
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !os.SameFile(fi, last) {
		f.Close()
		return nil, fmt.Errorf("%w: %s (changed while opened)", ErrLink, key)
	}
	return f, nil
}
