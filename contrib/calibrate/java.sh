#!/usr/bin/env bash
# Compiles Client.java (OpenJDK 17's HttpURLConnection client) into a temporary folder and runs
# it with the same arguments:
#
#     contrib/calibrate/java.sh URL PERIOD_MS DURATION_S
#
# The JVM runs with no -D option: its defaults (DNS cache, timeouts, keep-alive) are what is
# measured. SIGTERM or SIGINT stops it; the folder is removed either way.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if (($# != 3)); then
    echo "usage: $0 URL PERIOD_MS DURATION_S" >&2
    exit 2
fi
for tool in javac java; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is not installed (OpenJDK 17)" >&2; exit 2; }
done
classes=$(mktemp -d "${TMPDIR:-/tmp}/nolb-cal-java.XXXXXX") || exit 2
child=""
finish() {
    [[ -n "$child" ]] && kill "$child" 2>/dev/null && wait "$child" 2>/dev/null
    rm -rf "$classes"
}
trap 'finish; exit 143' TERM
trap 'finish; exit 130' INT
trap finish EXIT
javac -d "$classes" "$here/Client.java" || exit 2
# Backgrounded and waited for, so that a trapped signal interrupts the wait and stops the JVM.
java -cp "$classes" Client "$@" &
child=$!
wait "$child"
status=$?
child=""
exit "$status"
