#!/bin/sh
# Installs Pryx: downloads the signed release manifest of a channel (or one version), checks its
# minisign signature with the Pryx release key, downloads the archive for this machine, checks
# its size and SHA-256 against the manifest, and installs `pryx` to ~/.local/bin (or --prefix).
# Nothing is installed unless every check passes.
#
#   curl -fsSL https://get.pryx.dev/install.sh | sh
#   sh install.sh [--channel stable|beta|alpha] [--version V] [--prefix DIR] [--no-doctor]
#
# PRYX_INSTALL_URL   release server (default https://get.pryx.dev)
# PRYX_INSTALL_PUBLIC_KEY  another release key (minisign public key, base64), for a
#                    self-hosted release server
# Needs curl or wget, tar, gzip, and minisign or OpenSSL 3 to check the signature.
#
# The whole script is one function called on its last line: a download cut short runs nothing.
set -eu

main() {

base="${PRYX_INSTALL_URL:-https://get.pryx.dev}"
pubkey="${PRYX_INSTALL_PUBLIC_KEY:-RWRVvvI32kic9wSNNKIG8/dIF+ya9m7pIEej6ksHDjllDjOzz49JRoWj}"
channel=stable
version=""
prefix="${HOME:-}/.local"
doctor=1

say() { printf '%s\n' "$*"; }
die() { printf 'pryx install: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --channel) [ $# -ge 2 ] || die "--channel needs a value"; channel="$2"; shift 2 ;;
    --version) [ $# -ge 2 ] || die "--version needs a value"; version="${2#v}"; shift 2 ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a value"; prefix="$2"; shift 2 ;;
    --no-doctor) doctor=0; shift ;;
    -h|--help)
      say "Installs Pryx: sh install.sh [--channel stable|beta|alpha] [--version V] [--prefix DIR] [--no-doctor]"
      say "PRYX_INSTALL_URL names another release server, PRYX_INSTALL_PUBLIC_KEY another release key."
      exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
case "$channel" in stable|beta|alpha) ;; *) die "the channel must be stable, beta or alpha" ;; esac
case "$version" in ''|*[!0-9A-Za-z.+-]*) [ -z "$version" ] || die "not a version: $version" ;; esac
[ -n "$prefix" ] || die "no --prefix and HOME is not set"
base="${base%/}"

os="$(uname -s)"
arch="$(uname -m)"
case "$arch" in
  x86_64|amd64) arch=x86_64 ;;
  aarch64|arm64) arch=aarch64 ;;
  *) die "no Pryx build for the $arch processor; build from source (see the README)" ;;
esac
case "$os" in
  Linux)
    libc=gnu
    if (ldd --version 2>&1 || true) | grep -qi musl; then libc=musl; fi
    target="$arch-unknown-linux-$libc" ;;
  Darwin) target="$arch-apple-darwin" ;;
  *) die "no Pryx build for $os; build from source (see the README)" ;;
esac

tmp="$(mktemp -d 2>/dev/null || mktemp -d -t pryx)"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

fetch() { # URL FILE MAX_BYTES
  if command -v curl >/dev/null 2>&1; then
    curl --proto '=https,http' -fsSL --retry 2 --connect-timeout 20 --max-filesize "$3" \
      -o "$2" "$1" || die "cannot download $1 (or it is larger than $3 bytes); nothing was installed"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -T 30 -O "$2" "$1" || die "cannot download $1; nothing was installed"
  else
    die "needs curl or wget"
  fi
}

b64d() { openssl base64 -d -A; }

# Checks a minisign signature: with minisign when installed, else with OpenSSL 3 (Ed25519 over
# the BLAKE2b-512 of the file: minisign's prehashed signatures).
verify() { # FILE SIG
  verifier="${PRYX_INSTALL_VERIFIER:-}"
  if [ -z "$verifier" ]; then
    if command -v minisign >/dev/null 2>&1; then verifier=minisign; else verifier=openssl; fi
  fi
  if [ "$verifier" = minisign ]; then
    minisign -Vq -P "$pubkey" -m "$1" -x "$2" >/dev/null 2>&1 \
      || die "the signature of $(basename "$1") does not verify with the Pryx release key; nothing was installed"
    return
  fi
  case "$(openssl version 2>/dev/null || true)" in
    "OpenSSL 3"*) ;;
    *) die "needs minisign or OpenSSL 3 to check the release signature (apt install minisign, brew install minisign)" ;;
  esac
  printf '%s' "$pubkey" | b64d >"$tmp/pk.bin" 2>/dev/null || die "the release key is not base64"
  sed -n 2p "$2" | tr -d '\r\n' | b64d >"$tmp/sig.bin" 2>/dev/null \
    || die "the signature of $(basename "$1") is malformed; nothing was installed"
  [ "$(wc -c <"$tmp/pk.bin" | tr -d ' ')" = 42 ] || die "the release key is not a minisign public key"
  [ "$(wc -c <"$tmp/sig.bin" | tr -d ' ')" = 74 ] \
    || die "the signature of $(basename "$1") is malformed; nothing was installed"
  [ "$(head -c 2 "$tmp/sig.bin")" = ED ] \
    || die "the signature of $(basename "$1") is not a prehashed minisign signature; nothing was installed"
  [ "$(dd if="$tmp/pk.bin" bs=1 skip=2 count=8 2>/dev/null | od -An -tx1)" = \
    "$(dd if="$tmp/sig.bin" bs=1 skip=2 count=8 2>/dev/null | od -An -tx1)" ] \
    || die "$(basename "$1") was signed by another key; nothing was installed"
  # An Ed25519 SubjectPublicKeyInfo: a fixed 12-byte DER header, then the 32-byte key.
  { printf '\060\052\060\005\006\003\053\145\160\003\041\000'; tail -c 32 "$tmp/pk.bin"; } >"$tmp/pk.der"
  tail -c 64 "$tmp/sig.bin" >"$tmp/sig.raw"
  openssl dgst -blake2b512 -binary "$1" >"$tmp/hash" 2>/dev/null || die "this OpenSSL has no BLAKE2b; install minisign"
  openssl pkeyutl -verify -pubin -inkey "$tmp/pk.der" -keyform DER -rawin \
    -in "$tmp/hash" -sigfile "$tmp/sig.raw" >/dev/null 2>&1 \
    || die "the signature of $(basename "$1") does not verify with the Pryx release key; nothing was installed"
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
  else openssl dgst -sha256 -r "$1" | cut -d' ' -f1
  fi
}

