#!/usr/bin/env bash
# secondaries-notify: the secondaries scenario (tests/system/secondaries/test.sh, its templates
# there too) in its notify mode. nolbd names NSD, Knot and BIND as notify endpoints and the SOA's
# refresh and retry are an hour, so that only a NOTIFY explains a transfer within seconds: each
# secondary follows each drain and undrain by IXFR within 10 s, having logged the NOTIFY, and the
# propagation times are reported per secondary. Ten changes in two seconds cost each secondary a
# few NOTIFY (nolbd keeps notify_gap, 1 s, between two), not ten, and each ends at the last serial.
SECONDARIES_MODE=notify
source "$(dirname "${BASH_SOURCE[0]}")/../secondaries/test.sh"
