#!/usr/bin/env bash
# The test command: installs what is missing, builds nolb twice (plain in build/, with
# AddressSanitizer and UndefinedBehaviorSanitizer in build-asan/), and runs every test in both
# with ctest; then the tests of the threaded parts under ThreadSanitizer, in build-tsan/; then
# builds the libFuzzer targets with clang in build-fuzz/ and runs each for a
# bounded time (NOLB_FUZZ_SECONDS, 15 by default; 0 skips the stage) from a fixed seed
# (NOLB_FUZZ_SEED, 1 by default; 0 draws one). Any failure, sanitizer
# report, leak or fuzzer finding makes it exit non-zero. Safe to run again: builds are
# incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
logdir=$(mktemp -d "${TMPDIR:-/tmp}/nolb-test.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

declare -a summary=()
total_passed=0
total_failed=0
status=0

note() { printf '\n== %s\n' "$*"; }

# Runs ctest in one build folder (more ctest arguments, such as -R, after the folder) and adds
# its counts to the totals.
run_ctest() {
    local name=$1 dir=$2 log="$logdir/$1.ctest" rc=0 began=$SECONDS
    shift 2
    note "ctest ($name)"
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$log" || rc=$?
    # ctest's closing line: "100% tests passed, 0 tests failed out of 42"
    local line failed all
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
    if [[ -n "$line" ]]; then
        failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
        all=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
        total_passed=$((total_passed + all - failed))
        total_failed=$((total_failed + failed))
        summary+=("$name: $((all - failed)) of $all tests passed in $((SECONDS - began)) s")
    else
        summary+=("$name: ctest ran no test (exit $rc)")
        total_failed=$((total_failed + 1))
        rc=1
    fi
    if grep -q 'No tests were found' "$log"; then rc=1; fi
    ((rc == 0)) || status=1
}

# Configures and builds one folder (only the targets in $target, space separated, when set); a
# failed build counts as a failure and skips its tests.
build() {
    local name=$1 dir=$2 began=$SECONDS
    shift 2
    note "build ($name) in $dir"
    # shellcheck disable=SC2086  # $target is a list of target names, one word each
    if cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
        cmake --build "$dir" -j "$jobs" ${target:+--target $target}; then
        summary+=("$name: built in $((SECONDS - began)) s")
        return 0
    fi
    summary+=("$name: build failed")
    total_failed=$((total_failed + 1))
    status=1
    return 1
}

# Runs each libFuzzer target of build-fuzz/ for fuzz_seconds on a copy of its seed corpus (new
# inputs go to the copy; the committed corpus and regressions are only read), and counts a
# target with no finding as passed. A finding is kept in build-fuzz/findings/<target>/: to keep
# it, minimise it (fuzz-<target> -minimize_crash=1 FILE) into tests/fuzz/regressions/<target>/.
# The seed is fixed so that a run here retraces what a longer run with the same seed already
# explored: a test run checks for regressions, while exploring is a run with NOLB_FUZZ_SEED=0
# and a long NOLB_FUZZ_SECONDS.
run_fuzzers() {
    local dir=$root/$1 binary target passed=0 all=0
    note "fuzz ($fuzz_seconds s per target)"
    for binary in "$dir"/tests/fuzz/fuzz-*; do
        target=${binary##*/fuzz-}
        local work="$logdir/fuzz-$target" findings="$dir/findings/$target" rc=0
        local -a inputs=("$work/corpus" "$root/tests/fuzz/corpus/$target") options=()
        mkdir -p "$work/corpus" "$findings"
        [[ -d "$root/tests/fuzz/regressions/$target" ]] &&
            inputs+=("$root/tests/fuzz/regressions/$target")
        [[ -f "$root/tests/fuzz/$target.dict" ]] &&
            options+=("-dict=$root/tests/fuzz/$target.dict")
        all=$((all + 1))
        # From the work folder: the config target resolves relative zone file names there.
        (cd "$work" && "$binary" -max_total_time="$fuzz_seconds" -seed="$fuzz_seed" \
            -rss_limit_mb=2048 -timeout=10 \
            -print_final_stats=1 -artifact_prefix="$findings/" "${options[@]}" "${inputs[@]}") \
            >"$work/log" 2>&1 || rc=$?
        if ((rc == 0)); then
            passed=$((passed + 1))
            # libFuzzer's last line: "#RUNS DONE cov: EDGES ft: FEATURES corp: ... exec/s: N"
            echo "fuzz-$target: ok: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -n 1)"
        else
            tail -n 40 "$work/log"
            echo "fuzz-$target: FAILED (exit $rc); the input is in ${findings#"$root"/}/"
        fi
    done
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + all - passed))
    summary+=("fuzz: $passed of $all targets found nothing in $fuzz_seconds s each (seed $fuzz_seed)")
    ((all > 0 && passed == all)) || status=1
}

