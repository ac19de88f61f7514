#!/bin/bash
# e2e: a corpus of malformed requests against `kazu serve`: every answer is a
# 4xx (400 naming the problem for bad JSON, wrong types and invalid UTF-8),
# never a 5xx or a crash, and the server keeps serving afterwards.
KAZU=$1
source "$(dirname "$0")/serve_common.bash"
trap '' PIPE
start_server --threads 2 --max-body 1000000 --max-docs 100 --quiet
n=0
# post ROUTE EXPECTED_CODE EXPECTED_MESSAGE_SUBSTRING (body on stdin)
post() {
    local code
    code=$(st --data-binary @"$TMP/req" "$BASE$1")
    n=$((n + 1))
    [ "$code" = "$2" ] || fail "case $n ($1, $(head -c 80 "$TMP/req" | od -c | head -2 | tr -s ' ' | tr '\n' ' ')): status $code, want $2: $(body)"
    [ -z "$3" ] || jq -r .detail "$TMP/body" | grep -qF -- "$3" || fail "case $n: message lacks '$3': $(body)"
    jq -e '.detail | type == "string"' "$TMP/body" >/dev/null || fail "case $n: no JSON detail: $(body)"
}
R=/api/kazu/ner_and_linking
printf '' > "$TMP/req"; post $R 400 "empty body"
printf ' ' > "$TMP/req"; post $R 400 "malformed JSON"
printf '{' > "$TMP/req"; post $R 400 "malformed JSON at line 1"
printf '}' > "$TMP/req"; post $R 400 "malformed JSON"
printf '[' > "$TMP/req"; post $R 400 "malformed JSON"
printf 'nul' > "$TMP/req"; post $R 400 "malformed JSON"
printf '{"text": "a"} trailing' > "$TMP/req"; post $R 400 "malformed JSON"
printf '{"text": "a"}{"text": "b"}' > "$TMP/req"; post $R 400 "malformed JSON"
printf '{"text": "unterminated' > "$TMP/req"; post $R 400 "malformed JSON"
printf '{"text": "a\x01b"}' > "$TMP/req"; post $R 400 "malformed JSON"
printf '{"text": NaN}' > "$TMP/req"; post $R 400 "malformed JSON"
printf '{"text": 1e999999}' > "$TMP/req"; post $R 400 "malformed JSON"
printf '{"text": "\\ud800"}' > "$TMP/req"; post $R 400 "malformed JSON"
printf '{"text": "\\u0000"}' > "$TMP/req"; post $R 400 "malformed JSON"
printf '{"text": "\\x"}' > "$TMP/req"; post $R 400 "malformed JSON"
printf '\xef\xbb\xbf{"text": "a"}' > "$TMP/req"; post $R 400 "malformed JSON"
printf '%*s' 200000 '' | tr ' ' '[' > "$TMP/req"; post $R 400 "malformed JSON"
printf 'null' > "$TMP/req"; post $R 400 "must be an object"
printf 'true' > "$TMP/req"; post $R 400 "got a boolean"
printf '1' > "$TMP/req"; post $R 400 "got an integer"
printf '"text"' > "$TMP/req"; post $R 400 "got a string"
printf '{}' > "$TMP/req"; post $R 400 'needs a "text" string or a "sections" object'
printf '{"txt": "a"}' > "$TMP/req"; post $R 400 'needs a "text"'
printf '{"text": null}' > "$TMP/req"; post $R 400 '"text" must be a string, got null'
printf '{"text": 1}' > "$TMP/req"; post $R 400 '"text" must be a string, got an integer'
printf '{"text": 1.5}' > "$TMP/req"; post $R 400 'got a number'
printf '{"text": ["a"]}' > "$TMP/req"; post $R 400 'got an array'
printf '{"text": {"a": "b"}}' > "$TMP/req"; post $R 400 'got an object'
printf '{"sections": "a"}' > "$TMP/req"; post $R 400 '"sections" must be an object'
printf '{"sections": ["a"]}' > "$TMP/req"; post $R 400 '"sections" must be an object'
printf '{"sections": {"t": 1}}' > "$TMP/req"; post $R 400 'section "t" must be a string, got an integer'
printf '{"sections": {"t": null}}' > "$TMP/req"; post $R 400 'section "t" must be a string'
printf '[1]' > "$TMP/req"; post $R 400 "document 0 must be an object"
printf '[null]' > "$TMP/req"; post $R 400 "document 0 must be an object"
printf '[{"text": "a"}, 5]' > "$TMP/req"; post $R 400 "document 1 must be an object"
printf '[{"text": "a"}, {"text": false}]' > "$TMP/req"; post $R 400 'document 1: "text" must be a string'
printf '{"text": "\xff"}' > "$TMP/req"; post $R 400 "invalid UTF-8 in the body at byte 10"
printf '{"text": "\xc0\xaf"}' > "$TMP/req"; post $R 400 "invalid UTF-8"
printf '{"text": "\xed\xa0\x80"}' > "$TMP/req"; post $R 400 "invalid UTF-8"
printf '{"text": "\xf4\x90\x80\x80"}' > "$TMP/req"; post $R 400 "invalid UTF-8"
printf '{"text": "ok \xe2\x82"}' > "$TMP/req"; post $R 400 "invalid UTF-8"
printf '{"sections": {"\xfe": "a"}}' > "$TMP/req"; post $R 400 "invalid UTF-8"
printf '\xff\xfe{\x00}' > "$TMP/req"; post $R 400 "invalid UTF-8"
printf '{"text": "a"}' > "$TMP/req"; post /api/kazu/batch 422 "takes an array"
printf '[{"text": "a"}]' > "$TMP/req"; post /api/kazu 422 "takes one document object"
printf '[{"text": "a"}]' > "$TMP/req"; post /api/kazu/ls-annotations 422 "takes one document object"
printf '[]' > "$TMP/req"; post /api/kazu 422 "takes one document object"
printf '{"text": "a"}' > "$TMP/req"; post /api/kazu/linking_only 422 "entity_class"
printf '{"text": "a"}' > "$TMP/req"; post "/api/kazu/custom_pipeline_steps?steps=%%FF%%FE" 422 "unknown step"
printf '{"text": "a"}' > "$TMP/req"; post "/api/kazu/custom_pipeline_steps?steps=$(head -c 3000 /dev/zero | tr '\0' x)" 422 "unknown step"
printf '{"text": "a"}' > "$TMP/req"; post "/api/kazu/custom_pipeline_steps?steps=" 422 "unknown step"
printf '{"text": "a"}' > "$TMP/req"; post "/api/kazu/%%FF" 422 "unknown step group"
{ printf '['; for i in $(seq 1 101); do printf '{"text":"a"},'; done; printf '{"text":"a"}]'; } > "$TMP/req"; post /api/kazu/batch 413 "102 documents"
head -c 1200000 /dev/zero > "$TMP/req"; post $R 413 "over the limit"
echo "$n JSON/body cases answered 4xx with a message"

