package backup

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sunsetops/sunset"
)

// frameSize is how much input goes into one zstd frame at most before the stream is cut at the
// next entry boundary. Smaller frames name damage more precisely; larger ones compress better.
const frameSize = 8 << 20

// Options configure Create.
type Options struct {
	// Name names the backup (a data.backups entry); it starts the archive's id.
	Name   string
	Source Source
	Dest   *Dest
	Key    Key
	// Tool is the version string recorded in the manifest ("sunset dev").
	Tool string
	// Runtime tells the creation instant (the zero Runtime: the wall clock).
	Runtime sunset.Runtime
	// Progress, when set, receives progress lines (stderr).
	Progress io.Writer
	// TempDir holds the scratch copy of databases; os.TempDir() when empty.
	TempDir string
}

// Archive is a created archive.
type Archive struct {
	ID       string     `json:"id"`
	Location string     `json:"location"`
	Manifest *Manifest  `json:"-"`
	Sum      ArchiveSum `json:"archive"`
}

// Create takes a consistent copy of the source and writes it as an archive with its signed
// manifest to the destination.
func Create(ctx context.Context, o Options) (*Archive, error) {
	if o.Source == nil || o.Dest == nil {
		return nil, errors.New("backup: no source or no destination")
	}
	if len(o.Key) == 0 {
		return nil, errors.New("backup: no signing key")
	}
	scratch, err := os.MkdirTemp(o.TempDir, "sunset-backup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	root, meta, err := o.Source.Snapshot(ctx, scratch)
	if err != nil {
		return nil, err
	}
	created := o.Runtime.Now().UTC().Truncate(time.Second)
	name := o.Name
	if name == "" {
		name = safeName(meta.Kind + "-" + filepath.Base(meta.Location))
	}
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	id := name + "-" + created.Format("20060102T150405Z") + "-" + hex.EncodeToString(rnd[:])
	m := &Manifest{Format: FormatVersion, ID: id, Name: name, Tool: o.Tool, Created: created, Source: meta}

	entries, total, err := scan(root)
	if err != nil {
		return nil, err
	}
	prog := startProgress(o.Progress, "backup "+id, total)
	sum, err := writeArchive(ctx, o.Dest, id, root, entries, m, o.Key, prog)
	prog.finish()
	if err != nil {
		return nil, err
	}
	env, err := o.Key.Seal(m, sum)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(env, "", " ")
	if err != nil {
		return nil, err
	}
	if err := o.Dest.writeFile(ctx, id+ManifestSuffix, b, "application/json"); err != nil {
		// An archive without its manifest is no backup: take it away (even when ctx ended).
		_ = o.Dest.Bucket.Delete(context.WithoutCancel(ctx), id+ArchiveSuffix)
		return nil, fmt.Errorf("backup: write manifest: %w", err)
	}
	return &Archive{ID: id, Location: o.Dest.Location(id), Manifest: m, Sum: *sum}, nil
}

// scan lists the tree under root in lexical order as manifest entries under data/.
func scan(root string) ([]Entry, int64, error) {
	var out []Entry
	var total int64
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := Entry{Path: "data/" + filepath.ToSlash(rel), Mode: uint32(info.Mode().Perm())}
		switch {
		case info.Mode().IsRegular():
			e.Type, e.Size = "file", info.Size()
			total += e.Size
		case info.IsDir():
			e.Type = "dir"
		case info.Mode()&fs.ModeSymlink != 0:
			e.Type = "symlink"
			if e.Link, err = os.Readlink(path); err != nil {
				return err
			}
		default:
			return nil // sockets, devices and pipes hold no data to keep
		}
		out = append(out, e)
		return nil
	})
	return out, total, err
}

// countingWriter counts and hashes what goes through it.
type countingWriter struct {
	w io.Writer
	n int64
	h hash.Hash
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.h.Write(p[:n])
	return n, err
}

func newEncoder(w io.Writer) (*zstd.Encoder, error) {
	return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(true), zstd.WithLowerEncoderMem(false))
}

