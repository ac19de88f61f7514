#!/bin/bash
# e2e: `kazu model info` and `kazu model convert` on the loader fixtures
# (tests/golden/nn_load): output lines, .kzm round trip, exit codes.
set -u
KAZU=$1
G=tests/golden/nn_load
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() { # expect CODE DESCRIPTION -- command...
    local want=$1 what=$2
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    [ "$got" = "$want" ] || fail "$what: exit $got, expected $want; stderr: $(cat "$T/err")"
}

expect 0 "info torch zip" -- "$KAZU" model info $G/tiny_tc
grep -q "^head: *token classification, 3 labels, single-label (softmax)" "$T/out" || fail "head line"
grep -q "^tensors: *39 in the file (F32 39)" "$T/out" || fail "tensor line"
grep -q "^parameters: *1,707 in the file, 1,707 used" "$T/out" || fail "params line"
grep -q "^labels: .*0=O, 1=B-gene, 2=I-gene" "$T/out" || fail "labels line"
grep -q "^load time: " "$T/out" || fail "load time line"
grep -q "36 vocabulary tokens for 40 embedding rows" "$T/err" || fail "vocab warning"

expect 0 "info safetensors" -- "$KAZU" model info $G/tiny_st
grep -q "^tensors: *40 in the file (F32 39, I64 1), 3 not used" "$T/out" || fail "st tensor line"

for s in fp32 fp16 bf16 int8; do
    expect 0 "convert $s" -- "$KAZU" model convert $G/tiny_tc -o "$T/m_$s.kzm" --storage $s
    grep -q "wrote $T/m_$s.kzm" "$T/err" || fail "convert $s message"
    expect 0 "info kzm $s" -- "$KAZU" model info --verify "$T/m_$s.kzm"
    grep -q "^storage: *$s" "$T/out" || fail "storage $s"
    grep -q "^verify: *data checksum ok" "$T/out" || fail "verify $s"
done
# deterministic writer
"$KAZU" model convert $G/tiny_tc -o "$T/again.kzm" 2>/dev/null || fail "convert again"
cmp -s "$T/m_fp32.kzm" "$T/again.kzm" || fail "fp32 .kzm not byte-identical"
# kzm -> kzm
expect 0 "kzm to kzm" -- "$KAZU" model convert "$T/m_int8.kzm" -o "$T/back.kzm" -s int8

expect 2 "no subcommand" -- "$KAZU" model
expect 2 "unknown subcommand" -- "$KAZU" model frob
expect 2 "bad storage" -- "$KAZU" model convert $G/tiny_tc -o "$T/x.kzm" --storage int4
grep -q "expected fp32, fp16, bf16 or int8, got 'int4'" "$T/err" || fail "storage message"
expect 2 "convert without -o" -- "$KAZU" model convert $G/tiny_tc
expect 3 "refused pickle" -- "$KAZU" model info $G/tiny_tc/evil_os_system.bin
grep -q "refusing global 'posix.system'" "$T/err" || fail "evil message: $(cat "$T/err")"
expect 3 "missing model" -- "$KAZU" model info "$T/nothing"
printf 'garbage' >"$T/bad.kzm"
expect 3 "not a model" -- "$KAZU" model info "$T/bad.kzm"
expect 0 "help" -- "$KAZU" help model
grep -q "kazu model convert SRC -o OUT.kzm" "$T/out" || fail "help text"
echo "cli_model: ok"
