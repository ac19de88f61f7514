#!/usr/bin/env bash
# Fetches the inputs of the embedded default knowledge base (kb/default.yaml) from
# Debian's archive: no R needed, only apt-get and dpkg-deb (docs/kb-recipes.md).
#
# Usage: scripts/fetch-default-kb.sh [DIR]      (DIR default: build/kb-src of the repo)
#
# Keeps GO.sqlite, org.Hs.eg.sqlite and specData.rda in DIR and records their
# SHA-256 (and the package versions) in DIR/MANIFEST.sha256. Idempotent: when
# every file is present with the hash the manifest pins, nothing is downloaded.
# Environment:
#   KZ_KB_ANY_VERSION=1  accept other package versions (the archive's candidate when the
#                        pinned one is gone, e.g. on a newer Debian): the hashes of what was
#                        extracted are recorded in the manifest instead of checked against the pins.
#   KZ_KB_DEBS=DIR       take the .deb files from DIR instead of apt-get download (offline).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-$here/build/kb-src}
manifest=MANIFEST.sha256

# package  pinned version  path inside the .deb  kept as  SHA-256 of the kept file
pins=(
    "r-bioc-go.db 3.16.0-1 ./usr/lib/R/site-library/GO.db/extdata/GO.sqlite GO.sqlite b36edf3e7ba7d5869e587651107421c4f5c4444037cb18e26cd2687698e4a0d0"
    "r-bioc-org.hs.eg.db 3.16.0-1 ./usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite org.Hs.eg.sqlite bba36057dd3100a099e8054511b34d831349761971829a72b84859d2efe34605"
    "r-bioc-genomeinfodbdata 1.2.9-1 ./usr/lib/R/site-library/GenomeInfoDbData/data/specData.rda specData.rda d70d0d3a9d6146e11d6fe5fcee9fdff976dfe3da0504dccbd6a685f1d785f13f"
)

die() {
    echo "fetch-default-kb: $*" >&2
    exit 1
}

for tool in sha256sum dpkg-deb; do
    command -v "$tool" >/dev/null || die "needs $tool (Debian: coreutils, dpkg)"
done

any=${KZ_KB_ANY_VERSION:-0}
mkdir -p "$dir" || die "cannot create $dir"
dir=$(cd "$dir" && pwd)
cd "$dir"

# Up to date? Every pinned file present and matching the manifest (and the pin).
up_to_date() {
    [ -f "$manifest" ] || return 1
    local p pkg ver src keep sha
    for p in "${pins[@]}"; do
        read -r pkg ver src keep sha <<<"$p"
        [ -f "$keep" ] || return 1
        grep -q "  $keep\$" "$manifest" || return 1
        if [ "$sha" != 0 ] && [ "$any" = 0 ]; then grep -q "^$sha  $keep\$" "$manifest" || return 1; fi
    done
    sha256sum --quiet --strict -c "$manifest" >/dev/null 2>&1
}

if up_to_date; then
    echo "fetch-default-kb: $dir is up to date"
    exit 0
fi

command -v apt-get >/dev/null || [ -n "${KZ_KB_DEBS:-}" ] || die "needs apt-get (Debian/Ubuntu) or KZ_KB_DEBS=DIR with the .deb files"

work=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # apt-get download as root drops to the _apt user, which must write here

versions=()
for p in "${pins[@]}"; do
    read -r pkg ver src keep sha <<<"$p"
    if [ -n "${KZ_KB_DEBS:-}" ]; then
        deb=$(ls "$KZ_KB_DEBS"/"${pkg}"_*_all.deb 2>/dev/null | head -n1 || true)
        [ -n "$deb" ] || die "no ${pkg}_*_all.deb in KZ_KB_DEBS=$KZ_KB_DEBS"
        [ "$any" = 0 ] || sha=0
    else
        want="$pkg=$ver"
        cand=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')
        if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
            die "apt does not know $pkg: run 'apt-get update' (and enable Debian 'main'), or set KZ_KB_DEBS"
        fi
        if ! apt-cache show "$want" >/dev/null 2>&1; then
            [ "$any" = 1 ] ||
                die "$pkg $ver is not in the apt sources (candidate: $cand); set KZ_KB_ANY_VERSION=1 to use $cand"
            want="$pkg=$cand"
            sha=0
        fi
        echo "fetch-default-kb: apt-get download $want" >&2
        if ! (cd "$work" && apt-get download -q "$want" >"$work/apt.log" 2>&1); then
            sed 's/^/  /' "$work/apt.log" >&2
            die "apt-get download $want failed (offline? proxy? stale lists: try 'apt-get update')"
        fi
        deb=$(ls "$work"/"${pkg}"_*_all.deb 2>/dev/null | head -n1 || true)
        [ -n "$deb" ] || die "apt-get download $want left no .deb"
    fi
    debver=$(dpkg-deb -f "$deb" Version) || die "$deb is not a Debian package"
    rm -rf "$work/x"
    mkdir "$work/x"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/x" "$src" ||
        die "$deb ($debver) has no $src"
    got=$(sha256sum "$work/x/$src" | cut -d' ' -f1)
    if [ "$sha" != 0 ] && [ "$got" != "$sha" ]; then
        die "$keep from $pkg $debver: SHA-256 expected $sha, got $got"
    fi
    mv -f "$work/x/$src" "$work/$keep"
    versions+=("# $pkg $debver $keep")
    [ -n "${KZ_KB_DEBS:-}" ] || rm -f "$deb"
done

# Move into place only when every file is there, then write the manifest last.
{
    echo "# inputs of kb/default.yaml, written by scripts/fetch-default-kb.sh"
    printf '%s\n' "${versions[@]}"
} >"$work/$manifest"
for p in "${pins[@]}"; do
    read -r pkg ver src keep sha <<<"$p"
    (cd "$work" && sha256sum "$keep") >>"$work/$manifest"
    mv -f "$work/$keep" "$keep"
done
mv -f "$work/$manifest" "$manifest"
echo "fetch-default-kb: wrote $(grep -c '^[0-9a-f]' "$manifest") files to $dir"
sed -n 's/^# \(r-bioc.*\)/  \1/p' "$manifest"
