#!/usr/bin/env bash
# Builds STAC Browser (npm @radiantearth/stac-browser, which ships sources only) once into a cache
# folder outside this project, and prints the path of the built site (the folder with index.html).
# Idempotent: when the built site is already there, nothing is installed or built.
#
# The build is neutral: no catalogUrl and hash history, so the site is pointed at any STAC root by
# its URL: http://HOST/#/external/http:/127.0.0.1:8000/stac. Serve it at the root path of its
# origin: STAC Browser writes its links as `<pathPrefix>#/...` (a relative pathPrefix gives `/./#/`).
#
# Environment: STRATO_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/strato).
# Packages come from the npm registry the user's npm is configured with; install scripts are not
# run, so nothing downloads browsers or binaries from elsewhere.
set -euo pipefail

STAC_BROWSER_VERSION=4.0.1
# ol-stac newer than 1.5.1 needs a newer `ol` than STAC Browser 4.0.1 pins.
OL_STAC_VERSION=1.5.1

cache_root="${STRATO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/strato}"
home="$cache_root/stac-browser-$STAC_BROWSER_VERSION"
site="$home/dist"
# STAC Browser's build options (environment SB_<option>); a site built with others is rebuilt.
settings="SB_historyMode=hash SB_pathPrefix=/ SB_noSourceMaps=true"

built() { [[ -f "$site/index.html" && "$(cat "$site/.strato-build" 2>/dev/null)" == "$settings" ]]; }
if built; then
  echo "$site"
  exit 0
fi

mkdir -p "$home"
# One builder at a time (two test runs may start together); the second one finds the site built.
exec 9>"$home.lock"
flock 9
if built; then
  echo "$site"
  exit 0
fi

echo "building STAC Browser $STAC_BROWSER_VERSION (ol-stac $OL_STAC_VERSION) in $home; this takes minutes" >&2
started=$SECONDS

export PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
  CYPRESS_INSTALL_BINARY=0 ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm_config_fund=false npm_config_audit=false \
  npm_config_update_notifier=false

source_dir="$home/source"
if [[ ! -f "$source_dir/package.json" ]]; then
  rm -rf "$source_dir" "$home/pack"
  mkdir -p "$home/pack"
  (cd "$home/pack" && npm pack --silent "@radiantearth/stac-browser@$STAC_BROWSER_VERSION" >/dev/null)
  mkdir -p "$source_dir.partial"
  tar -xzf "$home"/pack/*.tgz -C "$source_dir.partial" --strip-components=1
  # Pin ol-stac for the whole dependency tree.
  node -e '
    const fs = require("node:fs");
    const file = process.argv[1];
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    pkg.overrides = { ...(pkg.overrides ?? {}), "ol-stac": process.argv[2] };
    pkg.dependencies["ol-stac"] = process.argv[2];
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
  ' "$source_dir.partial/package.json" "$OL_STAC_VERSION"
  mv "$source_dir.partial" "$source_dir"
  rm -rf "$home/pack"
fi

cd "$source_dir"
# The stamp marks a completed install, so an interrupted one is redone rather than built upon.
if [[ ! -f "$home/installed" ]]; then
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error >&2
  touch "$home/installed"
fi
installed=$(node -p 'require("ol-stac/package.json").version')
if [[ "$installed" != "$OL_STAC_VERSION" ]]; then
  echo "expected ol-stac $OL_STAC_VERSION, npm installed $installed" >&2
  exit 1
fi

rm -rf "$site.partial"
env $settings NODE_ENV=production npx --no-install vue-cli-service build --dest "$site.partial" >"$home/build.log" 2>&1 || {
  tail -n 40 "$home/build.log" >&2
  exit 1
}
printf '%s' "$settings" >"$site.partial/.strato-build"
rm -rf "$site"
mv "$site.partial" "$site"
echo "built STAC Browser in $((SECONDS - started)) s: $site" >&2
echo "$site"
