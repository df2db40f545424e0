#!/usr/bin/env bash
# descent info: layer tables and parameter counts of zoo models (counts verified with
# tools/torch_models.py and torch 1.13), help, and usage errors (exit code 2).
# Usage: info.sh path/to/descent
set -u
bin="$1"
fail=0
check() { # description, command status, expected
    if [ "$2" != "$3" ]; then echo "FAIL: $1 (got '$2', want '$3')"; fail=1; else echo "ok: $1"; fi
}
has() { # description, text, pattern
    if printf '%s' "$2" | grep -q -- "$3"; then echo "ok: $1"; else echo "FAIL: $1: no '$3' in:"; printf '%s\n' "$2"; fail=1; fi
}

out=$("$bin" info --model lenet5 --input 1x28x28 --classes 10); rc=$?
check "lenet5 exit code" "$rc" 0
has "lenet5 total = torch 61706" "$out" "total parameters: 61706 "
has "lenet5 conv row" "$out" "^0 *Conv2d *\[6, 28, 28\] *156 "
has "lenet5 fc row" "$out" "^11 *Linear *\[10\] *850 "
has "lenet5 FLOPs" "$out" "FLOPs per example: 833040 "

out=$("$bin" info --model resnet20 --input 3x32x32); rc=$?
check "resnet20 exit code" "$rc" 0
has "resnet20 total = torch 272474 (0.27 M)" "$out" "total parameters: 272474 (272,474, 0.27 M)"
has "resnet20 projection shortcut" "$out" "layer2.0.downsample.0 *Conv2d *\[32, 16, 16\] *512 "
has "resnet20 head" "$out" "^fc *Linear *\[10\] *650 "

out=$("$bin" info --model=cnn:c32k5-p2-c64k5-p2-f128 --input=1x28x28); rc=$?
check "cnn exit code" "$rc" 0
has "cnn total = torch 184586" "$out" "total parameters: 184586 "
has "cnn flatten 1024" "$out" "Flatten *\[1024\]"

out=$("$bin" info --model mlp:784-256-256-10,act=gelu --input 784); rc=$?
check "mlp exit code" "$rc" 0
has "mlp total = torch 269322" "$out" "total parameters: 269322 "

out=$("$bin" info --help); rc=$?
check "help exit code" "$rc" 0
has "help usage" "$out" "usage: descent info --model SPEC"

err=$("$bin" info --model cnn:c32k5-q2 2>&1 >/dev/null); rc=$?
check "bad token exit code" "$rc" 2
has "bad token named" "$err" "bad token 'q2' at position 11"

err=$("$bin" info --model resnet50 2>&1 >/dev/null); rc=$?
check "unknown model exit code" "$rc" 2
has "unknown model lists the valid ones" "$err" "unknown model 'resnet50' (valid: mlp, lenet5, cnn, vgg-small, resnet20)"

err=$("$bin" info --model lenet5 --depth 3 2>&1 >/dev/null); rc=$?
check "unknown option exit code" "$rc" 2
has "unknown option named" "$err" "unknown option '--depth'"

err=$("$bin" info --model lenet5 --input 1x28y28 2>&1 >/dev/null); rc=$?
check "bad input exit code" "$rc" 2
has "bad input named" "$err" "bad --input '1x28y28'"

err=$("$bin" info 2>&1 >/dev/null); rc=$?
check "missing --model exit code" "$rc" 2

exit $fail
