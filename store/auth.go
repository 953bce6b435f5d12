package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sunsetops/sunset"
)

// Prefixes of the secrets the store hands out, so that a leaked one is recognisable (and secret
// scanners can find it) and a token is never mistaken for a session.
const (
	// TokenPrefix starts every API token.
	TokenPrefix = "sst_"
	// sessionPrefix starts every session secret.
	sessionPrefix = "sss_"
)

// Token is an API token as the store keeps it: never the secret, only its SHA-256.
type Token struct {
	// ID names the token in `sunset token list` and `revoke`; it is not a secret.
	ID string `json:"id"`
	// Name is who holds the token; it is the actor recorded in the events of its calls.
	Name string `json:"name"`
	// Role is the role the token grants: viewer, operator, approver or admin.
	Role string `json:"role"`
	// CreatedAt is when the token was made.
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt is when the token was revoked; zero means it is live.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Live reports whether the token still works at now.
func (t *Token) Live(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// Session is a logged-in UI session; the store keeps only the SHA-256 of its secret.
type Session struct {
	// Actor is who logged in: a token's name, a username or an OIDC subject's name.
	Actor string
	// Role is the role the session grants.
	Role string
	// CreatedAt and ExpiresAt bound the session's life.
	CreatedAt, ExpiresAt time.Time
}

// newSecret returns prefix followed by 32 random bytes in unpadded base64url.
func newSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: random secret: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecret returns the hex SHA-256 of a token or session secret, the form the store keeps.
// A fast hash is enough: the secrets carry 256 random bits, so there is nothing to guess.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// unknownToken is the one answer to every token that does not work, so that a caller cannot tell
// a revoked token from an expired or a made-up one.
var unknownToken = sunset.Errorf(sunset.EUNAUTHORIZED, "The token is not valid: it is unknown, revoked or expired.")

// CreateToken makes a token for name with role, valid until expires (zero: no expiry), and
// returns it with its secret. The secret is shown once: the store keeps only its hash.
func (db *DB) CreateToken(ctx context.Context, name, role string, expires, now time.Time) (*Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", sunset.Errorf(sunset.EINVALID, "A token needs a name: who holds it (it is recorded as the actor of its calls).")
	}
	secret, err := newSecret(TokenPrefix)
	if err != nil {
		return nil, "", err
	}
	idb := make([]byte, 6)
	if _, err := rand.Read(idb); err != nil {
		return nil, "", fmt.Errorf("store: random token id: %w", err)
	}
	t := &Token{ID: "tok_" + hex.EncodeToString(idb), Name: name, Role: role, CreatedAt: now.UTC()}
	if !expires.IsZero() {
		t.ExpiresAt = expires.UTC()
	}
	_, err = db.sql.ExecContext(ctx, rebind(db.dialect, `INSERT INTO auth_tokens (id, name, role, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		t.ID, t.Name, t.Role, HashSecret(secret), rfc(t.CreatedAt), rfcOrEmpty(t.ExpiresAt))
	if err != nil {
		return nil, "", db.translate(err, "create the token")
	}
	return t, secret, nil
}

// tokenColumns are the columns scanToken reads, in its order.
const tokenColumns = `id, name, role, created_at, expires_at, revoked_at`

// scanToken reads one row of tokenColumns.
func scanToken(row interface{ Scan(...any) error }) (*Token, error) {
	var t Token
	var created, expires, revoked string
	if err := row.Scan(&t.ID, &t.Name, &t.Role, &created, &expires, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt = parseInstant(created)
	t.ExpiresAt = parseInstant(expires)
	t.RevokedAt = parseInstant(revoked)
	return &t, nil
}

// parseInstant reads an RFC 3339 column; empty is the zero time.
func parseInstant(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// TokenBySecret returns the token whose secret is secret if it works at now; any other secret
// (unknown, revoked, expired) is EUNAUTHORIZED with one sentence for all.
func (db *DB) TokenBySecret(ctx context.Context, secret string, now time.Time) (*Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return nil, unknownToken
	}
	row := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT `+tokenColumns+` FROM auth_tokens WHERE hash = ?`), HashSecret(secret))
	t, err := scanToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, unknownToken
	}
	if err != nil {
		return nil, db.translate(err, "read the token")
	}
	if !t.Live(now) {
		return nil, unknownToken
	}
	return t, nil
}

// Tokens returns every token, live or not, oldest first. Secrets are not kept, so none is shown.
func (db *DB) Tokens(ctx context.Context) ([]*Token, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+tokenColumns+` FROM auth_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, db.translate(err, "list the tokens")
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, db.translate(err, "list the tokens")
		}
		out = append(out, t)
	}
	return out, db.translate(rows.Err(), "list the tokens")
}

// RevokeToken stops the token with id from working at now and returns it. An unknown id is
// ENOTFOUND; revoking twice keeps the first instant.
func (db *DB) RevokeToken(ctx context.Context, id string, now time.Time) (*Token, error) {
	_, err := db.sql.ExecContext(ctx, rebind(db.dialect, `UPDATE auth_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = ''`), rfc(now), id)
	if err != nil {
		return nil, db.translate(err, "revoke the token")
	}
	row := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT `+tokenColumns+` FROM auth_tokens WHERE id = ?`), id)
	t, err := scanToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "No token has the id %q; `sunset token list` shows them.", id)
	}
	if err != nil {
		return nil, db.translate(err, "revoke the token")
	}
	return t, nil
}

