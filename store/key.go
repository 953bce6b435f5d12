package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
)

// signingKeyLen is the length of the keys SigningKey makes, in bytes.
const signingKeyLen = 32

// SigningKey returns the database's key named name (for example "unsubscribe"), making a random
// 32-byte one the first time it is asked for. Every replica sharing the database and every
// restart get the same key, so links signed with it stay valid; when two replicas make the key
// at the same time, the first to commit wins and both return it.
func (db *DB) SigningKey(ctx context.Context, name string) ([]byte, error) {
	fresh := make([]byte, signingKeyLen)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := db.sql.ExecContext(ctx, rebind(db.dialect, `INSERT INTO signing_keys (name, key, created_at)
	VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`), name, fresh, db.timeArg(normTime(db.now()))); err != nil {
		return nil, db.translate(err, "make a signing key")
	}
	var key []byte
	err := db.sql.QueryRowContext(ctx, rebind(db.dialect, `SELECT key FROM signing_keys WHERE name = ?`), name).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errors.New("store: the signing key vanished after it was made")
	}
	if err != nil {
		return nil, db.translate(err, "read a signing key")
	}
	return key, nil
}
