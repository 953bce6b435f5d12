package runbook

import (
	"os/exec"
	"syscall"
)

// bindToRunner makes the command die with the runner: a runner killed mid-step (SIGKILL, OOM)
// must not leave the step's process running on, or its effect could land after an operator
// has looked, decided it did not happen, and retried it.
func bindToRunner(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
