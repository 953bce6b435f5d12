#!/usr/bin/env bash
# bench/backup.sh [SIZE_MB]: backup, verify and restore throughput of `sunset backup` against
# `tar -cf - DIR | zstd -1 | sha256sum` (and `zstd -dc | tar -xf -` for restore) on a generated
# directory of mixed files (text, JSON, compressible and random binaries) in /tmp, deleted after.
set -euo pipefail
SIZE_MB=${1:-1024}
cd "$(dirname "$0")/.."
command -v zstd >/dev/null || { echo "zstd is not installed (apt-get install zstd)"; exit 1; }
work=$(mktemp -d /tmp/sunset-bench-XXXX)
trap 'rm -rf "$work"' EXIT
go build -o "$work/sunset" ./cmd/sunset
export SUNSET_BACKUP_KEY=bench-key-0123456789abcdef
src="$work/src"; mkdir -p "$src"
python3 - "$src" "$SIZE_MB" <<'PY'
import os, sys, random
root, total = sys.argv[1], int(sys.argv[2]) << 20
rnd = random.Random(7); written = 0; i = 0
words = [b"order", b"user", b"invoice", b"shipped", b"pending", b"refund", b"\xe8\xae\xa2\xe5\x8d\x95"]
while written < total:
    d = os.path.join(root, "d%03d" % (i % 50)); os.makedirs(d, exist_ok=True)
    kind = i % 4
    if kind == 0:   # many small text files
        data = b" ".join(rnd.choice(words) for _ in range(rnd.randint(100, 4000)))
    elif kind == 1: # JSON-ish
        data = b"\n".join(b'{"id":%d,"email":"u%d@example.com","total":%d}' % (j, j, rnd.randint(1, 9999)) for j in range(rnd.randint(1000, 40000)))
    elif kind == 2: # random (incompressible) media
        data = os.urandom(rnd.randint(1 << 20, 16 << 20))
    else:           # compressible binary
        data = bytes(rnd.getrandbits(4) for _ in range(4096)) * rnd.randint(64, 2048)
    open(os.path.join(d, "f%06d" % i), "wb").write(data); written += len(data); i += 1
print("generated %d files, %.0f MiB" % (i, written / 2**20))
PY
bytes=$(du -sb "$src" | cut -f1)
sync; cat $(find "$src" -type f) >/dev/null  # warm the page cache for both sides alike
t() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc; }
rate() { echo "scale=1; $bytes / 1048576 / $1" | bc; }
base_c=$(t sh -c "tar -cf - -C '$src' . | zstd -1 -q -T0 | sha256sum")
ours_c=$(t "$work/sunset" backup create --source "dir:$src" --to "$work/bk" --name bench)
# The same pipeline writing its archive to the same disk, as a backup must (not the target's baseline).
base_w=$(t sh -c "tar -cf - -C '$src' . | zstd -1 -q -T0 | tee '$work/base-w.tar.zst' | sha256sum"); rm -f "$work/base-w.tar.zst"
id=$(ls "$work/bk" | grep tar.zst | sed 's/.tar.zst//')
zstd -1 -q -T0 -c <(tar -cf - -C "$src" .) > "$work/base.tar.zst"
base_r=$(t sh -c "mkdir -p '$work/r1' && zstd -dc '$work/base.tar.zst' | tar -xf - -C '$work/r1' && find '$work/r1' -type f -exec sha256sum {} + | wc -l")
ours_v=$(t "$work/sunset" backup verify "$work/bk/$id.tar.zst")
ours_r=$(t "$work/sunset" backup restore "$work/bk/$id.tar.zst" --to "$work/r2")
diff -r -q "$src" "$work/r2" >/dev/null && same=yes || same=NO
printf "data: %.0f MiB, archive %s (ours) vs %s (zstd -1)\n" "$(echo "$bytes/1048576" | bc)" "$(du -h "$work/bk/$id.tar.zst" | cut -f1)" "$(du -h "$work/base.tar.zst" | cut -f1)"
printf "%-34s %8s s %8s MiB/s\n" "tar | zstd -1 | sha256sum" "$base_c" "$(rate "$base_c")"
printf "%-34s %8s s %8s MiB/s  ratio %.2f\n" "sunset backup create" "$ours_c" "$(rate "$ours_c")" "$(echo "$base_c / $ours_c" | bc -l)"
printf "%-34s %8s s %8s MiB/s  (create vs this: ratio %.2f)\n" "  same, tee to a file on disk" "$base_w" "$(rate "$base_w")" "$(echo "$base_w / $ours_c" | bc -l)"
printf "%-34s %8s s %8s MiB/s\n" "zstd -dc | tar -x + sha256sum" "$base_r" "$(rate "$base_r")"
printf "%-34s %8s s %8s MiB/s  ratio %.2f\n" "sunset backup verify (+scratch restore)" "$ours_v" "$(rate "$ours_v")" "$(echo "$base_r / $ours_v" | bc -l)"
printf "%-34s %8s s %8s MiB/s  ratio %.2f  identical: %s\n" "sunset backup restore" "$ours_r" "$(rate "$ours_r")" "$(echo "$base_r / $ours_r" | bc -l)" "$same"
