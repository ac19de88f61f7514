#!/bin/bash
# e2e: `kazu serve` auth: HS256 JWT (libjwt) and static bearer tokens. Missing,
# malformed, expired, not-yet-valid, alg "none", other algorithms, tampered
# payloads and wrong secrets are 401; health and the other open routes stay open.
KAZU=$1
source "$(dirname "$0")/serve_common.bash"
command -v openssl >/dev/null || { echo "openssl missing"; exit 1; }
SECRET='kazu-test-secret-0123456789abcdef'
printf '%s\n' "$SECRET" > "$TMP/secret"
printf '# comment\nstatic-token-AAAA\nstatic-token-BBBB\n' > "$TMP/tokens"
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
sign() { printf %s "$1" | openssl dgst "-$2" -hmac "$3" -binary | b64url; }
# jwt HEADER_JSON PAYLOAD_JSON [SECRET] [DIGEST]
jwt() {
    local h p
    h=$(printf %s "$1" | b64url); p=$(printf %s "$2" | b64url)
    echo "$h.$p.$(sign "$h.$p" "${4:-sha256}" "${3:-$SECRET}")"
}
NOW=$(date +%s)
HS='{"alg":"HS256","typ":"JWT"}'
GOOD=$(jwt "$HS" "{\"username\":\"alice\",\"exp\":$((NOW + 3600))}")
D='{"text": "Hello there. Bye."}'
URL=/api/kazu/ner_and_linking

start_server --jwt-secret-file "$TMP/secret" --token-file "$TMP/tokens"
# Open routes.
for r in /health /ready /metrics /openapi.json /api/openapi.json /api /api/steps /api/step_groups / /app.js; do
    [ "$(st $BASE$r)" = 200 ] || fail "$r must be open without a token"
done
st $BASE/openapi.json >/dev/null
jq -e '.components.securitySchemes.HTTPBearer.scheme == "bearer" and (.paths["/api/kazu/batch"].post.security | length) > 0' "$TMP/body" >/dev/null || fail "openapi lacks the bearer scheme with auth on"

# Accepted.
[ "$(st -H "Authorization: Bearer $GOOD" -d "$D" $BASE$URL)" = 200 ] || fail "valid JWT refused: $(body)"
grep -q "user=alice" "$SRV_LOG" || fail "JWT username not logged"
[ "$(st -H "Authorization: bearer $GOOD" -d "$D" $BASE$URL)" = 200 ] || fail "scheme is case-insensitive"
NOEXP=$(jwt "$HS" '{"username":"bob"}')
[ "$(st -H "Authorization: Bearer $NOEXP" -d "$D" $BASE$URL)" = 200 ] || fail "JWT without exp refused"
[ "$(st -H "Authorization: Bearer static-token-BBBB" -d "$D" $BASE/api/kazu/batch -d '')" != 401 ] || fail "static token refused"
[ "$(st -H "Authorization: Bearer static-token-AAAA" -d "$D" $BASE/api/kazu)" = 200 ] || fail "static token refused"

