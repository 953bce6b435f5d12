package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/storetest"
)

func TestCredentialsAreKeptHashedAndExpire(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) engine.Store{"sqlite": storetest.OpenSQLite, "postgres": storetest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			st := open(t).(*store.DB)
			now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
			if on, err := st.AuthConfigured(ctx, now); err != nil || on {
				t.Fatalf("a fresh database has credentials: %v %v", on, err)
			}
			tok, secret, err := st.CreateToken(ctx, "li.wei", "admin", time.Time{}, now)
			if err != nil || !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) < 40 {
				t.Fatalf("create: %+v %q %v", tok, secret, err)
			}
			if on, _ := st.AuthConfigured(ctx, now); !on {
				t.Error("a live token does not turn authentication on")
			}
			got, err := st.TokenBySecret(ctx, secret, now)
			if err != nil || got.Name != "li.wei" || got.Role != "admin" || got.ID != tok.ID {
				t.Fatalf("by secret: %+v %v", got, err)
			}
			// Only the hash is kept.
			var kept string
			if err := st.DB().QueryRowContext(ctx, "SELECT hash FROM auth_tokens WHERE id = '"+tok.ID+"'").Scan(&kept); err != nil {
				t.Fatal(err)
			}
			if kept == secret || kept != store.HashSecret(secret) {
				t.Errorf("stored %q for the secret %q", kept, secret)
			}
			for _, bad := range []string{"", "sst_", secret + "x", strings.ToUpper(secret), "sss_" + secret[4:]} {
				if _, err := st.TokenBySecret(ctx, bad, now); sunset.ErrorCode(err) != sunset.EUNAUTHORIZED {
					t.Errorf("secret %q: %v, want unauthorized", bad, err)
				}
			}
			_, short, err := st.CreateToken(ctx, "ci", "operator", now.Add(time.Hour), now)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.TokenBySecret(ctx, short, now.Add(time.Hour)); sunset.ErrorCode(err) != sunset.EUNAUTHORIZED {
				t.Errorf("a token at its expiry still works: %v", err)
			}
			if _, err := st.RevokeToken(ctx, tok.ID, now); err != nil {
				t.Fatal(err)
			}
			if _, err := st.TokenBySecret(ctx, secret, now); sunset.ErrorCode(err) != sunset.EUNAUTHORIZED {
				t.Errorf("a revoked token still works: %v", err)
			}
			if _, err := st.RevokeToken(ctx, "tok_nope", now); sunset.ErrorCode(err) != sunset.ENOTFOUND {
				t.Errorf("revoke of an unknown id: %v", err)
			}
			list, err := st.Tokens(ctx)
			if err != nil || len(list) != 2 {
				t.Fatalf("list: %v %v", list, err)
			}
			for _, tk := range list {
				if tk.Live(now.Add(2*time.Hour)) || (tk.Name == "li.wei") == tk.RevokedAt.IsZero() {
					t.Errorf("listed %+v", *tk)
				}
			}
			if on, _ := st.AuthConfigured(ctx, now.Add(2*time.Hour)); on {
				t.Error("revoked and expired tokens keep authentication on")
			}

			// Users: bcrypt, one answer for a wrong name and a wrong password.
			if err := st.PutUser(ctx, "zhang.min", "approver", "short", now); sunset.ErrorCode(err) != sunset.EINVALID {
				t.Errorf("a short password: %v", err)
			}
			if err := st.PutUser(ctx, "zhang.min", "approver", "correct horse battery staple", now); err != nil {
				t.Fatal(err)
			}
			if role, err := st.CheckPassword(ctx, "zhang.min", "correct horse battery staple"); err != nil || role != "approver" {
				t.Errorf("password: %q %v", role, err)
			}
			_, errWrong := st.CheckPassword(ctx, "zhang.min", "wrong horse battery staple")
			_, errNobody := st.CheckPassword(ctx, "nobody", "correct horse battery staple")
			if sunset.ErrorCode(errWrong) != sunset.EUNAUTHORIZED || errWrong.Error() != errNobody.Error() {
				t.Errorf("wrong password %v, unknown user %v: want one unauthorized answer", errWrong, errNobody)
			}

			// Sessions end at their expiry and at logout.
			s, err := st.CreateSession(ctx, "zhang.min", "approver", now, now.Add(12*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := st.SessionBySecret(ctx, s, now.Add(time.Hour)); err != nil || got.Actor != "zhang.min" || got.Role != "approver" {
				t.Errorf("session: %+v %v", got, err)
			}
			if _, err := st.SessionBySecret(ctx, s, now.Add(12*time.Hour)); sunset.ErrorCode(err) != sunset.EUNAUTHORIZED {
				t.Errorf("an expired session still works: %v", err)
			}
			if err := st.DeleteSession(ctx, s); err != nil {
				t.Fatal(err)
			}
			if _, err := st.SessionBySecret(ctx, s, now); sunset.ErrorCode(err) != sunset.EUNAUTHORIZED {
				t.Errorf("a deleted session still works: %v", err)
			}
		})
	}
}
