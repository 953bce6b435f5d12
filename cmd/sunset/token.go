package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/web/auth"
)

// authFlags are the flags of the commands that manage credentials straight in the database.
type authFlags struct {
	db string
}

func (o *authFlags) add(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&o.db, "db", "sqlite:sunset.db", "database the server uses: sqlite:PATH or postgres://…")
}

// open opens the database of o and tells the time of m's clock.
func (m *Main) openAuth(ctx context.Context, o *authFlags) (*store.DB, time.Time, error) {
	clock, err := m.clock()
	if err != nil {
		return nil, time.Time{}, err
	}
	st, err := openStore(ctx, o.db, nil)
	if err != nil {
		return nil, time.Time{}, fail("open database: %v", err)
	}
	return st, clock.Now(), nil
}

func (m *Main) tokenCommand() *cobra.Command {
	o := &authFlags{}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the API tokens that callers of the server present",
		Long: `Token manages API tokens straight in the server's database (--db), so the first admin token
needs no running server. A token grants one role: viewer < operator < approver < admin; each
includes the ones before it. The token's name is recorded as the actor of its calls.

A token is shown once, when it is made; the database keeps only its SHA-256. Once any token
or user exists, the server demands credentials on every route that is not public, and may
listen on a non-loopback address. That takes effect on running servers too: creating the first
token on the database of a running server turns authentication on within 2 s, without a
restart (a server started on loopback stays there). A revoked token is refused at once.
Callers send it as "Authorization: Bearer TOKEN"; the CLI reads it from --token or
$SUNSET_TOKEN.`,
		Example: `  sunset token create --role admin --name li.wei
  sunset token create --role operator --name deploy-bot --expires 720h --db postgres://sunset@127.0.0.1/sunset
  sunset token list
  sunset token revoke tok_3f9a1c2b7d4e`,
	}
	o.add(cmd)
	cmd.AddCommand(m.tokenCreateCommand(o), m.tokenListCommand(o), m.tokenRevokeCommand(o))
	return cmd
}

func (m *Main) tokenCreateCommand(o *authFlags) *cobra.Command {
	var role, name string
	var expires time.Duration
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Make a token and print it once",
		Example: `  sunset token create --role admin --name li.wei
  export SUNSET_TOKEN=$(sunset token create --role viewer --name grafana --quiet)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := auth.ParseRole(role)
			if err != nil {
				return &exitError{code: 2, msg: "--role: " + err.Error()}
			}
			if strings.TrimSpace(name) == "" {
				return &exitError{code: 2, msg: "--name is required: who holds the token (recorded as the actor of its calls)"}
			}
			if expires < 0 {
				return &exitError{code: 2, msg: "--expires must be positive, e.g. 720h"}
			}
			st, now, err := m.openAuth(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer st.Close()
			var until time.Time
			if expires > 0 {
				until = now.Add(expires)
			}
			wasOn, err := st.AuthConfigured(cmd.Context(), now)
			if err != nil {
				return fail("read the credentials: %v", err)
			}
			t, secret, err := st.CreateToken(cmd.Context(), name, r.String(), until, now)
			if err != nil {
				return fail("create the token: %v", err)
			}
			out := cmd.OutOrStdout()
			quiet, _ := cmd.Flags().GetBool("quiet")
			if quiet {
				fmt.Fprintln(out, secret)
			} else {
				fmt.Fprintf(out, "Token %s for %s (%s):\n\n  %s\n\nIt is shown only now: keep it in a secret store. Use it as --token, $SUNSET_TOKEN or \"Authorization: Bearer …\".\n令牌只显示这一次，请妥善保存。\n", t.ID, t.Name, t.Role, secret)
			}
			if !wasOn {
				// The first credential changes every running server on this database: say so
				// where a person reads it, also when stdout is captured.
				warn := out
				if quiet {
					warn = cmd.ErrOrStderr()
				}
				fmt.Fprint(warn, authTurnedOn(r, false))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "role the token grants: viewer, operator, approver or admin (required)")
	f.StringVar(&name, "name", "", "who holds the token; recorded as the actor of its calls (required)")
	f.DurationVar(&expires, "expires", 0, "how long the token works, e.g. 720h (default: until revoked)")
	f.Bool("quiet", false, "print only the token")
	return cmd
}

// recheckSeconds is how long, in whole seconds, a running server takes to notice that
// authentication turned on or off in its database.
func recheckSeconds() int { return int(auth.AuthRecheck / time.Second) }

// authTurnedOn is what token create and user set say when they made the database's first
// credential, a token (user false) or a user with role r: every running server on the database
// starts to demand credentials.
func authTurnedOn(r auth.Role, user bool) string {
	s := recheckSeconds()
	msg := fmt.Sprintf("\nAuthentication is now on for every server using this database: requests without a token are refused within %d s, no restart needed.\n"+
		"认证现已开启：使用此数据库的所有服务器将在 %d 秒内拒绝不带令牌的请求，无需重启。\n", s, s)
	if r != auth.RoleAdmin {
		en, zh := "token is not an admin token", "令牌不是管理员令牌"
		if user {
			en, zh = "user is not an admin", "用户不是管理员"
		}
		msg += "This first " + en + ": routes that need the admin role stay closed until an admin exists (sunset token create --role admin --name YOU).\n" +
			"第一个" + zh + "：在有管理员之前，需要管理员角色的操作都无法进行（sunset token create --role admin --name 你的名字）。\n"
	}
	return msg
}

func (m *Main) tokenListCommand(o *authFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the tokens (never their secrets)",
		Example: `  sunset token list --db sqlite:/var/lib/sunset/sunset.db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, now, err := m.openAuth(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer st.Close()
			tokens, err := st.Tokens(cmd.Context())
			if err != nil {
				return fail("list the tokens: %v", err)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tEXPIRES\tSTATE")
			for _, t := range tokens {
				state := "live"
				switch {
				case !t.RevokedAt.IsZero():
					state = "revoked " + t.RevokedAt.Format(time.RFC3339)
				case !t.Live(now):
					state = "expired"
				}
				exp := "never"
				if !t.ExpiresAt.IsZero() {
					exp = t.ExpiresAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), exp, state)
			}
			return tw.Flush()
		},
	}
}

