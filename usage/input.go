package usage

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Input is one log to read: a file or a stream.
type Input struct {
	// Name is shown in results and in malformed-line examples ("-" for standard input).
	Name string
	// Open returns the raw (possibly compressed) bytes and their size, or -1 if unknown.
	Open func() (io.ReadCloser, int64, error)
}

// Inputs turns command-line arguments into inputs: "-" is stdin, glob patterns expand (a
// pattern matching nothing is an error naming it), other arguments are file names (a missing
// file fails when it is opened, so that the other inputs are still read).
func Inputs(args []string, stdin io.Reader) ([]Input, error) {
	var ins []Input
	for _, a := range args {
		if a == "-" {
			ins = append(ins, Input{Name: "-", Open: func() (io.ReadCloser, int64, error) {
				return io.NopCloser(stdin), -1, nil
			}})
			continue
		}
		names := []string{a}
		if strings.ContainsAny(a, "*?[") {
			m, err := filepath.Glob(a)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", a, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("%s: no file matches", a)
			}
			names = m
		}
		for _, n := range names {
			ins = append(ins, FileInput(n))
		}
	}
	return ins, nil
}

// FileInput reads the file at path.
func FileInput(path string) Input {
	return Input{Name: path, Open: func() (io.ReadCloser, int64, error) {
		f, err := os.Open(path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, 0, fmt.Errorf("%s: %v", path, err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("%s: %v", path, err)
		}
		if st.IsDir() {
			f.Close()
			return nil, 0, fmt.Errorf("%s: is a directory", path)
		}
		return f, st.Size(), nil
	}}
}

// decompress wraps r in a gzip or zstd reader when its first bytes say it is compressed, so
// that compressed stdin and misnamed files are read too.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %v", err)
		}
		return zr, func() { zr.Close() }, nil
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %v", err)
		}
		return zr, zr.Close, nil
	}
	return br, func() {}, nil
}
