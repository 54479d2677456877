#!/usr/bin/env bash
# readme-results: every number the README's "Results" section quotes must appear in the committed
# results it says it comes from (contrib/results/: results.md, results.csv, results.json), so a
# figure in the README cannot outlive the run that made it or be typed in by hand. Code spans and
# blocks (commands, file names) and digits inside words (node2, http500, p99) are not figures
# and are left out. The check is on the text as printed: "95.9" must be in results.md as
# "95.9", not only as 95.87 in the JSON.
source "$(dirname "$0")/../lib.sh"

README="$NOLB_SOURCE_DIR/README.md"
RESULTS="$NOLB_SOURCE_DIR/contrib/results"
[[ -r "$README" ]] || die "README.md is readable" "not found: $README"
for f in results.md results.csv results.json; do
    [[ -s "$RESULTS/$f" ]] || die "contrib/results/$f is committed" "missing or empty"
done

# The section, from its heading to the next one of its level, without code blocks, code spans,
# link targets and HTML comments.
section=$(awk '/^## Results$/ { on = 1; next } on && /^## / { exit } on' "$README" |
    awk '/^```/ { code = !code; next } !code' |
    sed -E 's/`[^`]*`//g; s/\]\([^)]*\)/]/g; s/<!--.*-->//g')
expect_true "README.md has a Results section with text" test -n "$section"

# Numbers as written: 12, 1,234, 0.31 (a sign or a range's dash is not part of it); not the
# digits of node2, p99 or IPv6.
mapfile -t numbers < <(grep -oP '(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\w)' \
    <<<"$section" | sort -u)
say "the Results section quotes ${#numbers[@]} distinct numbers"
expect_true "it quotes figures at all" test "${#numbers[@]}" -gt 10

corpus=$(cat "$RESULTS/results.md" "$RESULTS/results.csv" "$RESULTS/results.json")
missing=()
for n in "${numbers[@]}"; do
    plain=${n//,/}
    # As a whole token: 95.9 must not be found inside 195.93.
    if ! grep -qP "(?<![\d.])\Q$plain\E(?![\d])" <<<"$corpus" &&
        ! grep -qP "(?<![\d.])\Q$n\E(?![\d])" <<<"$corpus"; then
        missing+=("$n")
    fi
done
expect_eq "every number in README's Results is in contrib/results (missing: ${missing[*]:-none})" \
    0 "${#missing[@]}"

finish
