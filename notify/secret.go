package notify

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sunsetops/sunset/plan"
)

// ResolveSecret reads the secret a plan references: env:NAME from getenv (os.Getenv when nil),
// file:PATH from the file, without its trailing newline. The empty reference is the empty
// secret. Errors name the reference, never the value.
func ResolveSecret(s plan.Secret, getenv func(string) string) (string, error) {
	ref := string(s)
	switch {
	case ref == "":
		return "", nil
	case strings.HasPrefix(ref, "env:"):
		if getenv == nil {
			getenv = os.Getenv
		}
		v := getenv(ref[len("env:"):])
		if v == "" {
			return "", fmt.Errorf("secret %s: the environment variable is not set", ref)
		}
		return v, nil
	case strings.HasPrefix(ref, "file:"):
		b, err := os.ReadFile(ref[len("file:"):])
		if err != nil {
			return "", fmt.Errorf("secret %s: %w", ref, errors.Unwrap(err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", errors.New("secret is not an env: or file: reference")
}
