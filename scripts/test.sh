#!/usr/bin/env bash
# The test suite, or one tier of it: scripts/test.sh [unit|integration|slow] [vitest arguments...]
# (tiers: vitest.config.ts; without one, all three). Debian clients for the Python-made fixtures
# and the interop tests (installed when missing; not for unit), a build of the CLI (integration
# tests run it as a process), STAC Browser (slow), then vitest, then one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
tier=all
case "${1:-}" in
  unit | integration | slow) tier=$1; shift ;;
esac
[[ $tier == unit ]] || bash scripts/install-test-deps.sh
npm run --silent build
if [[ $tier == all || $tier == slow ]]; then
  bash scripts/build-stac-browser.sh >/dev/null   # STAC Browser for test/browser (cached after the first build)
fi
projects=()
[[ $tier == all ]] || projects=(--project "$tier")
mkdir -p .tmp
status=0
npx vitest run "${projects[@]}" --reporter=default --reporter=json --outputFile.json=.tmp/vitest-results.json "$@" || status=$?
node scripts/test-summary.mjs .tmp/vitest-results.json || true
exit "$status"
