// Package backup keeps the data of a retiring service: archives of its sources, checked by
// restoring them; per-user exports with signed download links; migration of each user's data to
// the alternative; and retention (what may be deleted, and when).
//
// An archive is a tar stream compressed with zstd (so `zstd -d | tar -x` opens it) whose entries
// are the source's files under data/, followed by a copy of its manifest. The manifest lists every
// entry's size and SHA-256, the source's metadata (kind, row counts per table), the tool version
// and the creation instant, and is signed with HMAC-SHA256. Next to the archive (ID.tar.zst) the
// destination holds the signed manifest with the archive's own size and hash (ID.manifest.json).
//
// The compressed stream is cut into independent zstd frames at entry boundaries (every few MiB),
// so that a damaged byte is reported with the entry it falls in.
package backup