func (m *Main) tokenRevokeCommand(o *authFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke ID",
		Short:   "Stop a token from working, at once",
		Example: `  sunset token revoke tok_3f9a1c2b7d4e`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, now, err := m.openAuth(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer st.Close()
			t, err := st.RevokeToken(cmd.Context(), args[0], now)
			if err != nil {
				return fail("revoke: %v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Token %s (%s, %s) is revoked since %s: it is refused at once.\n", t.ID, t.Name, t.Role, t.RevokedAt.Format(time.RFC3339))
			on, err := st.AuthConfigured(cmd.Context(), now)
			if err != nil {
				return fail("read the credentials: %v", err)
			}
			if !on {
				s := recheckSeconds()
				fmt.Fprintf(cmd.OutOrStdout(), "\nNo live token or user is left: within %d s, servers using this database that were started without --auth answer requests without credentials again (on loopback only).\n"+
					"已没有有效的令牌或用户：%d 秒内，使用此数据库且未带 --auth 启动的服务器将重新不经认证即可访问（仅限本机回环地址）。\n", s, s)
			}
			return nil
		},
	}
}

func (m *Main) userCommand() *cobra.Command {
	o := &authFlags{}
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage the users who log in to the web UI with a password",
		Long: `User keeps the users who log in to the operator UI with a username and password, straight
in the server's database. Passwords are kept as bcrypt hashes. Tokens and OIDC are the other
ways to log in.`,
		Example: `  printf '%s\n' "$PASSWORD" | sunset user set li.wei --role approver`,
	}
	o.add(cmd)
	var role string
	set := &cobra.Command{
		Use:     "set USERNAME",
		Short:   "Create or update a user; the password is read from standard input",
		Example: `  printf '%s\n' "$PASSWORD" | sunset user set li.wei --role approver --db postgres://sunset@127.0.0.1/sunset`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := auth.ParseRole(role)
			if err != nil {
				return &exitError{code: 2, msg: "--role: " + err.Error()}
			}
			line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("read the password from standard input: %w", err)
			}
			password := strings.TrimRight(line, "\r\n")
			if password == "" {
				return &exitError{code: 2, msg: "give the password on standard input (one line)"}
			}
			st, now, err := m.openAuth(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer st.Close()
			wasOn, err := st.AuthConfigured(cmd.Context(), now)
			if err != nil {
				return fail("read the credentials: %v", err)
			}
			if err := st.PutUser(cmd.Context(), args[0], r.String(), password, now); err != nil {
				return fail("save the user: %v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "User %s (%s) can log in at /login.\n", args[0], r)
			if !wasOn {
				fmt.Fprint(cmd.OutOrStdout(), authTurnedOn(r, true))
			}
			return nil
		},
	}
	set.Flags().StringVar(&role, "role", "viewer", "role: viewer, operator, approver or admin")
	cmd.AddCommand(set)
	return cmd
}