# Raw HTTP garbage over a socket: any status line must be 4xx (closing the
# connection without an answer is also fine); never 5xx.
raw() {
    local what=$1 out
    exec 3<>/dev/tcp/127.0.0.1/$PORT || fail "connect for $what"
    printf "$2" >&3 2>/dev/null
    out=$(timeout 3 head -c 200 <&3 | head -1 | tr -d '\r')
    exec 3<&- 3>&-
    n=$((n + 1))
    if [ -n "$out" ]; then
        [[ "$out" =~ ^HTTP/1\.[01]\ 4[0-9][0-9] ]] || fail "raw case '$what': '$out'"
    fi
    echo "raw '$what': ${out:-connection closed without an answer}"
}
raw "garbage line" 'GARBAGE\r\n\r\n'
raw "no version" 'GET /health\r\n\r\n'
raw "header without colon" 'GET /health HTTP/1.1\r\nHost: x\r\nBadHeader\r\n\r\n'
raw "HTTP/1.1 without Host" 'GET /health HTTP/1.1\r\n\r\n'
raw "negative content length" 'POST /api/kazu HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n'
raw "non-numeric content length" 'POST /api/kazu HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'
raw "bad chunk size" 'POST /api/kazu HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n'
raw "huge header" "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: $(head -c 300000 /dev/zero | tr '\0' a)\r\n\r\n"
raw "unknown method" 'BREW /api/kazu HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'
raw "PUT on an API route" 'PUT /api/kazu/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n[]'
raw "path traversal" 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n'
raw "overlong path" "GET /$(head -c 5000 /dev/zero | tr '\0' a) HTTP/1.1\r\nHost: x\r\n\r\n"
raw "truncated body" 'POST /api/kazu HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{"te'

# An unknown HTTP version is refused by libmicrohttpd itself with 505 (the
# protocol's answer, outside the API's 4xx contract): checked apart.
v=$( (exec 3<>/dev/tcp/127.0.0.1/$PORT; printf 'GET /health HTTP/9.9\r\nHost: x\r\n\r\n' >&3; timeout 3 head -1 <&3) 2>/dev/null | tr -d '\r')
[[ -z "$v" || "$v" =~ ^HTTP/1\.[01]\ 505 ]] || fail "HTTP/9.9: '$v'"
[ "$(st $BASE/health)" = 200 ] || fail "server stopped serving after the corpus"
[ "$(st -d '{"text": "Still here. Yes."}' $BASE/api/kazu)" = 200 ] || fail "annotation after the corpus"
st $BASE/metrics >/dev/null
grep -E 'kazu_http_requests_total\{.*code="5' "$TMP/body" && fail "a 5xx was answered"
stop_server
echo "serve_malformed: $n cases, all passed"
