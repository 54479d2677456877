#!/usr/bin/env bash
# The test command: installs what is missing, builds nolb twice (plain in build/, with
# AddressSanitizer and UndefinedBehaviorSanitizer in build-asan/), and runs every test in both
# with ctest. Any failure, sanitizer report or leak makes it exit non-zero. Safe to run again:
# builds are incremental.
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

# Runs ctest in one build folder and adds its counts to the totals.
run_ctest() {
    local name=$1 dir=$2 log="$logdir/$1.ctest" rc=0
    note "ctest ($name)"
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" 2>&1 | tee "$log" || rc=$?
    # ctest's closing line: "100% tests passed, 0 tests failed out of 42"
    local line failed all
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
    if [[ -n "$line" ]]; then
        failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
        all=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
        total_passed=$((total_passed + all - failed))
        total_failed=$((total_failed + failed))
        summary+=("$name: $((all - failed)) of $all tests passed")
    else
        summary+=("$name: ctest ran no test (exit $rc)")
        total_failed=$((total_failed + 1))
        rc=1
    fi
    if grep -q 'No tests were found' "$log"; then rc=1; fi
    ((rc == 0)) || status=1
}

# Configures and builds one folder; a failed build counts as a failure and skips its tests.
build() {
    local name=$1 dir=$2
    shift 2
    note "build ($name) in $dir"
    if cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
        cmake --build "$dir" -j "$jobs"; then
        return 0
    fi
    summary+=("$name: build failed")
    total_failed=$((total_failed + 1))
    status=1
    return 1
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

note "summary ($((SECONDS - start)) s)"
for line in "${summary[@]}"; do echo "  $line"; done
echo "test.sh: $total_passed passed, $total_failed failed"
exit "$status"
