#!/bin/bash
# e2e: `kazu serve` routes and payloads (Kazu's paths), request ids, metrics,
# OpenAPI, the embedded page, limits (413, 504, 503 + Retry-After) and a
# graceful SIGTERM that lets an in-flight request finish.
KAZU=$1
source "$(dirname "$0")/serve_common.bash"
command -v curl >/dev/null || { echo "curl missing"; exit 1; }
J='Content-Type: application/json'

# Usage errors exit 2 before anything starts.
for bad in "--host not-an-ip" "--threads 0" "--port 70000" "--queue -1" "--timeout-ms x" "--nope" "extra-arg"; do
    "$KAZU" serve $bad 2>"$TMP/err"; rc=$?
    [ $rc = 2 ] || fail "'kazu serve $bad' exit $rc, want 2: $(cat "$TMP/err")"
done
"$KAZU" serve --help | grep -q -- "--timeout-ms" || fail "serve --help"
start_server --threads 2 --max-body 200000 --max-doc 100000 --max-docs 5
[ "$(st $BASE/health)" = 200 ] || fail "/health"
[ "$(body)" = '{"status": "ok"}' ] || fail "/health body $(body)"
[ "$(st $BASE/ready)" = 200 ] && grep -q '"ready"' "$TMP/body" || fail "/ready"
[ "$(st $BASE/api)" = 200 ] && [ "$(body)" = '"Welcome to KAZU."' ] || fail "/api welcome"
[ "$(st $BASE/api/steps)" = 200 ] && [ "$(body)" = '["SentenceSplitter", "RulesBasedEntityClassDisambiguationFilterStep", "AbbreviationFinderStep", "CleanupStep", "MergeOverlappingEntsStep"]' ] || fail "/api/steps $(body)"
[ "$(st $BASE/api/step_groups)" = 200 ] || fail "/api/step_groups"
grep -q '"sentences_only": \["SentenceSplitter"\]' "$TMP/body" || fail "step groups body $(body)"

