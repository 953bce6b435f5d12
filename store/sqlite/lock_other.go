//go:build !unix

package sqlite

// lockSetup is a no-op where flock(2) does not exist: concurrent first opens of a new file rely
// on setup's retries alone there.
func lockSetup(string) (func(), error) { return func() {}, nil }
