#!/bin/bash
# e2e: scripts/fetch-default-kb.sh offline (KZ_KB_DEBS) with small stand-in .deb files:
# pin check, extraction, manifest, idempotency, repair, and its error messages.
set -u
fail() {
    echo "FAIL: $*"
    exit 1
}
command -v dpkg-deb >/dev/null || { echo "skip: no dpkg-deb"; exit 0; }
SCRIPT=$(pwd)/scripts/fetch-default-kb.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

mkdeb() { # pkg version file-path content
    local root="$T/pkg/$1"
    rm -rf "$root"
    mkdir -p "$root/DEBIAN" "$root/$(dirname "$3")"
    printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: test <t@t>\nDescription: stand-in\n' \
        "$1" "$2" >"$root/DEBIAN/control"
    printf '%s' "$4" >"$root/$3"
    mkdir -p "$T/debs"
    dpkg-deb --build -Znone "$root" "$T/debs/${1}_${2}_all.deb" >/dev/null || fail "dpkg-deb --build $1"
}
L=usr/lib/R/site-library
mkdeb r-bioc-go.db 3.16.0-1 "$L/GO.db/extdata/GO.sqlite" "go bytes"
mkdeb r-bioc-org.hs.eg.db 3.16.0-1 "$L/org.Hs.eg.db/extdata/org.Hs.eg.sqlite" "gene bytes"
mkdeb r-bioc-genomeinfodbdata 1.2.9-1 "$L/GenomeInfoDbData/data/specData.rda" "taxonomy bytes"

# 1. The real pins reject stand-ins: expected vs got, nothing kept.
out=$(KZ_KB_DEBS="$T/debs" "$SCRIPT" "$T/src" 2>&1) && fail "stand-in accepted under the pins: $out"
grep -q "GO.sqlite from r-bioc-go.db 3.16.0-1: SHA-256 expected b36edf3e" <<<"$out" || fail "pin message: $out"
[ -z "$(ls -A "$T/src")" ] || fail "files left after a pin mismatch: $(ls -A "$T/src")"

# 2. Without pins: extracted, recorded, idempotent.
out=$(KZ_KB_ANY_VERSION=1 KZ_KB_DEBS="$T/debs" "$SCRIPT" "$T/src" 2>&1) || fail "extract: $out"
[ "$(cat "$T/src/GO.sqlite")" = "go bytes" ] || fail "GO.sqlite content"
[ "$(cat "$T/src/org.Hs.eg.sqlite")" = "gene bytes" ] || fail "org.Hs.eg.sqlite content"
[ "$(cat "$T/src/specData.rda")" = "taxonomy bytes" ] || fail "specData.rda content"
(cd "$T/src" && sha256sum --quiet --strict -c MANIFEST.sha256) || fail "manifest does not verify"
grep -q "^# r-bioc-genomeinfodbdata 1.2.9-1 specData.rda$" "$T/src/MANIFEST.sha256" || fail "versions"
[ "$(ls -A "$T/src" | wc -l)" = 4 ] || fail "extra files: $(ls -A "$T/src")"
out=$(KZ_KB_ANY_VERSION=1 KZ_KB_DEBS=/nonexistent "$SCRIPT" "$T/src" 2>&1) || fail "second run: $out"
grep -q "is up to date" <<<"$out" || fail "second run did work: $out"
# Without KZ_KB_ANY_VERSION the stand-ins do not satisfy the pins, so this is not up to date.
out=$(KZ_KB_DEBS=/nonexistent "$SCRIPT" "$T/src" 2>&1) && fail "pins ignored on an up-to-date check"
grep -q "no r-bioc-go.db_\*_all.deb in KZ_KB_DEBS=/nonexistent" <<<"$out" || fail "missing .deb message: $out"

# 3. A damaged file is extracted again.
echo damage >>"$T/src/org.Hs.eg.sqlite"
out=$(KZ_KB_ANY_VERSION=1 KZ_KB_DEBS="$T/debs" "$SCRIPT" "$T/src" 2>&1) || fail "repair: $out"
[ "$(cat "$T/src/org.Hs.eg.sqlite")" = "gene bytes" ] || fail "damaged file not restored"

# 4. A package without the expected file.
rm "$T/debs/r-bioc-genomeinfodbdata_1.2.9-1_all.deb"
mkdeb r-bioc-genomeinfodbdata 1.2.9-1 "$L/GenomeInfoDbData/data/other.rda" "x"
out=$(KZ_KB_ANY_VERSION=1 KZ_KB_DEBS="$T/debs" "$SCRIPT" "$T/src2" 2>&1) && fail "missing member accepted"
grep -q "has no ./$L/GenomeInfoDbData/data/specData.rda" <<<"$out" || fail "missing member message: $out"
[ -z "$(ls -A "$T/src2")" ] || fail "files left after a failed fetch: $(ls -A "$T/src2")"
echo "ok"