// writeArchive writes the archive of entries (read from root) to d as id: a tar stream in zstd
// frames of about frameSize, each entry's frame offset and hash recorded in entries, then m
// (signed with key) as its last entry, in a frame of its own. It returns the size and hash of
// the compressed bytes. A failure leaves no archive under the final name.
func writeArchive(ctx context.Context, d *Dest, id, root string, entries []Entry, m *Manifest, key Key, prog *progress) (sum *ArchiveSum, err error) {
	bw, err := d.create(ctx, id+ArchiveSuffix, "application/zstd")
	if err != nil {
		return nil, fmt.Errorf("backup: open %s: %w", d.Location(id), err)
	}
	defer func() {
		if err != nil {
			bw.Abort() // no half archive under the final name
			return
		}
		if cerr := bw.Close(); cerr != nil {
			err = fmt.Errorf("backup: write %s: %w", d.Location(id), cerr)
		}
	}()
	buf := bufio.NewWriterSize(bw, 1<<20)
	cw := &countingWriter{w: buf, h: sha256.New()}
	enc, err := newEncoder(cw)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(enc)
	var frameStart, inFrame int64
	copyBuf := make([]byte, 1<<20)
	for i := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := &entries[i]
		if inFrame >= frameSize {
			// Cut the stream: the next entry starts a new, independently decodable frame.
			if err := cutFrame(tw, enc, cw); err != nil {
				return nil, err
			}
			frameStart, inFrame = cw.n, 0
		}
		e.Offset = frameStart
		if err := tw.WriteHeader(entryHeader(e, m.Created)); err != nil {
			return nil, err
		}
		inFrame += 1024
		if e.Type != "file" {
			continue
		}
		n, err := copyEntry(tw, root, e, prog, copyBuf)
		if err != nil {
			return nil, err
		}
		m.Bytes += n
		inFrame += n
	}
	m.Entries = entries
	// The manifest's own copy closes the archive, in a frame of its own.
	if err := cutFrame(tw, enc, cw); err != nil {
		return nil, err
	}
	if err := writeManifestCopy(tw, m, key); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	if err := buf.Flush(); err != nil {
		return nil, err
	}
	return &ArchiveSum{Size: cw.n, SHA256: hex.EncodeToString(cw.h.Sum(nil))}, nil
}

// cutFrame ends the current zstd frame, so that what follows starts a new, independently
// decodable one.
func cutFrame(tw *tar.Writer, enc *zstd.Encoder, cw *countingWriter) error {
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	enc.Reset(cw)
	return nil
}

// entryHeader is the tar header of e: a directory, a symbolic link or a regular file.
func entryHeader(e *Entry, created time.Time) *tar.Header {
	hdr := &tar.Header{Name: e.Path, Mode: int64(e.Mode), ModTime: created, Format: tar.FormatPAX}
	switch e.Type {
	case "dir":
		hdr.Typeflag, hdr.Name = tar.TypeDir, e.Path+"/"
	case "symlink":
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.Link
	case "file":
		hdr.Typeflag, hdr.Size = tar.TypeReg, e.Size
	}
	return hdr
}

// copyEntry copies the file of e (under root) into tw, records its hash in e and returns its
// size. A file that grew or shrank since it was listed is an error: writers must stop first.
func copyEntry(tw *tar.Writer, root string, e *Entry, prog *progress, buf []byte) (int64, error) {
	path := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(e.Path, "data/")))
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(tw, io.TeeReader(&progressReader{f, prog}, h), buf)
	f.Close()
	if err != nil {
		if errors.Is(err, tar.ErrWriteTooLong) {
			return 0, fmt.Errorf("backup: %s grew while it was read; stop writers (read_only) and back up again", path)
		}
		return 0, fmt.Errorf("backup: %s: %w", path, err)
	}
	if n != e.Size {
		return 0, fmt.Errorf("backup: %s shrank while it was read (%d of %d bytes); stop writers (read_only) and back up again", path, n, e.Size)
	}
	e.SHA256 = hex.EncodeToString(h.Sum(nil))
	return n, nil
}

// writeManifestCopy seals m with key and writes it as the archive's last entry, then closes tw.
func writeManifestCopy(tw *tar.Writer, m *Manifest, key Key) error {
	env, err := key.Seal(m, nil)
	if err != nil {
		return err
	}
	mb, err := json.Marshal(env)
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: ManifestEntry, Mode: 0o644, Size: int64(len(mb)), ModTime: m.Created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	if _, err := tw.Write(mb); err != nil {
		return err
	}
	return tw.Close()
}

type progressReader struct {
	r io.Reader
	p *progress
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(int64(n))
	return n, err
}
