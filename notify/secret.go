package notify

import (
	"github.com/sunsetops/sunset/notify/channel"
	"github.com/sunsetops/sunset/plan"
)

// ResolveSecret reads the secret a plan references: env:NAME from getenv (os.Getenv when nil),
// file:PATH from the file, without its trailing newline; it is channel.ResolveSecret. Errors name
// the reference, never the value.
func ResolveSecret(s plan.Secret, getenv func(string) string) (string, error) {
	return channel.ResolveSecret(s, getenv)
}
