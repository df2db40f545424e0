#!/usr/bin/env bash
# descent optim: trajectories equal the torch 1.13 fixtures (tests/fixtures/optim), output
# format, help, and usage errors (exit code 2).
# Usage: optim.sh path/to/descent
set -u
bin="$1"
src="${DSC_SOURCE_DIR:-$(dirname "$0")/../..}"
fail=0
check() { # description, got, want
    if [ "$2" != "$3" ]; then echo "FAIL: $1 (got '$2', want '$3')"; fail=1; else echo "ok: $1"; fi
}
has() { # description, text, pattern
    if printf '%s' "$2" | grep -q -- "$3"; then echo "ok: $1"; else echo "FAIL: $1: no '$3' in:"; printf '%s\n' "$2"; fail=1; fi
}

# Bit-identical to torch's float64 trajectories (the fixtures are printed with %.17g too).
for c in adam:adam:lr=0.01 sgd_nesterov:sgd:lr=2e-4,momentum=0.9,nesterov=1 rprop:rprop \
         lbfgs_wolfe_opts:lbfgs:max_iter=3,history_size=3,line_search_fn=strong_wolfe,tolerance_change=1e-12; do
    name=${c%%:*}; spec=${c#*:}
    out=$("$bin" optim --opt "$spec" --fn rosenbrock --x0 1.5,1.5 --steps 1000 --print-steps 1,2,3,10,100,1000); rc=$?
    check "$name exit code" "$rc" 0
    check "$name = torch fixture" "$out" "$(cat "$src/tests/fixtures/optim/$name.txt")"
done

out=$("$bin" optim --opt=sgd:lr=0.1 --fn=quadratic:d=3,kappa=4 --x0=1 --print-steps=0,1); rc=$?
check "quadratic exit code" "$rc" 0
# lambda = 1, 2.5, 4: x1 = (0.9, 0.75, 0.6); f = 0.5 (0.81 + 2.5*0.5625 + 4*0.36)
check "quadratic lines" "$(printf '%s\n' "$out" | wc -l)" 2
has "step 0" "$out" "^0 1 1 1 3.75$"
has "step 1" "$out" "^1 0.90000000000000002 0.75 0.59999999999999998 "

out=$("$bin" optim --opt adam:lr=0.1 --fn himmelblau --x0 0,0 --steps 300 --print-steps 300); rc=$?
check "himmelblau exit code" "$rc" 0
has "himmelblau reaches (3, 2)" "$out" "^300 2.99999"

out=$("$bin" optim --opt lion:lr=0.01 --fn booth --x0 0,0 --steps 2000 --float32 --print-steps 2000); rc=$?
check "float32 exit code" "$rc" 0
has "float32 lion on booth near (1, 3)" "$out" "^2000 [01]\.[90]"

# --plot: a valid PNG (chunk CRCs, zlib stream, size) with the red path drawn on it.
tmp=$(mktemp -d)
out=$("$bin" optim --opt adam:lr=0.05 --fn rosenbrock --x0 -1.5,2 --steps 500 --print-steps 500 --plot "$tmp/path.png"); rc=$?
check "plot exit code" "$rc" 0
check "plot PNG signature" "$(head -c 8 "$tmp/path.png" | od -An -tx1 | tr -d ' \n')" "89504e470d0a1a0a"
if command -v python3 > /dev/null; then
    got=$(python3 - "$tmp/path.png" <<'PY'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
pos, chunks, idat = 8, [], b""
while pos < len(b):
    n, = struct.unpack(">I", b[pos:pos + 4]); t = b[pos + 4:pos + 8]; data = b[pos + 8:pos + 8 + n]
    assert struct.unpack(">I", b[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(t + data), "bad CRC"
    chunks.append(t); idat += data if t == b"IDAT" else b""; pos += 12 + n
w, h = struct.unpack(">II", b[16:24])
raw = zlib.decompress(idat)
assert len(raw) == h * (1 + 3 * w)
red = sum(1 for y in range(h) for x in range(w) if raw[y * (1 + 3 * w) + 1 + 3 * x:y * (1 + 3 * w) + 4 + 3 * x] == bytes([230, 30, 30]))
print(w, h, [c.decode() for c in chunks], red > 200)
PY
)
    check "plot PNG decodes, path drawn" "$got" "480 480 ['IHDR', 'IDAT', 'IEND'] True"
fi
err=$("$bin" optim --opt sgd --fn rosenbrock:d=3 --plot "$tmp/x.png" 2>&1 >/dev/null); rc=$?
check "plot of a 3-D function exit code" "$rc" 2
has "plot of a 3-D function message" "$err" "--plot needs a 2-D function"
rm -rf "$tmp"

# Reddi et al.'s online problem (C = 3, beta1 = 0, beta2 = 1/(1 + C^2)): Adam ends at +1 (the
# worst point), AMSGrad near the optimum -1.
out=$("$bin" optim --opt adam:lr=0.01,beta1=0,beta2=0.1 --fn reddi --x0 0 --steps 30000 --print-steps 30000); rc=$?
check "reddi adam exit code" "$rc" 0
check "reddi adam ends at +1" "$out" "30000 1 0.33333333333333331"
out=$("$bin" optim --opt adam:lr=0.01,beta1=0,beta2=0.1,amsgrad=1 --fn reddi --x0 0 --steps 30000 --print-steps 30000); rc=$?
check "reddi amsgrad exit code" "$rc" 0
has "reddi amsgrad ends near -1" "$out" "^30000 -0.99"
out=$("$bin" optim --opt heavyball:lr=0.1111111111111111,momentum=0.4444444444444444 --fn lessard --x0 3.3 --steps 3000 --print-steps 3000); rc=$?
check "lessard heavy ball exit code" "$rc" 0
has "lessard heavy ball does not converge" "$out" "^3000 \(0.6465\|-1.8024\|2.1159\)"

out=$("$bin" optim --help); rc=$?
check "help exit code" "$rc" 0
has "help usage" "$out" "usage: descent optim --opt SPEC --fn FUNCTION"
has "help lists optimizers" "$out" "nadam"

out=$("$bin" optim --help-opt adam); rc=$?
check "help-opt exit code" "$rc" 0
has "help-opt amsgrad" "$out" "amsgrad"

err=$("$bin" optim --opt adamm --fn rosenbrock 2>&1 >/dev/null); rc=$?
check "unknown optimizer exit code" "$rc" 2
has "unknown optimizer message" "$err" "unknown optimizer 'adamm'; valid optimizers: sgd"
err=$("$bin" optim --opt adam:betta1=0.9 --fn rosenbrock 2>&1 >/dev/null); rc=$?
check "unknown key exit code" "$rc" 2
has "unknown key message" "$err" "unknown option 'betta1'; valid options: lr, beta1"
err=$("$bin" optim --opt sgd:lr=-1 --fn rosenbrock 2>&1 >/dev/null); rc=$?
check "negative lr exit code" "$rc" 2
has "negative lr message" "$err" "'lr' = -1 is out of its range"
err=$("$bin" optim --opt sgd --fn rosenbrok 2>&1 >/dev/null); rc=$?
check "unknown function exit code" "$rc" 2
has "unknown function message" "$err" "unknown test function 'rosenbrok'"
err=$("$bin" optim --opt sgd --fn rosenbrock --x0 1,2,3 2>&1 >/dev/null); rc=$?
check "bad x0 exit code" "$rc" 2
err=$("$bin" optim --opt sgd --fn rosenbrock --steps -4 2>&1 >/dev/null); rc=$?
check "bad steps exit code" "$rc" 2
err=$("$bin" optim --fn rosenbrock 2>&1 >/dev/null); rc=$?
check "missing --opt exit code" "$rc" 2
err=$("$bin" optim --opt sgd --fn rosenbrock --bogus 1 2>&1 >/dev/null); rc=$?
check "unknown option exit code" "$rc" 2
has "unknown option message" "$err" "unknown option --bogus"

exit $fail