# Refused: each 401 with Kazu's {"error": "ID: <id> ..."} and WWW-Authenticate.
expect401() { # DESCRIPTION EXPECTED_MESSAGE_REGEX CURL_ARGS...
    local what=$1 re=$2; shift 2
    local code
    code=$(st -H 'X-Request-Id: auth-test' "$@" -d "$D" $BASE$URL)
    [ "$code" = 401 ] || fail "$what: status $code (want 401): $(body)"
    grep -Eq "^\{\"error\": \"ID: auth-test .*$re" "$TMP/body" || fail "$what: message $(body)"
    [ "$(header WWW-Authenticate)" = Bearer ] || fail "$what: no WWW-Authenticate"
    echo "401 ok: $what"
}
expect401 "no Authorization header" "No 'Authorization' header"
expect401 "Basic scheme" "scheme Basic is not supported" -H "Authorization: Basic $GOOD"
expect401 "scheme without token" "Could not separate" -H "Authorization: Bearer"
expect401 "garbage token" "alg" -H "Authorization: Bearer not.a.jwt"
expect401 "unknown static token" "alg" -H "Authorization: Bearer static-token-CCCC"
expect401 "expired" "expired" -H "Authorization: Bearer $(jwt "$HS" "{\"username\":\"alice\",\"exp\":$((NOW - 10))}")"
expect401 "not yet valid" "not yet valid" -H "Authorization: Bearer $(jwt "$HS" "{\"username\":\"alice\",\"nbf\":$((NOW + 600))}")"
expect401 "exp not a number" "exp" -H "Authorization: Bearer $(jwt "$HS" '{"username":"alice","exp":"tomorrow"}')"
NONE_H=$(printf %s '{"alg":"none","typ":"JWT"}' | b64url)
NONE_P=$(printf %s '{"username":"mallory"}' | b64url)
expect401 "alg none, empty signature" "alg value is not allowed: 'none'" -H "Authorization: Bearer $NONE_H.$NONE_P."
expect401 "alg none, HS256 signature" "alg value is not allowed" -H "Authorization: Bearer $NONE_H.$NONE_P.$(sign "$NONE_H.$NONE_P" sha256 "$SECRET")"
expect401 "alg NONE (case)" "not allowed" -H "Authorization: Bearer $(printf %s '{"alg":"NONE"}' | b64url).$NONE_P."
expect401 "HS512 with the right secret" "not allowed: 'HS512'" -H "Authorization: Bearer $(jwt '{"alg":"HS512","typ":"JWT"}' '{"username":"alice"}' "$SECRET" sha512)"
expect401 "RS256 header" "not allowed: 'RS256'" -H "Authorization: Bearer $(jwt '{"alg":"RS256","typ":"JWT"}' '{"username":"alice"}')"
expect401 "wrong secret" "Signature verification failed" -H "Authorization: Bearer $(jwt "$HS" '{"username":"alice"}' wrong-secret-0123456789)"
# Tampered payload: keep header and signature, swap the payload.
IFS=. read -r GH GP GS <<<"$GOOD"
EVIL=$(printf %s "{\"username\":\"admin\",\"exp\":$((NOW + 3600))}" | b64url)
expect401 "tampered payload" "Signature verification failed" -H "Authorization: Bearer $GH.$EVIL.$GS"
# Change the signature's first character (6 whole bits, unlike the last one, which also holds padding bits
# and may already be the replacement): always a different signature.
[ "${GS:0:1}" = A ] && BADSIG="B${GS:1}" || BADSIG="A${GS:1}"
expect401 "tampered signature" "Signature verification failed" -H "Authorization: Bearer $GH.$GP.$BADSIG"
expect401 "truncated token" "" -H "Authorization: Bearer $GH.$GP"
expect401 "huge token" "Could not separate" -H "Authorization: Bearer $(head -c 9000 /dev/zero | tr '\0' a)"
# Auth is checked before the body is read: a 401 even for an oversized body.
head -c 3000000 /dev/zero > "$TMP/zeros"
[ "$(st --data-binary @"$TMP/zeros" -m 5 $BASE$URL)" = 401 ] || fail "auth before body"
[ "$(st $BASE/health)" = 200 ] || fail "health after the auth tests"
st $BASE/metrics >/dev/null
grep -q 'kazu_http_requests_total{route="/api/kazu/ner_and_linking",code="401"}' "$TMP/body" || fail "401s not counted"
stop_server

# $KAZU_JWT_KEY (Kazu's variable) alone enables JWT; a short secret is refused.
KAZU_JWT_KEY=$SECRET start_server
[ "$(st -d "$D" $BASE$URL)" = 401 ] || fail "KAZU_JWT_KEY did not enable auth"
[ "$(st -H "Authorization: Bearer $GOOD" -d "$D" $BASE$URL)" = 200 ] || fail "KAZU_JWT_KEY token refused"
stop_server
printf 'short\n' > "$TMP/short"
"$KAZU" serve --port 0 --jwt-secret-file "$TMP/short" 2>"$TMP/err"; rc=$?
[ $rc = 3 ] && grep -q "at least 16 bytes" "$TMP/err" || fail "short secret accepted (rc $rc)"
SRV_PID=
echo "serve_auth: all passed"
