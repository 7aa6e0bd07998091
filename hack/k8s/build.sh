#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) and helm from the Go module proxy into cache folders
# keyed by version, so a machine compiles them once. Prints the folder.
#
#   hack/k8s/build.sh            build what is missing, print the control plane's bin folder
#   hack/k8s/build.sh helm       print helm's bin folder (building it if missing)
#   K8S_CACHE=/path hack/k8s/build.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The versions come from the pinned go.mod files: one source of truth.
modver() { awk -v m="$2" '$1 == m || ($1 == "require" && $2 == m) {print $NF; exit}' "$here/$1/go.mod"; }
cache_root=${K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tcclog}
target=${1:-k8s}

log() { echo "[build.sh] $*" >&2; }

build() { # build MODULE_DIR PACKAGE OUTPUT [LDFLAGS]
  local dir=$1 pkg=$2 out=$3 ldflags=${4:-}
  if [[ -x "$bin/$out" ]]; then return; fi
  log "building $out ($pkg)"
  local start=$SECONDS
  (cd "$here/$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$bin/$out.tmp" "$pkg")
  mv "$bin/$out.tmp" "$bin/$out"   # atomic: an interrupted build never leaves a half binary
  log "built $out in $((SECONDS - start)) s"
}

helm_bin() { # build helm (module in hack/helm/) into its own versioned folder; print it
  local version
  version=$(modver ../helm helm.sh/helm/v4)
  bin="$cache_root/helm-$version/bin"
  mkdir -p "$bin"
  build ../helm helm.sh/helm/v4/cmd/helm helm \
    "-X helm.sh/helm/v4/internal/version.version=$version -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
  echo "$bin"
}

case $target in
  helm) helm_bin; exit 0 ;;
  k8s) helm_bin >/dev/null ;;  # the chart tests need it too: built once, like the rest
  *) log "unknown target $target: use k8s (default) or helm"; exit 2 ;;
esac

k8s_version=$(modver kube k8s.io/kubernetes)
etcd_version=$(modver etcd go.etcd.io/etcd/server/v3)
kwok_version=$(modver kwok sigs.k8s.io/kwok)
bin="$cache_root/k8s-$k8s_version-etcd-$etcd_version-kwok-$kwok_version/bin"
mkdir -p "$bin"

kv="k8s.io/component-base/version"
kube_ldflags="-X $kv.gitVersion=$k8s_version -X $kv.gitMajor=1 -X $kv.gitMinor=$(cut -d. -f2 <<<"$k8s_version") -X $kv.gitTreeState=clean"
build etcd go.etcd.io/etcd/server/v3 etcd "-X go.etcd.io/etcd/api/v3/version.Version=${etcd_version#v}"
build kube k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "$kube_ldflags"
build kube k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager "$kube_ldflags"
build kube k8s.io/kubernetes/cmd/kube-scheduler kube-scheduler "$kube_ldflags"
build kube k8s.io/kubernetes/cmd/kubectl kubectl "$kube_ldflags"
build kwok sigs.k8s.io/kwok/cmd/kwok kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v}"

echo "$bin"
