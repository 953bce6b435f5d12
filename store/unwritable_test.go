package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	sunset "github.com/sunsetops/sunset"
)

// sqliteErr stands for modernc's *sqlite.Error, whose fields are not exported: the store
// recognises it by its Code() int, an extended result code.
type sqliteErr struct{ code int }

func (e *sqliteErr) Error() string { return fmt.Sprintf("sqlite error (%d)", e.code) }
func (e *sqliteErr) Code() int     { return e.code }

// TestClassifyUnwritable: the driver codes that mean "the database cannot be written" become a
// *sunset.UnwritableError with the reason, the code in words, and the user's error code
// (storage_full or storage_unwritable), through any wrapping; every other error stays as it is.
func TestClassifyUnwritable(t *testing.T) {
	wrap := func(err error) error {
		return fmt.Errorf("engine: apply: %w", fmt.Errorf("store: insert sunset: %w", err))
	}
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for _, tc := range []struct {
		name    string
		dialect string
		err     error
		reason  sunset.UnwritableReason // "": not a storage failure
		code    string
	}{
		{"SQLITE_FULL", SQLite, &sqliteErr{13}, sunset.ReasonFull, "SQLITE_FULL"},
		{"SQLITE_FULL wrapped twice", SQLite, wrap(&sqliteErr{13}), sunset.ReasonFull, "SQLITE_FULL"},
		{"SQLITE_READONLY", SQLite, &sqliteErr{8}, sunset.ReasonReadOnly, "SQLITE_READONLY"},
		{"SQLITE_READONLY_DBMOVED (extended)", SQLite, &sqliteErr{8 | 4<<8}, sunset.ReasonReadOnly, "SQLITE_READONLY"},
		{"SQLITE_READONLY_DIRECTORY (extended)", SQLite, &sqliteErr{8 | 6<<8}, sunset.ReasonReadOnly, "SQLITE_READONLY"},
		{"SQLITE_PERM", SQLite, &sqliteErr{3}, sunset.ReasonReadOnly, "SQLITE_PERM"},
		{"SQLITE_IOERR", SQLite, &sqliteErr{10}, sunset.ReasonIO, "SQLITE_IOERR"},
		{"SQLITE_IOERR_WRITE (extended)", SQLite, &sqliteErr{10 | 3<<8}, sunset.ReasonIO, "SQLITE_IOERR"},
		{"SQLITE_IOERR_FSYNC (extended)", SQLite, &sqliteErr{10 | 4<<8}, sunset.ReasonIO, "SQLITE_IOERR"},
		{"SQLITE_CANTOPEN", SQLite, &sqliteErr{14}, sunset.ReasonIO, "SQLITE_CANTOPEN"},
		{"SQLITE_BUSY is not one", SQLite, &sqliteErr{5}, "", ""},
		{"SQLITE_CONSTRAINT_UNIQUE is not one", SQLite, &sqliteErr{2067}, "", ""},
		{"SQLITE_CORRUPT is not one", SQLite, &sqliteErr{11}, "", ""},
		{"a PostgreSQL code on SQLite is not one", SQLite, &pgconn.PgError{Code: "53100"}, "", ""},

		{"53100 disk_full", Postgres, &pgconn.PgError{Code: "53100"}, sunset.ReasonFull, "53100 disk_full"},
		{"53100 wrapped twice", Postgres, wrap(&pgconn.PgError{Code: "53100"}), sunset.ReasonFull, "53100 disk_full"},
		{"25006 read_only_sql_transaction", Postgres, &pgconn.PgError{Code: "25006"}, sunset.ReasonReadOnly, "25006 read_only_sql_transaction"},
		{"58030 io_error", Postgres, &pgconn.PgError{Code: "58030"}, sunset.ReasonIO, "58030 io_error"},
		{"53000 insufficient_resources", Postgres, &pgconn.PgError{Code: "53000"}, sunset.ReasonUnavailable, "53000 insufficient_resources"},
		{"53200 out_of_memory", Postgres, &pgconn.PgError{Code: "53200"}, sunset.ReasonUnavailable, "53200 out_of_memory"},
		{"53300 too_many_connections", Postgres, &pgconn.PgError{Code: "53300"}, sunset.ReasonUnavailable, "53300 too_many_connections"},
		{"53400 configuration_limit_exceeded", Postgres, &pgconn.PgError{Code: "53400"}, sunset.ReasonUnavailable, "53400 configuration_limit_exceeded"},
		{"53xxx of a later version", Postgres, &pgconn.PgError{Code: "53999"}, sunset.ReasonUnavailable, "53999 insufficient resources"},
		{"57P01 admin_shutdown", Postgres, &pgconn.PgError{Code: "57P01"}, sunset.ReasonUnavailable, "57P01 admin_shutdown"},
		{"57P02 crash_shutdown", Postgres, &pgconn.PgError{Code: "57P02"}, sunset.ReasonUnavailable, "57P02 crash_shutdown"},
		{"57P03 cannot_connect_now", Postgres, &pgconn.PgError{Code: "57P03"}, sunset.ReasonUnavailable, "57P03 cannot_connect_now"},
		{"08006 connection_failure", Postgres, &pgconn.PgError{Code: "08006"}, sunset.ReasonUnavailable, "08006 connection exception"},
		{"a refused connection", Postgres, wrap(dial), sunset.ReasonUnavailable, "cannot connect"},
		{"23505 unique_violation is not one", Postgres, &pgconn.PgError{Code: "23505"}, "", ""},
		{"40001 serialization_failure is not one", Postgres, &pgconn.PgError{Code: "40001"}, "", ""},
		{"57014 query_canceled is not one", Postgres, &pgconn.PgError{Code: "57014"}, "", ""},
		{"a SQLite code on PostgreSQL is not one", Postgres, &sqliteErr{13}, "", ""},
		{"a context's end is not one", Postgres, wrap(context.DeadlineExceeded), "", ""},
		{"nil", Postgres, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := ClassifyUnwritable(tc.dialect, "/var/lib/sunset/sunset.db", tc.err)
			if tc.reason == "" {
				if u != nil {
					t.Fatalf("classified as %+v, want nothing", u)
				}
				return
			}
			if u == nil {
				t.Fatalf("not classified, want %s", tc.reason)
			}
			if u.Reason != tc.reason || u.Code != tc.code {
				t.Errorf("reason %q code %q, want %q %q", u.Reason, u.Code, tc.reason, tc.code)
			}
			if !errors.Is(u, ErrUnwritable) || !errors.Is(fmt.Errorf("web: %w", u), sunset.ErrUnwritable) {
				t.Error("not errors.Is ErrUnwritable")
			}
			if !errors.Is(u, tc.err) {
				t.Error("the driver's error is not kept for the logs")
			}
			want := sunset.EUNWRITABLE
			if tc.reason == sunset.ReasonFull {
				want = sunset.EFULL
			}
			if got := sunset.ErrorCode(fmt.Errorf("engine: %w", u)); got != want {
				t.Errorf("ErrorCode = %q, want %q", got, want)
			}
			if again := ClassifyUnwritable(tc.dialect, "", fmt.Errorf("x: %w", u)); again != u {
				t.Error("classifying a classified error makes a new one")
			}
		})
	}
}

