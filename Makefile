# One entry point: every target bootstraps .venv with the machine's python3, then runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup kube demo demo-real test bench lint clean soak

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# kube-apiserver, etcd, kube-controller-manager, kube-scheduler: from KUBEBUILDER_ASSETS, else built once
# from Kubernetes' Go modules (tools/kube) into ~/.cache/restoreflow (about 6-10 minutes the first time).
kube: $(STAMP)
	$(BIN)/restoreflow cluster build

demo: $(STAMP)
	$(BIN)/restoreflow demo

demo-real: kube
	$(BIN)/restoreflow demo --cluster real

test: kube
	$(BIN)/python -m pytest -n auto -q

bench: kube
	$(BIN)/python -m bench

# The reliability suite at full size (10,000 items through faults, ten kill -9 points), with a table.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

lint: $(STAMP)
	$(BIN)/ruff check src tests bench flows
	$(BIN)/ruff format --check src tests bench flows
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .demo .bench
