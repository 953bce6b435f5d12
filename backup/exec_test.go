package backup

import "os/exec"

func execLook(name string) (string, error) { return exec.LookPath(name) }

func runShell(script string) (string, error) {
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	return string(out), err
}
