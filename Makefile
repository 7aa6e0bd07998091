# One entry point for humans and CI. `make test` is what .ci/run runs.
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: venv k8s-bin cluster-up cluster-down cluster-env test test-unit test-integration test-e2e demo demo-down bench lint crds

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -U pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

k8s-bin:                 ## build (once, cached by version) etcd, kube-*, kubectl, kwok
	hack/k8s/build.sh

.PHONY: promtool
promtool:                ## build (once, cached by version) promtool, which checks and tests the alert rules
	hack/promtool/build.sh

cluster-up: venv k8s-bin ## start the local control plane in .cluster/ (kubeconfig: .cluster/kubeconfig)
	$(PY) -m tests.cluster up

cluster-down:            ## stop it; leaves no process behind
	$(PY) -m tests.cluster down

cluster-env:             ## print `export KUBECONFIG=...; export PATH=...` for a shell
	@$(PY) -m tests.cluster env

test: venv k8s-bin       ## every test: unit, integration (real services), e2e (real API server)
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: venv
	$(PY) -m pytest -m unit $(PYTEST_ARGS)

test-integration: venv
	$(PY) -m pytest -m integration $(PYTEST_ARGS)

test-e2e: venv k8s-bin
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

crds: venv                ## regenerate crds/ from the pydantic models
	$(VENV)/bin/tcclog-operator crd --kind TccLog > crds/tcclog.com_tcclogs.yaml
	$(VENV)/bin/tcclog-operator crd --kind TccLogBackup > crds/tcclog.com_tcclogbackups.yaml

lint: venv
	$(VENV)/bin/ruff check operator app tests
	$(VENV)/bin/mypy

demo: venv k8s-bin       ## local control plane (or kind) + operator + examples/minimal.yaml, until Ready
	hack/demo.sh

demo-down:               ## stop the demo's operator and local control plane
	-@[ -f .cluster/operator.pid ] && kill $$(cat .cluster/operator.pid) 2>/dev/null; rm -f .cluster/operator.pid
	$(PY) -m tests.cluster down

# ---- kind (machines with Docker; docs/GITOPS.md). The image is built once and loaded
# under every tag the e2e suite deploys: the install's operator image (deploy/base pins
# ghcr.io/tcclog/tcclog:0.1.0) and the app versions the tests roll between.
KIND_CLUSTER ?= tcclog-e2e
E2E_IMAGE    ?= ghcr.io/tcclog/tcclog:0.1.0
E2E_TAGS     ?= ghcr.io/tcclog/tcclog:0.2.0

.PHONY: e2e-kind e2e-kind-down
e2e-kind: venv           ## kind cluster + image built and loaded + deploy/ + the e2e suite (needs Docker, kind, kubectl)
	kind get clusters | grep -qx '$(KIND_CLUSTER)' || \
	  kind create cluster --name $(KIND_CLUSTER) --config tests/e2e/kind-config.yaml --wait 120s
	docker build --target app -t $(E2E_IMAGE) .
	for tag in $(E2E_TAGS); do docker tag $(E2E_IMAGE) $$tag; done
	kind load docker-image --name $(KIND_CLUSTER) $(E2E_IMAGE) $(E2E_TAGS)
	kubectl --context kind-$(KIND_CLUSTER) apply --server-side -k deploy/
	kubectl --context kind-$(KIND_CLUSTER) -n tcclog-system rollout status deployment/tcclog-operator --timeout=180s
	kubectl config use-context kind-$(KIND_CLUSTER)
	TCCLOG_E2E_CLUSTER=existing $(PY) -m pytest tests/e2e $(PYTEST_ARGS)

e2e-kind-down:           ## delete the kind cluster
	kind delete cluster --name $(KIND_CLUSTER)