if [ -n "$version" ]; then path="v$version/manifest.json"; else path="channels/$channel.json"; fi
say "Checking the Pryx release ($target, ${version:-$channel channel}) at $base"
fetch "$base/$path" "$tmp/manifest.json" 262144
fetch "$base/$path.minisig" "$tmp/manifest.json.minisig" 4096
verify "$tmp/manifest.json" "$tmp/manifest.json.minisig"

field() { sed -n "s/^  \"$1\": \"\\([^\"]*\\)\",\$/\\1/p" "$tmp/manifest.json" | head -1; }
got_version="$(field version)"
got_channel="$(field channel)"
[ -n "$got_version" ] || die "the signed manifest has no version"
if [ -n "$version" ]; then
  [ "$got_version" = "$version" ] || die "asked for $version but the signed manifest is for $got_version"
else
  [ "$got_channel" = "$channel" ] || die "asked for the $channel channel but the signed manifest is for $got_channel"
fi
line="$(grep "^    \"$target\": " "$tmp/manifest.json" || true)"
[ -n "$line" ] || die "release $got_version has no build for $target; build from source (see the README)"
url="$(printf '%s' "$line" | sed -n 's/.*"url": "\([^"]*\)".*/\1/p')"
size="$(printf '%s' "$line" | sed -n 's/.*"size": \([0-9]*\).*/\1/p')"
sum="$(printf '%s' "$line" | sed -n 's/.*"sha256": "\([0-9a-f]*\)".*/\1/p')"
case "$url" in ''|/*|*..*|*://*) die "the manifest's archive path is not a relative path" ;; esac
if [ -z "$size" ] || [ ${#sum} -ne 64 ]; then die "the manifest's entry for $target is malformed"; fi

say "Downloading Pryx $got_version ($((size / 1024)) KB)"
fetch "$base/$url" "$tmp/pryx.tar.gz" "$size"
[ "$(wc -c <"$tmp/pryx.tar.gz" | tr -d ' ')" = "$size" ] \
  || die "the download is not the size the signed manifest says (truncated or changed?); nothing was installed"
[ "$(sha256 "$tmp/pryx.tar.gz")" = "$sum" ] \
  || die "the download's SHA-256 does not match the signed manifest; nothing was installed"

mkdir "$tmp/x"
tar -xzf "$tmp/pryx.tar.gz" -C "$tmp/x" || die "cannot unpack the archive; nothing was installed"
bin="$(find "$tmp/x" -mindepth 2 -maxdepth 2 -type f -name pryx | head -1)"
[ -n "$bin" ] || die "the archive has no pryx binary; nothing was installed"

mkdir -p "$prefix/bin" || die "cannot create $prefix/bin"
staged="$(mktemp "$prefix/bin/.pryx.XXXXXX")" || die "cannot write to $prefix/bin"
cp "$bin" "$staged" || { rm -f "$staged"; die "cannot write to $prefix/bin"; }
chmod 755 "$staged"
mv -f "$staged" "$prefix/bin/pryx" || { rm -f "$staged"; die "cannot install to $prefix/bin"; }
say "Installed Pryx $got_version to $prefix/bin/pryx"

case ":${PATH:-}:" in
  *":$prefix/bin:"*) ;;
  *) say "Note: $prefix/bin is not on your PATH. Add it, e.g.:  echo 'export PATH=\"$prefix/bin:\$PATH\"' >> ~/.profile" ;;
esac

if [ "$doctor" -eq 1 ]; then
  say "Running pryx doctor:"
  if "$prefix/bin/pryx" doctor; then
    say "Pryx is ready: run \`pryx\` to start."
  else
    say "pryx doctor found problems (above); Pryx is installed, fix them and run \`pryx doctor\` again."
  fi
fi
}

main "$@"
