#!/bin/bash
# e2e: `kazu kb download` against a local HTTP server on 127.0.0.1 (a few lines
# of Python's http.server, with range requests so resuming can be checked).
set -u
KAZU=$1
fail() {
    echo "FAIL: $*"
    [ -f "$T/server.log" ] && sed 's/^/  server: /' "$T/server.log"
    exit 1
}
command -v python3 >/dev/null || { echo "skip: no python3"; exit 0; }
T=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/www/norange" "$T/out"
# Fixtures: a 300 kB text file, its gzip, a tar.gz holding it under a >100-byte (pax) path.
python3 - "$T/www" <<'EOF'
import gzip, io, sys, tarfile
www = sys.argv[1]
data = b"".join(b"line %06d of the kazu-c download fixture\n" % i for i in range(7000))
open(www + "/good.txt", "wb").write(data)
open(www + "/norange/good.txt", "wb").write(data)
open(www + "/good.txt.gz", "wb").write(gzip.compress(data))
member = "release_1/" + "deep_" * 20 + "/ontology.db"
with tarfile.open(www + "/rel.tar.gz", "w:gz") as t:
    for name, payload in (("release_1/README", b"readme\n"), (member, data)):
        ti = tarfile.TarInfo(name)
        ti.size = len(payload)
        t.addfile(ti, io.BytesIO(payload))
open(www + "/member_path", "w").write(member)
EOF
MEMBER=$(cat "$T/www/member_path")

cat >"$T/server.py" <<'EOF'
import http.server, os, sys
root, portfile, log = sys.argv[1], sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        rng = self.headers.get("Range")
        with open(log, "a") as f: f.write("GET %s range=%s\n" % (self.path, rng))
        path = os.path.join(root, self.path.lstrip("/"))
        if ".." in self.path or not os.path.isfile(path):
            self.send_error(404); return
        data = open(path, "rb").read()
        start = 0
        if rng and rng.startswith("bytes=") and not self.path.startswith("/norange/"):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_error(416); return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
EOF
python3 "$T/server.py" "$T/www" "$T/port" "$T/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do [ -f "$T/port" ] && break; sleep 0.05; done
[ -f "$T/port" ] || fail "test server did not start"
U="http://127.0.0.1:$(cat "$T/port")"
GOOD=$(sha256sum "$T/www/good.txt" | cut -d' ' -f1)
GZ=$(sha256sum "$T/www/good.txt.gz" | cut -d' ' -f1)
TGZ=$(sha256sum "$T/www/rel.tar.gz" | cut -d' ' -f1)
BAD=0000000000000000000000000000000000000000000000000000000000000000
gets() { grep -c "^GET $1 " "$T/server.log"; }

M="$T/m.tsv"
printf '%s\n' \
    "# name url file sha256 decompress" \
    "good	$U/good.txt	good.txt	$GOOD" \
    "nohash  $U/good.txt  nohash.txt  -  -   # spaces work too" \
    "gz	$U/good.txt.gz	gunzipped.txt	$GZ	gz" \
    "tar	$U/rel.tar.gz	member.db	$TGZ	tar.gz:./$MEMBER" \
    "" >"$M"

# 1. good hash, no hash (computed hash reported), gunzip, tar member.
out=$("$KAZU" kb download "$M" -d "$T/out" 2>&1) || fail "download exit $?: $out"
cmp -s "$T/out/good.txt" "$T/www/good.txt" || fail "good.txt differs"
cmp -s "$T/out/nohash.txt" "$T/www/good.txt" || fail "nohash.txt differs"
cmp -s "$T/out/gunzipped.txt" "$T/www/good.txt" || fail "gz not unpacked"
cmp -s "$T/out/member.db" "$T/www/good.txt" || fail "tar member not extracted"
grep -q "got sha256 $GOOD" <<<"$out" || fail "no computed hash reported for the entry without one: $out"
grep -q "4 downloaded, 0 already present, 0 failed" <<<"$out" || fail "summary: $out"
ls -A "$T/out" | grep -q '\.part$\|\.tmp$' && fail "temporary files left: $(ls -A "$T/out")"

# 2. already present: nothing is fetched again.
n_before=$(wc -l <"$T/server.log")
out=$("$KAZU" kb download "$M" -d "$T/out" 2>&1) || fail "second run exit $?: $out"
[ "$(wc -l <"$T/server.log")" = "$n_before" ] || fail "second run fetched again: $(tail -n 3 "$T/server.log")"
grep -q "good.txt is present with the right hash" <<<"$out" || fail "skip message: $out"
grep -q "0 downloaded, 4 already present, 0 failed" <<<"$out" || fail "skip summary: $out"
# A present file with a wrong hash is fetched again.
echo tampered >"$T/out/good.txt"
out=$("$KAZU" kb download "$M" -d "$T/out" --only good 2>&1) || fail "refetch exit $?: $out"
grep -q "differs; fetching again" <<<"$out" || fail "tampered file not noticed: $out"
cmp -s "$T/out/good.txt" "$T/www/good.txt" || fail "tampered good.txt not replaced"

# 3. wrong hash: exit != 0, expected vs got, nothing left behind.
printf 'bad\t%s/good.txt\tbad.txt\t%s\n' "$U" "$BAD" >"$T/bad.tsv"
out=$("$KAZU" kb download "$T/bad.tsv" -d "$T/out" 2>&1)
rc=$?
[ $rc = 1 ] || fail "bad hash exit $rc (want 1): $out"
grep -q "expected $BAD" <<<"$out" || fail "no expected hash: $out"
grep -q "got      $GOOD" <<<"$out" || fail "no computed hash: $out"
[ -e "$T/out/bad.txt" ] || [ -e "$T/out/.bad.txt.part" ] && fail "bad download left a file"