// AuthConfigured reports whether any live token or any user exists: then the server demands
// credentials on every route that is not public.
func (db *DB) AuthConfigured(ctx context.Context, now time.Time) (bool, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT
		(SELECT COUNT(*) FROM auth_tokens WHERE revoked_at = '' AND (expires_at = '' OR expires_at > ?)) +
		(SELECT COUNT(*) FROM auth_users)`), rfc(now)).Scan(&n)
	if err != nil {
		return false, db.translate(err, "count the credentials")
	}
	return n > 0, nil
}

// PutUser creates or replaces the user username with role and a bcrypt hash of password.
func (db *DB) PutUser(ctx context.Context, username, role, password string, now time.Time) error {
	username = strings.TrimSpace(username)
	if username == "" {
		return sunset.Errorf(sunset.EINVALID, "A user needs a name.")
	}
	if len(password) < 12 {
		return sunset.Errorf(sunset.EINVALID, "A password needs at least 12 characters.")
	}
	if len(password) > 72 {
		return sunset.Errorf(sunset.EINVALID, "A password may have at most 72 bytes (bcrypt's limit).")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("store: hash the password: %w", err)
	}
	_, err = db.sql.ExecContext(ctx, rebind(db.dialect, `INSERT INTO auth_users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)
	ON CONFLICT (username) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash`),
		username, role, string(hash), rfc(now))
	return db.translate(err, "save the user")
}

// badLogin is the one answer to a wrong username or password.
var badLogin = sunset.Errorf(sunset.EUNAUTHORIZED, "The username or password is wrong.")

// CheckPassword returns the role of username when password is theirs; anything else is
// EUNAUTHORIZED with one sentence for an unknown user and a wrong password alike.
func (db *DB) CheckPassword(ctx context.Context, username, password string) (role string, err error) {
	var hash string
	err = db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT role, password_hash FROM auth_users WHERE username = ?`), username).Scan(&role, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the time a real check takes, so that timing does not tell who exists.
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return "", badLogin
	}
	if err != nil {
		return "", db.translate(err, "read the user")
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", badLogin
	}
	return role, nil
}

// dummyHash is compared against when a login names no user; made on first use, since hashing
// takes a noticeable moment.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such user, no such password"), bcrypt.DefaultCost)
	return h
})

// CreateSession starts a session for actor with role, ending at expires, and returns its secret
// (the cookie's value); the store keeps only its hash.
func (db *DB) CreateSession(ctx context.Context, actor, role string, now, expires time.Time) (string, error) {
	secret, err := newSecret(sessionPrefix)
	if err != nil {
		return "", err
	}
	_, err = db.sql.ExecContext(ctx, rebind(db.dialect, `INSERT INTO auth_sessions (hash, actor, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
		HashSecret(secret), actor, role, rfc(now), rfc(expires))
	if err != nil {
		return "", db.translate(err, "start the session")
	}
	// Sessions that ended are of no use: drop them while we are here.
	_, _ = db.sql.ExecContext(ctx, rebind(db.dialect, `DELETE FROM auth_sessions WHERE expires_at <= ?`), rfc(now))
	return secret, nil
}

// SessionBySecret returns the session whose secret is secret if it is live at now; any other
// is EUNAUTHORIZED.
func (db *DB) SessionBySecret(ctx context.Context, secret string, now time.Time) (*Session, error) {
	expired := sunset.Errorf(sunset.EUNAUTHORIZED, "The session has ended; log in again.")
	if !strings.HasPrefix(secret, sessionPrefix) {
		return nil, expired
	}
	var s Session
	var created, expires string
	err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT actor, role, created_at, expires_at FROM auth_sessions WHERE hash = ?`), HashSecret(secret)).
		Scan(&s.Actor, &s.Role, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, expired
	}
	if err != nil {
		return nil, db.translate(err, "read the session")
	}
	s.CreatedAt, s.ExpiresAt = parseInstant(created), parseInstant(expires)
	if !now.Before(s.ExpiresAt) {
		return nil, expired
	}
	return &s, nil
}

// DeleteSession ends the session whose secret is secret; an unknown one is no error.
func (db *DB) DeleteSession(ctx context.Context, secret string) error {
	_, err := db.sql.ExecContext(ctx, rebind(db.dialect, `DELETE FROM auth_sessions WHERE hash = ?`), HashSecret(secret))
	return db.translate(err, "end the session")
}

// Credentials is the store's credentials seen as plain values: what a web server asks when it
// authenticates a request. DB.Credentials returns it.
type Credentials struct{ db *DB }

// Credentials returns the store's credentials for a web server.
func (db *DB) Credentials() Credentials { return Credentials{db: db} }

// Token returns the name and role of the live token whose secret is secret.
func (c Credentials) Token(ctx context.Context, secret string, now time.Time) (name, role string, err error) {
	t, err := c.db.TokenBySecret(ctx, secret, now)
	if err != nil {
		return "", "", err
	}
	return t.Name, t.Role, nil
}

// Password returns the role of username when password is theirs.
func (c Credentials) Password(ctx context.Context, username, password string) (string, error) {
	return c.db.CheckPassword(ctx, username, password)
}

// CreateSession starts a session for name with role until expires and returns its secret.
func (c Credentials) CreateSession(ctx context.Context, name, role string, now, expires time.Time) (string, error) {
	return c.db.CreateSession(ctx, name, role, now, expires)
}

// Session returns the name and role of the live session whose secret is secret.
func (c Credentials) Session(ctx context.Context, secret string, now time.Time) (name, role string, err error) {
	s, err := c.db.SessionBySecret(ctx, secret, now)
	if err != nil {
		return "", "", err
	}
	return s.Actor, s.Role, nil
}

// DeleteSession ends the session whose secret is secret.
func (c Credentials) DeleteSession(ctx context.Context, secret string) error {
	return c.db.DeleteSession(ctx, secret)
}