// TestUnwritableMessages: the user's sentence says the database cannot be written, why (with the
// code), what to do, and that nothing was lost, in English and in Chinese; the file's path is
// named for SQLite, no server for PostgreSQL.
func TestUnwritableMessages(t *testing.T) {
	full := ClassifyUnwritable(SQLite, "/var/lib/sunset/sunset.db", &sqliteErr{13})
	ro := ClassifyUnwritable(Postgres, "", &pgconn.PgError{Code: "25006", Message: "cannot execute INSERT in a read-only transaction"})
	for _, tc := range []struct {
		name string
		got  string
		want []string
	}{
		{"full, en", full.Message("en"), []string{"The database cannot be written", "disk is full", "(SQLITE_FULL)", "free space on the disk that holds /var/lib/sunset/sunset.db", "Nothing you sent was stored", "no earlier data was lost"}},
		{"full, zh", full.Message("zh"), []string{"数据库无法写入", "磁盘已满", "SQLITE_FULL", "/var/lib/sunset/sunset.db", "没有丢失"}},
		{"read-only replica, en", ro.Message("en"), []string{"PostgreSQL refuses writes", "25006 read_only_sql_transaction", "point --db at the primary", "Nothing you sent was stored"}},
		{"read-only replica, zh", ro.Message("zh"), []string{"只读", "主库", "没有丢失"}},
		{"log line", ro.Error(), []string{"25006", "cannot execute INSERT in a read-only transaction"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.want {
				if !strings.Contains(tc.got, w) {
					t.Errorf("%q lacks %q", tc.got, w)
				}
			}
		})
	}
}
