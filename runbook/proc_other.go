//go:build !linux

package runbook

import "os/exec"

// bindToRunner does nothing where the kernel cannot tie a child's life to its parent's; there
// an operator who finds a step interrupted should check that its process is gone.
func bindToRunner(*exec.Cmd) {}
