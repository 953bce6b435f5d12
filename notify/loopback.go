package notify

import (
	"strings"

	"github.com/sunsetops/sunset/notify/channel"
)

// Links to a loopback address (http://127.0.0.1:8080, sunset serve's default without
// --public-url) open only on the machine that serves them. A notice carrying such links is
// useless, and looks broken, to a customer elsewhere, so the worker holds it (StatusHeld) rather
// than send it to a recipient that is not on this machine, unless the operator allowed it.

// LocalChannel is implemented by channels that can tell whether they deliver to this machine (a
// webhook or chat endpoint on 127.0.0.1): loopback links are fine there (channel.Local). A
// channel that does not implement it (email above all) is taken to reach someone elsewhere.
type LocalChannel = channel.Local

// LoopbackURL reports whether raw is a URL whose host is a loopback address (127.0.0.0/8, ::1,
// localhost and *.localhost) or the unspecified address, which nobody elsewhere can open; it is
// channel.LoopbackURL.
func LoopbackURL(raw string) bool { return channel.LoopbackURL(raw) }

// EffectivePublicURL is the base of the links in messages rendered with publicURL: publicURL
// itself, or the default (sunset serve's own address) when it is empty.
func EffectivePublicURL(publicURL string) string {
	if publicURL == "" {
		return defaultPublicURL
	}
	return strings.TrimRight(publicURL, "/")
}

// HeldReason is the reason recorded on a delivery held because its links point at base, a
// loopback address.
func HeldReason(base string) string {
	return "held: its links point at " + base + ", a loopback address the recipient cannot open; " +
		"restart sunset serve with --public-url (where users reach it) to send it, or with --allow-loopback-links to send it as it is"
}

// LoopbackWarning is the warning sunset serve prints at start and adds to apply's answers when
// the links in notices point at a loopback address; empty when publicURL is not loopback.
// allowed says whether such notices are sent anyway (--allow-loopback-links) or held.
func LoopbackWarning(publicURL string, allowed bool) string {
	base := EffectivePublicURL(publicURL)
	if !LoopbackURL(base) {
		return ""
	}
	if allowed {
		return "WARN: notices link to " + base + ", a loopback address only this machine can open, and " +
			"--allow-loopback-links sends them to every recipient anyway: set --public-url to where users reach this server"
	}
	return "WARN: notices link to " + base + ", a loopback address only this machine can open: notices to " +
		"email addresses and to other hosts are held (sunset notify status NAME shows them) until sunset serve " +
		"runs with --public-url set to where users reach it (or with --allow-loopback-links)"
}

// holds reports whether the worker must hold a delivery over ch: its links are loopback, the
// operator did not allow that, and ch reaches someone elsewhere.
func (w *Worker) holds(ch Channel) (string, bool) {
	base := EffectivePublicURL(w.PublicURL)
	if w.AllowLoopbackLinks || !LoopbackURL(base) {
		return "", false
	}
	if lc, ok := ch.(LocalChannel); ok && lc.Local() {
		return "", false
	}
	return HeldReason(base), true
}
