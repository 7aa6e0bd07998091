#!/usr/bin/env bash
# Builds promtool (Prometheus' rule checker and rule unit-test runner) from the Go
# module proxy into a cache folder keyed by version, so a machine compiles it once.
# Prints the bin folder; the tests find promtool there (tests/integration/monitoring).
#
#   hack/promtool/build.sh
#   K8S_CACHE=/path hack/promtool/build.sh     (same cache root as hack/k8s/build.sh)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The version comes from the pinned go.mod: one source of truth. Prometheus 3.X.Y is
# the Go module version v0.30X.Y (v0.316.0 is Prometheus 3.16.0).
modver() { awk -v m="$1" '$1 == m || ($1 == "require" && $2 == m) {print $NF; exit}' "$here/go.mod"; }
cache_root=${K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tcclog}

log() { echo "[promtool/build.sh] $*" >&2; }

module_version=$(modver github.com/prometheus/prometheus)
minor=${module_version#v0.}; minor=${minor%%.*}    # 316
patch=${module_version##*.}
version="3.$((10#$minor - 300)).$patch"            # 3.16.0
bin="$cache_root/promtool-$version/bin"
mkdir -p "$bin"

if [[ ! -x "$bin/promtool" ]]; then
  log "building promtool $version (github.com/prometheus/prometheus $module_version)"
  start=$SECONDS
  pv=github.com/prometheus/common/version
  (cd "$here" && CGO_ENABLED=0 go build -trimpath \
     -ldflags "-s -w -X $pv.Version=$version -X $pv.Branch=release -X $pv.Revision=$module_version" \
     -o "$bin/promtool.tmp" github.com/prometheus/prometheus/cmd/promtool)
  mv "$bin/promtool.tmp" "$bin/promtool"   # atomic: an interrupted build never leaves a half binary
  log "built promtool in $((SECONDS - start)) s"
fi

echo "$bin"