# Request ids: generated (uuid) or echoed when sane.
st $BASE/health >/dev/null
[[ "$(header X-request-id)" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] || fail "generated request id '$(header X-request-id)'"
st -H 'X-Request-Id: my-req.42' $BASE/health >/dev/null
[ "$(header X-request-id)" = my-req.42 ] || fail "request id not echoed"
st -H 'X-Request-Id: bad id with spaces' $BASE/health >/dev/null
[ "$(header X-request-id)" != "bad id with spaces" ] || fail "unsafe request id echoed"

# Annotate: one text -> list of one Kazu document (ner_and_linking).
T='EGFR mutations are frequent in lung cancer. Patients received gefitinib.'
[ "$(st -H "$J" -H 'X-Request-Id: annot-1' -d "{\"text\": \"$T\"}" $BASE/api/kazu/ner_and_linking)" = 200 ] || fail "ner_and_linking $(body)"
jq -e --arg t "$T" 'type == "array" and length == 1 and (.[0].idx | length) == 32 and .[0].sections[0].text == $t
    and .[0].sections[0].name == "na" and .[0].sections[0].sentence_spans == [{"start": 0, "end": 43}, {"start": 44, "end": 72}]' \
    "$TMP/body" >/dev/null || fail "ner_and_linking payload: $(body)"
grep -q "ID: annot-1 POST /api/kazu/ner_and_linking 200" "$SRV_LOG" || fail "request id not in the log"
# Sections, a list, non-ASCII (code point offsets, ASCII-escaped JSON as Kazu).
[ "$(st -d '[{"sections": {"title": "Zürich 🧬 study.", "abstract": "Second. Third one."}}, {"text": "x"}]' $BASE/api/kazu/ner_and_linking)" = 200 ] || fail "sections list"
LC_ALL=C grep -q $'[\x80-\xff]' "$TMP/body" && fail "response not ASCII-escaped as Kazu's json.dumps"
jq -e --arg t "Zürich 🧬 study." 'length == 2 and [.[0].sections[].name] == ["title", "abstract"] and .[0].sections[0].text == $t
    and .[0].sections[0].sentence_spans == [{"start": 0, "end": 15}]
    and .[0].sections[1].sentence_spans == [{"start": 0, "end": 7}, {"start": 8, "end": 18}]' "$TMP/body" >/dev/null ||
    fail "sections payload: $(body)"
# Deprecated single / batch routes keep their shapes.
[ "$(st -d '{"text": "One. Two."}' $BASE/api/kazu)" = 200 ] && jq -e 'type == "object" and .sections[0].text == "One. Two."' "$TMP/body" >/dev/null || fail "/api/kazu single $(body)"
[ "$(st -d '[{"text": "a"}, {"text": "b"}]' $BASE/api/kazu)" = 422 ] || fail "/api/kazu with a list"
[ "$(st -d '[{"text": "a"}, {"text": "b"}]' $BASE/api/kazu/batch)" = 200 ] && jq -e '[.[].sections[0].text] == ["a", "b"]' "$TMP/body" >/dev/null || fail "batch"
[ "$(st -d '{"text": "a"}' $BASE/api/kazu/batch)" = 422 ] || fail "batch with one object"

# Step subsets and groups.
[ "$(st -d '{"text": "A b. C d."}' "$BASE/api/kazu/custom_pipeline_steps?steps=MergeOverlappingEntsStep")" = 200 ] || fail "custom steps"
jq -e '.[0].sections[0] | has("sentence_spans") | not' "$TMP/body" >/dev/null || fail "custom steps ran SentenceSplitter: $(body)"
[ "$(st -d '{"text": "A b. C d."}' "$BASE/api/kazu/custom_pipeline_steps?steps=MergeOverlappingEntsStep&steps=SentenceSplitter")" = 200 ] || fail "custom steps x2"
grep -q sentence_spans "$TMP/body" || fail "custom steps did not run SentenceSplitter"
[ "$(st -d '{"text": "x"}' "$BASE/api/kazu/custom_pipeline_steps?steps=NoSuchStep")" = 422 ] || fail "unknown step"
grep -q "NoSuchStep" "$TMP/body" || fail "unknown step message $(body)"
[ "$(st -d '{"text": "A b. C d."}' $BASE/api/kazu/sentences_only)" = 200 ] && grep -q sentence_spans "$TMP/body" || fail "step group route"
[ "$(st -d '{"text": "A b. C d."}' $BASE/api/kazu/merge_only)" = 200 ] && ! grep -q sentence_spans "$TMP/body" || fail "merge_only group"
[ "$(st -d '{"text": "x"}' $BASE/api/kazu/no_such_group)" = 422 ] && grep -q "no_such_group" "$TMP/body" || fail "unknown group $(body)"
[ "$(st -d '{"text": "x"}' $BASE/api/kazu/ner_only)" = 200 ] || fail "ner_only runs the (here empty) ner_only group of the default pipeline"
[ "$(st -d '{"text": "x"}' $BASE/api/kazu/linking_only)" = 422 ] && grep -q entity_class "$TMP/body" || fail "linking_only needs entity_class"

# Label Studio view.
[ "$(st -d '{"text": "Some text. More."}' $BASE/api/kazu/ls-annotations)" = 200 ] || fail "ls-annotations"
jq -e '(.ls_view | startswith("<?xml version=\"1.0\" ?><View style=\"display: flex;\">"))
    and (.ls_view | contains("<Label value=\"gene\" background=\"green\"/>"))
    and .ls_tasks[0].data.text == "Some text. More." and .doc.sections[0].text == "Some text. More."' "$TMP/body" >/dev/null ||
    fail "ls payload $(body)"

# Methods, unknown paths.
[ "$(st $BASE/api/kazu/ner_and_linking)" = 405 ] && [ "$(header Allow)" = POST ] || fail "GET on a POST route"
[ "$(st -X POST -d x $BASE/health)" = 405 ] || fail "POST on /health"
[ "$(st $BASE/nope)" = 404 ] || fail "404"

# The page and its assets, OpenAPI, metrics.
[ "$(st $BASE/)" = 200 ] && [[ "$(header Content-Type)" == text/html* ]] && grep -q '<script src="/app.js">' "$TMP/body" || fail "page"
cmp -s "$TMP/body" web/index.html || fail "page differs from web/index.html"
[ "$(st $BASE/app.js)" = 200 ] && cmp -s "$TMP/body" web/app.js || fail "app.js"
[ "$(st $BASE/style.css)" = 200 ] && [[ "$(header Content-Type)" == text/css* ]] || fail "style.css"
[ "$(st $BASE/openapi.json)" = 200 ] || fail "openapi"
jq -e '(.openapi | startswith("3.")) and (.components | has("securitySchemes") | not)' "$TMP/body" >/dev/null || fail "openapi"
for p in /api/kazu/ner_and_linking /api/kazu/ner_only /api/kazu/linking_only /api/kazu/custom_pipeline_steps \
         '/api/kazu/{step_group}' /api/kazu /api/kazu/batch /api/kazu/ls-annotations /api/steps /api/step_groups /health /ready /metrics; do
    jq -e --arg p "$p" '.paths | has($p)' "$TMP/body" >/dev/null || fail "openapi lacks $p"
done
[ "$(st $BASE/api/openapi.json)" = 200 ] || fail "/api/openapi.json"
[ "$(st $BASE/metrics)" = 200 ] || fail "metrics"
for m in 'kazu_http_requests_total{route="/api/kazu/ner_and_linking",code="200"} 2' \
         'kazu_http_requests_total{route="/api/kazu/custom_pipeline_steps",code="422"} 1' \
         'kazu_http_request_duration_seconds_bucket{route="/api/kazu/batch",le="+Inf"}' \
         'kazu_step_documents_total{step="SentenceSplitter"}' 'kazu_step_failures_total{step="MergeOverlappingEntsStep"} 0' \
         'kazu_documents_total' 'kazu_documents_per_second' 'kazu_process_resident_memory_bytes' 'kazu_inflight_requests 0'; do
    grep -qF "$m" "$TMP/body" || fail "metrics lack '$m'"
done

# Limits: body (Content-Length and chunked), document size, document count.
head -c 300000 /dev/zero | tr '\0' a > "$TMP/big"
[ "$(st --data-binary @"$TMP/big" $BASE/api/kazu/ner_and_linking)" = 413 ] && grep -q "limit of 200000" "$TMP/body" || fail "413 body $(body)"
[ "$(st -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big" $BASE/api/kazu/ner_and_linking)" = 413 ] || fail "413 chunked"
printf '{"text": "%s"}' "$(head -c 150000 /dev/zero | tr '\0' a)" > "$TMP/bigdoc"
[ "$(st --data-binary @"$TMP/bigdoc" $BASE/api/kazu/ner_and_linking)" = 413 ] && grep -q "150000 bytes of text; the limit is 100000" "$TMP/body" || fail "413 doc $(body)"
[ "$(st -d '[{"text":"a"},{"text":"a"},{"text":"a"},{"text":"a"},{"text":"a"},{"text":"a"}]' $BASE/api/kazu/batch)" = 413 ] || fail "413 docs"
# Kazu's skip_doc_len: a too-long document fails alone, the batch succeeds.
[ "$(st -d '[{"text":"fine."}, {"text":"also fine."}]' $BASE/api/kazu/batch)" = 200 ] || fail "batch"
[ "$(st $BASE/health)" = 200 ] || fail "server stopped serving"
stop_server
grep -q "kazu serve: stopped" "$SRV_LOG" || fail "no clean stop"

# One failing document never fails the batch (skip_doc_len 20 in this config).
cat > "$TMP/p.yaml" <<'Y'
pipeline:
  skip_doc_len: 20
  steps:
    - type: SentenceSplitter
Y
start_server --config "$TMP/p.yaml"
[ "$(st -d '[{"text":"short one."}, {"text":"this document is longer than twenty characters."}, {"text":"ok."}]' $BASE/api/kazu/ner_and_linking)" = 200 ] || fail "batch with a failing doc: $(body)"
jq -e 'length == 3 and .[0].metadata.PROCESSING_EXCEPTION == null and .[2].metadata.PROCESSING_EXCEPTION == null
    and (.[1].metadata.PROCESSING_EXCEPTION | contains("document too long"))
    and (.[0].sections[0].sentence_spans | length) > 0 and (.[2].sections[0].sentence_spans | length) > 0' "$TMP/body" >/dev/null ||
    fail "failure not recorded on the doc alone: $(body)"
st $BASE/metrics >/dev/null
grep -q '^kazu_documents_failed_total 1$' "$TMP/body" || fail "failed docs metric"
grep -q '^kazu_skipped_documents_total 1$' "$TMP/body" || fail "skipped docs metric"
stop_server

# 504: a 1 ms budget expires before a worker starts; a 100 ms budget expires
# inside the pipeline (~1 s of sentence splitting here), which is cancelled.
S=$(yes "Sentence number seven is here." | head -2000 | tr '\n' ' ')
{ printf '['; for i in $(seq 1 20); do [ $i = 1 ] || printf ','; printf '{"text": "%s"}' "$S"; done; printf ']'; } > "$TMP/slow"
{ printf '['; for i in $(seq 1 150); do [ $i = 1 ] || printf ','; printf '{"text": "%s"}' "$S"; done; printf ']'; } > "$TMP/slower"
start_server --threads 1 --timeout-ms 1 --max-doc 10000000 --max-body 100000000
[ "$(st --data-binary @"$TMP/slow" $BASE/api/kazu/ner_and_linking)" = 504 ] && grep -q "timed out after 1 ms" "$TMP/body" || fail "504 $(body)"
[ "$(st $BASE/health)" = 200 ] || fail "health after 504"
st $BASE/metrics >/dev/null; grep -q '^kazu_timeouts_total 1$' "$TMP/body" || fail "timeout metric"
stop_server
start_server --threads 1 --timeout-ms 100 --max-doc 10000000 --max-body 100000000
[ "$(st --data-binary @"$TMP/slower" $BASE/api/kazu/ner_and_linking)" = 504 ] && grep -q "timed out after 100 ms; the pipeline was cancelled" "$TMP/body" ||
    fail "504 with cancellation: $(body)"
grep -q "cancelled" "$SRV_LOG" || fail "cancellation not logged"
[ "$(st -d '{"text": "Quick one."}' $BASE/api/kazu/ner_and_linking)" = 200 ] || fail "worker not free after a cancelled run"
stop_server

# 503 + Retry-After when the queue is full (1 worker, queue 1, 8 slow requests at once).
start_server --threads 1 --queue 1 --retry-after 7 --max-doc 10000000 --max-body 100000000 --quiet
for i in $(seq 1 8); do
    curl -s -o /dev/null -D "$TMP/h$i" -w '%{http_code}\n' --data-binary @"$TMP/slow" $BASE/api/kazu/ner_and_linking > "$TMP/c$i" &
done
wait $(jobs -p | grep -v "^$SRV_PID$") 2>/dev/null
codes=$(cat "$TMP"/c* | sort | uniq -c | tr -s ' ' | tr '\n' ';')
grep -qx 503 "$TMP"/c* || fail "no 503 when the queue is full ($codes)"
grep -qx 200 "$TMP"/c* || fail "no request succeeded ($codes)"
for i in $(seq 1 8); do
    if grep -qx 503 "$TMP/c$i"; then grep -qi '^Retry-After: 7' "$TMP/h$i" || fail "503 without Retry-After"; fi
done
echo "queue-full codes: $codes"
[ "$(st $BASE/health)" = 200 ] || fail "health after 503s"

# Graceful SIGTERM: an in-flight request completes with 200; then new connections are refused.
curl -s -o "$TMP/inflight" -w '%{http_code}' --data-binary @"$TMP/slower" $BASE/api/kazu/ner_and_linking > "$TMP/inflight_code" &
CURL=$!
for _ in $(seq 1 500); do st $BASE/metrics >/dev/null; grep -q '^kazu_inflight_requests 1$' "$TMP/body" && break; done
grep -q '^kazu_inflight_requests 1$' "$TMP/body" || fail "request not in flight"
kill -TERM $SRV_PID
wait $CURL
[ "$(cat "$TMP/inflight_code")" = 200 ] || fail "in-flight request got $(cat "$TMP/inflight_code") during shutdown"
jq -e 'length == 150' "$TMP/inflight" >/dev/null || fail "in-flight body"
wait $SRV_PID; rc=$?
[ $rc = 0 ] || fail "exit status $rc after SIGTERM"
grep -q "draining" "$SRV_LOG" || fail "no drain message"
curl -s -m 2 $BASE/health >/dev/null && fail "new connection accepted after shutdown"
SRV_PID=
echo "serve_routes: all passed"
