#!/usr/bin/env bash
# The whole test suite: Debian clients for the interop tests (installed when missing), a build of
# the CLI (integration tests run it as a process), then vitest. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm run --silent build
bash scripts/build-stac-browser.sh >/dev/null   # STAC Browser for test/browser (cached after the first build)
mkdir -p .tmp
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-results.json "$@" || status=$?
node scripts/test-summary.mjs .tmp/vitest-results.json || true
exit "$status"
