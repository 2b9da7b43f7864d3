#!/usr/bin/env bash
# The sanitizer build: everything flashc builds, compiled with AddressSanitizer
# and UndefinedBehaviorSanitizer (no recovery: the first report fails), then
#   1. the whole ctest suite (lit, unit tests, CPU JIT runs) under them;
#   2. each fuzzer (fuzz/) for FLASHC_FUZZ_SECONDS on its seed corpus.
# Exits non-zero if the build, any test or any fuzzer fails; says which.
#
# Environment:
#   FLASHC_ASAN_BUILD_DIR  build directory (default build-asan)
#   FLASHC_FUZZ_SECONDS    seconds per fuzzer (default 60; 0 skips fuzzing)
#   FLASHC_JOBS            parallel build/test jobs (default 2)
#   FLASHC_ASAN_OPTIONS    extra ASAN_OPTIONS for the tests and fuzzers
#   FLASHC_SANITIZE_CTEST_EXCLUDE
#                          a ctest -E regex of tests to leave out (default:
#                          none, the whole suite runs; CI leaves out nothing)
#
# Cost, measured from an empty build directory on the project's 2-core build
# box while other engineers built and fuzzed on it (everything here under
# nice -n 19; /usr/bin/time, FLASHC_FUZZ_SECONDS=60): 54 minutes wall but
# only 29 minutes of CPU (1648 s user + 110 s system; the job got 54% of
# one core on average). Wall by phase: build 21 min, ctest 30 min (of which
# cpu-numerics, the critical path, 28 min; lit 2 min), fuzzers 3 min (six
# targets in two lanes). On CI's two dedicated cores it takes between 15
# minutes (29 CPU-minutes over two cores) and 30 (one core at a time), so
# with setup.sh and the plain ctest (~20 minutes) .ci/run needs at most
# ~50 of its 90 minutes, and nothing is left out of the suite here.
#
# libMLIR.so and libLLVM.so stay uninstrumented (Debian builds them). That is
# sound for ASan and UBSan as long as the runtime comes first: clang links the
# ASan runtime statically into every executable, so it is initialized before
# any shared library (and before the ExecutionEngine JIT, whose code is not
# instrumented and only touches memory through the kernels' arguments), so
# neither LD_PRELOAD nor verify_asan_link_order=0 is needed. LeakSanitizer
# stays on: what MLIR and LLVM keep for the process's lifetime (pass
# registries, cl::opt, uniqued storage) is still reachable at exit and not
# reported. FLASHC_ASAN_OPTIONS adds to or overrides the settings below
# (detect_leaks=0 if a leak report must wait for its fix).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD_DIR=${FLASHC_ASAN_BUILD_DIR:-build-asan}
FUZZ_SECONDS=${FLASHC_FUZZ_SECONDS:-60}
JOBS=${FLASHC_JOBS:-2}
LLVM_BIN=/usr/lib/llvm-22/bin

log() { echo "sanitize: $*"; }
elapsed() { echo "$(( $(date +%s) - START ))s"; }
START=$(date +%s)
FAILED=()

# Debian packages: what scripts/setup.sh installs (so that this script also
# runs on its own on a fresh machine), plus the sanitizer and libFuzzer
# runtimes of clang 22 (libclang-rt-22-dev) and llvm-symbolizer, for
# reports with file and line (llvm-22).
PACKAGES=(
  cmake ninja-build
  llvm-22 llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22
  lld-22 libclang-rt-22-dev
  libcli11-dev libfmt-dev libgtest-dev nlohmann-json3-dev
)
# shellcheck source=scripts/lib/packages.sh
source scripts/lib/packages.sh
if ! FLASHC_LOG_PREFIX="sanitize: " flashc_install_packages "${PACKAGES[@]}"; then
  log "FAILED: could not install the packages (apt-get above)"
  exit 1
fi
# The packages are there; make sure what they should provide is, too.
for tool in clang++-22 ld.lld-22 cmake ninja "$LLVM_BIN/llvm-symbolizer" \
            "$LLVM_BIN/lit" "$LLVM_BIN/FileCheck"; do
  command -v "$tool" >/dev/null 2>&1 || {
    log "FAILED: $tool not found after installing ${PACKAGES[*]}"; exit 1; }
done
for rt in asan ubsan_standalone fuzzer; do
  lib=$(clang++-22 -print-file-name="libclang_rt.$rt-x86_64.a")
  [ -f "$lib" ] || {
    log "FAILED: clang 22's $rt runtime (libclang_rt.$rt-x86_64.a) not found; is libclang-rt-22-dev installed?"
    exit 1; }
done

