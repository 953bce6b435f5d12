//go:build unix

package sqlite

import (
	"fmt"
	"os"
	"syscall"
)

// lockSetup takes an exclusive lock that serialises the setup (WAL switch and migrations) of the
// database at abs among every process and goroutine opening it, and returns its release. The
// lock is flock(2) on a file beside the database (abs + "-setup.lock"), never on the database
// file itself: closing a descriptor of the database would drop the POSIX locks SQLite holds on
// it. The lock file stays: removing it would race with the next opener.
func lockSetup(abs string) (func(), error) {
	f, err := os.OpenFile(abs+"-setup.lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock the setup of %s: %w", abs, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sqlite: lock the setup of %s: %w", abs, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
