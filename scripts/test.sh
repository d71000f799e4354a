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
# the native codecs link libdeflate and liblz4 when the build finds them; on a fresh machine `npm ci`
# ran before the line above installed libdeflate-dev / liblz4-dev, so build them again (quiet) once
# a library is there that the built addon lacks
native_lacks() { # library name, the addon's export saying it is linked
  pkg-config --exists "$1" 2>/dev/null &&
    ! node -e "process.exit(require('./build/Release/strato_native.node')['$2'] ? 0 : 1)" 2>/dev/null
}
if native_lacks libdeflate hasLibdeflate || native_lacks liblz4 hasLiblz4; then
  node native/build.mjs
fi
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