# LLVM_USE_SANITIZER (HandleLLVMOptions) adds -fsanitize=address, frame
# pointers and line tables to every compile and link, and leaves out
# -Wl,-z,defs, which shared libraries such as libflashc_runtime.so cannot
# meet: their __asan_* references resolve against the executable's runtime.
# The installed LLVM config does not define LLVM_UBSAN_FLAGS: say it here.
# FLASHC_ENABLE_FUZZERS builds the fuzzers in the same tree (their coverage
# instrumentation costs the tests little), with header assertions on.
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  log "configuring $BUILD_DIR"
  cmake -G Ninja -S . -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld \
    -DLLVM_USE_SANITIZER="Address;Undefined" \
    -DLLVM_UBSAN_FLAGS="-fsanitize=undefined -fno-sanitize-recover=all" \
    -DFLASHC_ENABLE_FUZZERS=ON >"$BUILD_DIR.configure.log" 2>&1 || {
      cat "$BUILD_DIR.configure.log"; log "FAILED: configure"; exit 1; }
fi

log "building $BUILD_DIR ($(elapsed))"
if ! ninja -C "$BUILD_DIR" -j "$JOBS"; then
  log "FAILED: build"
  exit 1
fi
log "built ($(elapsed))"

# Sanitizer settings for everything below. A report aborts the process with
# a stack trace; halt_on_error is the default for ASan and forced for UBSan
# by -fno-sanitize-recover.
export ASAN_SYMBOLIZER_PATH=$LLVM_BIN/llvm-symbolizer
export UBSAN_SYMBOLIZER_PATH=$LLVM_BIN/llvm-symbolizer
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
TEST_ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
[ -n "${FLASHC_ASAN_OPTIONS:-}" ] && TEST_ASAN_OPTIONS="$TEST_ASAN_OPTIONS:$FLASHC_ASAN_OPTIONS"

log "running ctest under ASan + UBSan ($(elapsed))"
EXCLUDE=()
[ -n "${FLASHC_SANITIZE_CTEST_EXCLUDE:-}" ] && EXCLUDE=(-E "$FLASHC_SANITIZE_CTEST_EXCLUDE")
if ! ASAN_OPTIONS=$TEST_ASAN_OPTIONS ctest --test-dir "$BUILD_DIR" \
    --output-on-failure -j "$JOBS" "${EXCLUDE[@]}"; then
  FAILED+=("ctest")
fi
log "ctest done ($(elapsed))"

# Each fuzzer on its seed corpus (read, never written: new inputs go to a
# scratch directory), two at a time on the CI's two cores.
run_fuzzer() {
  local target=$1; shift
  local work="$BUILD_DIR/fuzz-work/$target"
  local artifacts="$BUILD_DIR/fuzz-artifacts/"
  rm -rf "$work"; mkdir -p "$work" "$artifacts"
  ASAN_OPTIONS=$TEST_ASAN_OPTIONS "$BUILD_DIR/bin/$target" "$@" \
    -max_total_time="$FUZZ_SECONDS" -timeout=60 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$artifacts$target-" \
    "$work" "fuzz/corpus/$target" >"$BUILD_DIR/fuzz-$target.log" 2>&1
  local rc=$?
  local execs
  # -a: fuzz-cli's log holds the diagnostics of fuzzed (binary) spec files.
  execs=$(grep -aE '^stat::number_of_executed_units' "$BUILD_DIR/fuzz-$target.log" | awk '{print $2}')
  if [ $rc -ne 0 ]; then
    log "FAILED: $target (exit $rc, ${execs:-?} executions); last lines of $BUILD_DIR/fuzz-$target.log:"
    grep -aE 'ERROR|BUG|runtime error|SUMMARY|Test unit written' "$BUILD_DIR/fuzz-$target.log" | head -20
    return 1
  fi
  log "$target: ${execs:-?} executions in ${FUZZ_SECONDS}s, no crash"
}

if [ "$FUZZ_SECONDS" -gt 0 ]; then
  log "fuzzing, ${FUZZ_SECONDS}s per target ($(elapsed))"
  # shellcheck source=fuzz/targets.sh
  source fuzz/targets.sh
  # Two lanes, one per core; fuzz-runtime-args exists where runtime/ builds
  # the GPU runtime.
  lane() {
    local failed=0
    for target in "$@"; do
      [ -x "$BUILD_DIR/bin/$target" ] || continue
      # shellcheck disable=SC2086
      run_fuzzer "$target" ${FLASHC_FUZZ_ARGS[$target]} || failed=1
    done
    return $failed
  }
  lane fuzz-spec-builder fuzz-pipeline fuzz-cli > "$BUILD_DIR/fuzz-lane1.log" 2>&1 &
  lane1=$!
  lane fuzz-spec fuzz-layout fuzz-runtime-args > "$BUILD_DIR/fuzz-lane2.log" 2>&1 &
  lane2=$!
  wait $lane1 || FAILED+=("fuzzers (lane 1)")
  wait $lane2 || FAILED+=("fuzzers (lane 2)")
  cat "$BUILD_DIR/fuzz-lane1.log" "$BUILD_DIR/fuzz-lane2.log"
  log "fuzzing done ($(elapsed))"
fi

if [ ${#FAILED[@]} -gt 0 ]; then
  log "FAILED: ${FAILED[*]} (total $(elapsed))"
  exit 1
fi
log "OK: build, ctest and fuzzers clean under ASan + UBSan (total $(elapsed))"
