//go:build !unix

package backup

const openFlags = 0
