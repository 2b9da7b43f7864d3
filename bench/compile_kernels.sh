#!/usr/bin/env bash
# compile_kernels.sh - compiles every spec the benchmark needs (bench/specs/)
# ahead of time, on the build machine (the GPU machine has no MLIR), and
# times each `flashc compile`: that is flashc's compile time per variant,
# which bench/bench.py sets against FlexAttention's first call.
#
#   bench/compile_kernels.sh [--flashc PATH] [--target sm_90a] [--repeat R] OUT_DIR [SPEC...]
#
# Writes OUT_DIR/NAME/ (flashc.json + PTX/cubin) for bench/specs/NAME.mlir,
# OUT_DIR/COMMIT, and OUT_DIR/compile_times.json:
#   {"flashc": "...", "ptxas": "...", "commit": "...", "host": "...",
#    "nproc": N, "target": "sm_90a", "repeat": R,
#    "specs": {"NAME": {"seconds": [..R wall times..], "median": s, "min": s,
#                        "kernels": K, "ok": true}}}
# Each compile is timed R times (default 3) into a scratch directory and the
# last one kept: a compile is one process, from spec file to PTX + cubin
# (ptxas included). Exit status non-zero if any spec failed to compile.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
flashc=""
target="sm_90a"
repeat=3
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --flashc) flashc="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ ${#args[@]} -lt 1 ]; then
  echo "usage: $0 [--flashc PATH] [--target sm_90a] [--repeat R] OUT_DIR [SPEC...]" >&2
  exit 2
fi
out="${args[0]}"
specs=("${args[@]:1}")
[ ${#specs[@]} -gt 0 ] || specs=("$here"/bench/specs/*.mlir)
if [ -z "$flashc" ]; then
  for candidate in "$here"/build/bin/flashc "$here"/build-*/bin/flashc; do
    if [ -x "$candidate" ]; then flashc="$candidate"; break; fi
  done
fi
if [ -z "$flashc" ]; then
  echo "compile_kernels: no flashc binary (build it, or pass --flashc PATH)" >&2
  exit 2
fi
mkdir -p "$out"
commit="$(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if ! git -C "$here" diff --quiet HEAD -- bench/specs codegen passes dialect 2>/dev/null; then
  commit="$commit+dirty"
fi
echo "$commit" > "$out/COMMIT"
ptxas=ptxas
command -v ptxas > /dev/null || ptxas=/usr/local/cuda/bin/ptxas
ptxas_version="$("$ptxas" --version 2>/dev/null | tail -1)"
now() { date +%s.%N; }
entries=()
failed=0
for spec in "${specs[@]}"; do
  name="$(basename "$spec" .mlir)"
  times=()
  ok=true
  for ((r = 0; r < repeat; r++)); do
    rm -rf "$out/$name.tmp"
    t0=$(now)
    if ! "$flashc" compile "$spec" --target "$target" -o "$out/$name.tmp" > "$out/$name.compile.log" 2>&1; then
      ok=false
      break
    fi
    t1=$(now)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
  done
  if $ok; then
    rm -rf "${out:?}/${name:?}"
    mv "$out/$name.tmp" "$out/$name"
    mv "$out/$name.compile.log" "$out/$name/compile.log"
    kernels=$(grep -c '"kind"' "$out/$name/flashc.json")
    sorted=$(printf '%s\n' "${times[@]}" | sort -g)
    min=$(echo "$sorted" | head -1)
    median=$(echo "$sorted" | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
    list=$(IFS=,; echo "${times[*]}")
    entries+=("\"$name\": {\"seconds\": [$list], \"median\": $median, \"min\": $min, \"kernels\": $kernels, \"ok\": true}")
    echo "compiled $name: median ${median}s over $repeat (${list}), $kernels kernels"
  else
    rm -rf "$out/$name.tmp"
    failed=$((failed + 1))
    entries+=("\"$name\": {\"ok\": false}")
    echo "FAILED   $name (see $out/$name.compile.log)"
  fi
done
join() { local IFS=,; echo "$*"; }
cat > "$out/compile_times.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "flashc": "$("$flashc" --version 2>/dev/null | head -1)",
  "ptxas": "${ptxas_version}",
  "commit": "$commit",
  "host": "$(uname -m) $(nproc) cores",
  "nproc": $(nproc),
  "load": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "target": "$target",
  "repeat": $repeat,
  "specs": {
    $(join "${entries[@]}")
  }
}
EOF
echo "${#specs[@]} specs, $failed failed to compile; times in $out/compile_times.json"
[ "$failed" -eq 0 ]