# 4. 404: exit != 0, the status in the message, nothing left behind.
printf 'missing\t%s/nope.owl\tnope.owl\n' "$U" >"$T/404.tsv"
out=$("$KAZU" kb download "$T/404.tsv" -d "$T/out" 2>&1)
rc=$?
[ $rc = 1 ] || fail "404 exit $rc: $out"
grep -q "HTTP 404" <<<"$out" || fail "404 not reported: $out"
[ -e "$T/out/nope.owl" ] || [ -e "$T/out/.nope.owl.part" ] && fail "404 left a file"

# 5. resume: a true prefix is continued with a range request.
head -c 100000 "$T/www/good.txt" >"$T/out/.resumed.txt.part"
printf 'resume\t%s/good.txt\tresumed.txt\t%s\n' "$U" "$GOOD" >"$T/resume.tsv"
out=$("$KAZU" kb download "$T/resume.tsv" -d "$T/out" 2>&1) || fail "resume exit $?: $out"
grep -q "resuming resumed.txt at byte 100000" <<<"$out" || fail "no resume: $out"
tail -n 1 "$T/server.log" | grep -q "range=bytes=100000-" || fail "no range request: $(tail -n 1 "$T/server.log")"
cmp -s "$T/out/resumed.txt" "$T/www/good.txt" || fail "resumed file differs"
# A server that ignores the range: the garbage part is thrown away, the file starts over.
head -c 5000 /dev/urandom >"$T/out/.restarted.txt.part"
printf 'restart\t%s/norange/good.txt\trestarted.txt\t%s\n' "$U" "$GOOD" >"$T/restart.tsv"
out=$("$KAZU" kb download "$T/restart.tsv" -d "$T/out" 2>&1) || fail "restart exit $?: $out"
grep -q "cannot resume this download" <<<"$out" || fail "restart not reported: $out"
cmp -s "$T/out/restarted.txt" "$T/www/good.txt" || fail "restarted file differs"
# A corrupt part on a range-honouring server: the hash check catches it and drops the part.
head -c 4000 /dev/urandom >"$T/out/.corrupt.txt.part"
printf 'corrupt\t%s/good.txt\tcorrupt.txt\t%s\n' "$U" "$GOOD" >"$T/corrupt.tsv"
out=$("$KAZU" kb download "$T/corrupt.tsv" -d "$T/out" 2>&1)
[ $? = 1 ] || fail "corrupt part accepted: $out"
[ -e "$T/out/corrupt.txt" ] || [ -e "$T/out/.corrupt.txt.part" ] && fail "corrupt part left a file"
"$KAZU" kb download "$T/corrupt.tsv" -d "$T/out" -q || fail "second try after a corrupt part"
cmp -s "$T/out/corrupt.txt" "$T/www/good.txt" || fail "corrupt.txt differs"

# 6. other failures: refused connection, missing tar member, bad manifests, usage.
printf 'refused\thttp://127.0.0.1:1/x\tx.bin\n' >"$T/refused.tsv"
out=$("$KAZU" kb download "$T/refused.tsv" -d "$T/out" 2>&1)
[ $? = 1 ] || fail "refused connection exit: $out"
grep -qi "connect" <<<"$out" || fail "refused connection message: $out"
printf 'nomember\t%s/rel.tar.gz\tnomember.db\t-\ttar.gz:nope/x.db\n' "$U" >"$T/nomember.tsv"
out=$("$KAZU" kb download "$T/nomember.tsv" -d "$T/out" 2>&1)
[ $? = 1 ] || fail "missing member exit: $out"
grep -q "no member 'nope/x.db'" <<<"$out" || fail "missing member message: $out"
[ -e "$T/out/nomember.db" ] && fail "missing member left a file"
printf 'x\t%s/good.txt\t../escape.txt\n' "$U" >"$T/m1.tsv"
printf 'x\t%s/good.txt\ta.txt\tabc\n' "$U" >"$T/m2.tsv"
printf 'x\tgopher://h/x\ta.txt\n' >"$T/m3.tsv"
printf 'x\t%s/a\ta.txt\nx\t%s/b\tb.txt\n' "$U" "$U" >"$T/m4.tsv"
printf 'x\t%s/a\ta.txt\t-\tzip\n' "$U" >"$T/m5.tsv"
for i in 1 2 3 4 5; do
    out=$("$KAZU" kb download "$T/m$i.tsv" -d "$T/out" 2>&1)
    [ $? = 2 ] || fail "malformed manifest m$i not a usage error: $out"
    grep -q "line [12]:" <<<"$out" || fail "m$i: no line number: $out"
done
[ -e "$T/escape.txt" ] && fail "a FILE escaped DIR"
"$KAZU" kb download "$T/nonexistent.tsv" >/dev/null 2>&1
[ $? = 3 ] || fail "unreadable manifest must be fatal (3)"
"$KAZU" kb download "$M" --only nope >/dev/null 2>&1
[ $? = 2 ] || fail "--only with an unknown name must be a usage error"
"$KAZU" kb download >/dev/null 2>&1
[ $? = 2 ] || fail "no manifest must be a usage error"
"$KAZU" kb download --help | grep -q "tar.gz:PATH" || fail "help"
echo "ok"