# LeakSanitizer cannot run under ptrace (strace, gdb, some sandboxes): it then aborts every
# sanitized process. Find out with a tiny leaking program instead of guessing.
leak_detection_works() {
    local probe="$logdir/leak_probe"
    printf '#include <stdlib.h>\nvoid* volatile p;\nint main(void) { p = malloc(7); p = 0; return 0; }\n' \
        >"$probe.c"
    cc -fsanitize=address -O0 -o "$probe" "$probe.c" 2>/dev/null || return 1
    local out
    out=$(ASAN_OPTIONS=detect_leaks=1 "$probe" 2>&1 || true)
    [[ "$out" == *"detected memory leaks"* ]]
}

start=$SECONDS

note "dependencies"
bash contrib/install-deps.sh
summary+=("dependencies: installed in $((SECONDS - start)) s")

if build release build; then
    run_ctest release build
fi

if leak_detection_works; then
    leaks=1
else
    leaks=0
    summary+=("note: LeakSanitizer does not work here (ptrace?); leak detection off")
fi
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=$leaks:print_stacktrace=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="print_suppressions=0"
if build asan build-asan -DNOLB_SANITIZE=ON; then
    run_ctest asan build-asan
fi

# ThreadSanitizer, in build-tsan/: only what the tests of the threaded parts need, and only those
# tests: the server's UDP and TCP threads, Published (the snapshot handed to the workers), the
# control server, and nolbd built with TSan under load and reloads (the gtest system tests,
# reload-under-load, tcp-limits, config-errors, nolbctl). The rest of the suite runs on one
# thread and would only cost time here.
tsan_start=$SECONDS
tsan_tests='^(Udp[A-Za-z]*|Tcp|Server|RrlServer|Published|ControlServerTest)\.'
tsan_tests+='|^system\.(NolbdTest\.|reload-under-load$|tcp-limits$|config-errors$|nolbctl$)'
# tests/tsan.supp: reports whose cause is in a library built without TSan (each explained there).
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp"
if target="nolbd nolbctl nolb_unit_tests nolb_system_tests nolb-testhttp nolb-queryload" \
    build tsan build-tsan -DNOLB_TSAN=ON; then
    run_ctest tsan build-tsan -R "$tsan_tests"
fi
summary+=("tsan: build and tests took $((SECONDS - tsan_start)) s")

# libFuzzer comes with clang: a third folder, only the fuzz targets, each run for a while.
fuzz_seconds=${NOLB_FUZZ_SECONDS:-15}
fuzz_seed=${NOLB_FUZZ_SEED:-1}
if ((fuzz_seconds > 0)) && CC=clang CXX=clang++ target=fuzz-targets \
    build fuzz build-fuzz -DNOLB_FUZZ=ON -DNOLB_TESTS=OFF; then
    run_fuzzers build-fuzz
fi

note "summary ($((SECONDS - start)) s)"
for line in "${summary[@]}"; do echo "  $line"; done
echo "test.sh: $total_passed passed, $total_failed failed"
exit "$status"
