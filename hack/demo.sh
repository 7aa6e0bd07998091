#!/usr/bin/env bash
# make demo: one TccLog in, a whole installation out, on a real API server.
#
# Cluster: the local control plane (default; no Docker needed), or kind when
# TCCLOG_DEMO_CLUSTER=kind and Docker is running. The operator runs on this host
# with the ServiceAccount token that deploy/ grants it, exactly the rights its pod has.
# Everything stays up for exploring; `make demo-down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${TCCLOG_CLUSTER_DIR:-$PWD/.cluster}
py=.venv/bin/python
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

case "${TCCLOG_DEMO_CLUSTER:-local}" in
  local)
    say "Local control plane (etcd, kube-apiserver, controller-manager, scheduler, KWOK)"
    $py -m tests.cluster up --state-dir "$state"
    eval "$($py -m tests.cluster env --state-dir "$state")"
    ;;
  kind)
    say "kind cluster tcclog-demo"
    kind get clusters | grep -qx tcclog-demo ||
      kind create cluster --name tcclog-demo --config tests/e2e/kind-config.yaml --wait 120s
    mkdir -p "$state" && kind get kubeconfig --name tcclog-demo > "$state/kubeconfig"
    export KUBECONFIG=$state/kubeconfig
    ;;
  *) echo "TCCLOG_DEMO_CLUSTER must be local or kind" >&2; exit 2 ;;
esac

say "Install the CRD and the operator: kubectl apply --server-side -k deploy/"
kubectl apply --server-side -k deploy/
kubectl wait --for=condition=Established --timeout=60s crd/tcclogs.tcclog.com

say "Run the operator (log: $state/operator.log)"
if [[ -f "$state/operator.pid" ]] && kill -0 "$(cat "$state/operator.pid")" 2>/dev/null; then
  echo "already running (pid $(cat "$state/operator.pid"))"
else
  token=$(kubectl create token tcclog-operator -n tcclog-system --duration=8h)
  cp "$KUBECONFIG" "$state/operator.kubeconfig"
  kubectl --kubeconfig="$state/operator.kubeconfig" config set-credentials operator --token="$token" >/dev/null
  kubectl --kubeconfig="$state/operator.kubeconfig" config set-context --current --user=operator >/dev/null
  KUBECONFIG=$state/operator.kubeconfig TCCLOG_OPERATOR_STANDALONE=true \
    TCCLOG_OPERATOR_LOG_FORMAT=plain nohup .venv/bin/tcclog-operator run \
    > "$state/operator.log" 2>&1 &
  echo $! > "$state/operator.pid"
fi

say "Apply examples/minimal.yaml into namespace tcc (Pod Security: restricted)"
kubectl create namespace tcc --dry-run=client -o yaml |
  kubectl label --local -f - pod-security.kubernetes.io/enforce=restricted -o yaml |
  kubectl apply --server-side -f -
kubectl apply --server-side -f examples/minimal.yaml

say "kubectl wait --for=condition=Ready tcc/demo"
started=$SECONDS
kubectl wait -n tcc tcc/demo --for=condition=Ready --timeout=180s
echo "Ready after $((SECONDS - started)) s"

say "kubectl get tcc -n tcc"
kubectl get tcc -n tcc
say "kubectl describe tcc demo -n tcc"
kubectl describe tcc demo -n tcc
say "What one TccLog became"
kubectl get serviceaccounts,secrets,configmaps,services,deployments,statefulsets,hpa,pdb,ingresses,networkpolicies,roles,rolebindings,pvc,pods \
  -n tcc -l app.kubernetes.io/instance=demo
cat <<MSG

The demo keeps running. Explore with:
  eval "\$(make -s cluster-env)"   # then kubectl ... (local control plane)
  kubectl edit tcc demo -n tcc     # change spec.backend.replicas and watch it roll
Stop everything with: make demo-down
MSG
