#!/usr/bin/env bash
# Builds and packs a Pryx release: for each target, the release binary in
# pryx-<version>-<target>.tar.gz (with the licence and README), SHA256SUMS, and a manifest
# (version, channel, date, per-target path, size, SHA-256, the minimum version to update from,
# release notes) signed with minisign. The layout is what `install.sh` and `pryx update` read:
#
#   <out>/v<version>/manifest.json(.minisig)   the release, pinned
#   <out>/v<version>/pryx-<version>-<target>.tar.gz, SHA256SUMS
#   <out>/channels/<channel>.json(.minisig)    the channel's newest release (the same manifest)
#
#   scripts/release.sh [--target TRIPLE]... [--channel stable|beta|alpha] [--out DIR]
#                      [--key FILE] [--version V] [--min-update-from V] [--notes TEXT]
#                      [--binary PATH] [--date YYYY-MM-DD]
#
# The secret key comes from --key, PRYX_RELEASE_KEY_FILE or PRYX_RELEASE_KEY (the key file's
# text); it is never in the repository. --binary packs a binary already built (for one target,
# the host's unless --target says otherwise) instead of building: the tests pack the binary
# they have under made-up versions. Only x86_64-unknown-linux-gnu is built and tested here;
# other targets need their Rust std and linker installed (docs/install.md).
# PRYX_RELEASE_GZIP_LEVEL (default 9) trades archive size for packing time (the tests use 1).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=()
channel=stable
out=target/release-dist
key="${PRYX_RELEASE_KEY_FILE:-}"
version=""
min_update_from=""
notes=""
binary=""
date="$(date -u +%Y-%m-%d)"
while [ $# -gt 0 ]; do
  case "$1" in
    --target) targets+=("$2"); shift 2 ;;
    --channel) channel="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --key) key="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --min-update-from) min_update_from="$2"; shift 2 ;;
    --notes) notes="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --date) date="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$channel" in stable|beta|alpha) ;; *) echo "release.sh: channel must be stable, beta or alpha" >&2; exit 2 ;; esac
command -v minisign >/dev/null || { echo "release.sh: needs minisign (Debian: apt install minisign)" >&2; exit 1; }

[ ${#targets[@]} -gt 0 ] || targets=("$(rustc -vV | sed -n 's/^host: //p')")
if [ -n "$binary" ] && [ ${#targets[@]} -ne 1 ]; then
  echo "release.sh: --binary packs one target" >&2; exit 2
fi
if [ -z "$version" ]; then
  version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
fi
[ -n "$min_update_from" ] || min_update_from="0.1.0"
semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
for v in "$version" "$min_update_from"; do
  [[ "$v" =~ $semver ]] || { echo "release.sh: $v is not a version such as 0.2.0 (no leading v)" >&2; exit 2; }
done
if printf '%s' "$notes" | LC_ALL=C grep -q '[[:cntrl:]]' && \
   printf '%s' "$notes" | tr -d '\n\t\r' | LC_ALL=C grep -q '[[:cntrl:]]'; then
  echo "release.sh: the notes hold control characters other than newlines and tabs" >&2; exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -n "${PRYX_RELEASE_KEY:-}" ] && [ -z "$key" ]; then
  key="$work/release.key"
  (umask 077; printf '%s\n' "$PRYX_RELEASE_KEY" >"$key")
fi
if [ -z "$key" ] || [ ! -f "$key" ]; then
  echo "release.sh: no signing key: pass --key FILE or set PRYX_RELEASE_KEY_FILE / PRYX_RELEASE_KEY" >&2
  exit 1
fi

json_string() { # JSON string literal of $1
  local s="$1"
  s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; s="${s//$'\n'/\\n}"; s="${s//$'\r'/\\r}"; s="${s//$'\t'/\\t}"
  printf '"%s"' "$s"
}

dir="$out/v$version"
mkdir -p "$dir" "$out/channels"
entries=()
for target in "${targets[@]}"; do
  bin="$binary"
  if [ -z "$bin" ]; then
    echo "==> cargo build --release --target $target"
    cargo build --release --locked -p pryx --target "$target"
    bin="target/$target/release/pryx"
  fi
  [ -f "$bin" ] || { echo "release.sh: no binary at $bin" >&2; exit 1; }
  if [[ "$target" == *linux-gnu ]] && command -v objdump >/dev/null; then
    glibc="$(objdump -T "$bin" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1 || true)"
    [ -z "$glibc" ] || echo "==> $target needs glibc ${glibc#GLIBC_} or newer"
  fi
  name="pryx-$version-$target"
  mkdir -p "$work/$name"
  cp "$bin" "$work/$name/pryx"
  chmod 755 "$work/$name/pryx"
  cp LICENSE README.md "$work/$name/"
  archive="$dir/$name.tar.gz"
  tar -C "$work" --sort=name --mtime="$date 00:00Z" --owner=0 --group=0 --numeric-owner \
    -cf - "$name" | gzip "-${PRYX_RELEASE_GZIP_LEVEL:-9}" -n >"$archive"
  size="$(wc -c <"$archive" | tr -d ' ')"
  sum="$(sha256sum "$archive" | cut -d' ' -f1)"
  echo "==> $archive: $size bytes, sha256 $sum"
  entries+=("    $(json_string "$target"): {\"url\": $(json_string "v$version/$name.tar.gz"), \"size\": $size, \"sha256\": \"$sum\"}")
done
(cd "$dir" && sha256sum ./*.tar.gz | sed 's# \./# #' >SHA256SUMS)

{
  printf '{\n'
  printf '  "version": %s,\n' "$(json_string "$version")"
  printf '  "channel": "%s",\n' "$channel"
  printf '  "date": "%s",\n' "$date"
  printf '  "min_update_from": %s,\n' "$(json_string "$min_update_from")"
  printf '  "notes": %s,\n' "$(json_string "$notes")"
  printf '  "targets": {\n'
  last=$(( ${#entries[@]} - 1 ))
  for i in "${!entries[@]}"; do
    if [ "$i" -lt "$last" ]; then printf '%s,\n' "${entries[$i]}"; else printf '%s\n' "${entries[$i]}"; fi
  done
  printf '  }\n}\n'
} >"$dir/manifest.json"

minisign -S -s "$key" -m "$dir/manifest.json" -t "pryx $version $channel $date" >/dev/null </dev/null
cp "$dir/manifest.json" "$out/channels/$channel.json"
cp "$dir/manifest.json.minisig" "$out/channels/$channel.json.minisig"
echo "==> signed $dir/manifest.json and $out/channels/$channel.json"
