//go:build unix

package backup

import "syscall"

// openFlags keep an open from blocking on a FIFO swapped in for the file after its check.
const openFlags = syscall.O_NONBLOCK
