# Developer and CI entry points. `make test` is what CI (.ci/run) runs.
#
# Tools come from a virtualenv: $(VENV) (default .venv in the checkout, or the active one).
# Use another with `make test VENV=/path/to/venv`.

VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
# One ansible-core of the CI matrix (tests/matrix/versions.txt), e.g. `make test-unit ANSIBLE_CORE=2.16`
# or `make matrix ANSIBLE_CORE=2.16`: targets then run in that version's cached venv (tests/matrix/venv.sh
# builds it on first use, with the right Python).
ANSIBLE_CORE ?=
ifneq ($(ANSIBLE_CORE),)
VENV := $(shell tests/matrix/venv.sh $(ANSIBLE_CORE))
endif
BIN := $(VENV)/bin
# The first Python 3.11+ on PATH (python3.11, then newer, then python3 if it is new enough).
PYTHON_FOR_VENV ?= $(firstword $(foreach candidate,python3.11 python3.12 python3.13 python3,\
	$(shell $(candidate) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $(candidate))))
PYTEST_ARGS ?=
BENCH_ARGS ?=

STAGE := tests/tools/stage.sh
PYTEST := $(BIN)/python -m pytest

# Ansible finds the collection through a symlink tests/output/.collections/ansible_collections/
# sfops/integration_users -> checkout (made by the collections-root target), so nothing is installed.
# Given only to the targets that need it, not exported to all: with the checkout on the collections
# path, `ansible-galaxy collection install` in a test finds it "already installed" and does nothing.
COLLECTIONS_PATH := $(CURDIR)/tests/output/.collections
# Tools run from the venv without activating it (ansible-playbook, ansible-test, molecule...).
export PATH := $(abspath $(BIN)):$(PATH)
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0

.PHONY: help venv test test-emulator test-clients test-unit test-integration sanity ansible-test-units matrix release-check docs lint molecule bench bench-quick bench-pipeline \
	demo try stop reliability collections-root clean

help:
	@echo "make venv              create $(VENV) and install requirements.txt + tests/requirements.txt"
	@echo "make test              every suite CI runs: test-emulator test-unit test-integration sanity lint molecule reliability test-clients"
	@echo "make test-emulator     pytest tests/emulator/tests (the Salesforce org emulator)"
	@echo "make test-clients      Salesforce CLI and jsforce against the emulator (tests/clients, Node.js 22 from npm)"
	@echo "make test-unit         pytest tests/unit"
	@echo "make test-integration  pytest tests/integration (playbooks against the emulator; bad input/secrets/TLS run in reliability)"
	@echo "make sanity            ansible-test sanity on the venv's Python (offline, on a copy; tests/sanity/run.sh)"
	@echo "make ansible-test-units ansible-test units (offline, on a copy; tests/sanity/ansible-test.sh)"
	@echo "make matrix            sanity and units on every ansible-core of tests/matrix/versions.txt, integration and"
	@echo "                       molecule on the oldest and newest; ANSIBLE_CORE=2.16 for one (any target takes it)"
	@echo "make lint              ansible-lint, production profile (.ansible-lint)"
	@echo "make release-check     build the tarball, galaxy-importer with Automation Hub settings (tests/release/)"
	@echo "make docs              antsibull-docs lint, HTML docsite offline, headless Chromium check (docs/docsite/)"
	@echo "make molecule          molecule scenarios under extensions/molecule/ (on the emulator, no containers)"
	@echo "make bench             benchmarks/run.py: 10/40/100 orgs x forks 5/10/25, action plugins vs AnsiballZ"
	@echo "make bench-quick       a small benchmark run"
	@echo "make bench-pipeline    benchmarks/pipeline.py: site.yml over a generated estate (ORGS=20 LATENCY_MS=0 FORKS=25)"
	@echo "make demo              the migration over the demo estate on the emulator (tests/tools/demo.py)"
	@echo "make try               the emulator left running with the demo estate and an inventory; prints the playbook commands"
	@echo "make stop              stop the emulator of make try (tests/tools/try.py)"
	@echo "make reliability       reliability and security figures (tests/reliability/figures.py)"
	@echo "Variables: VENV=$(VENV) PYTEST_ARGS='...' BENCH_ARGS='...' DEMO_ARGS='...' RELIABILITY_ARGS='...'"

venv: $(BIN)/.installed

# Reinstalls when a requirements file changes; an existing venv is reused.
$(BIN)/.installed: $(wildcard requirements.txt) tests/requirements.txt
	@test -x $(BIN)/python || test -n "$(PYTHON_FOR_VENV)" || { echo "make: no Python 3.11 or newer on PATH (set PYTHON_FOR_VENV)" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check --quiet \
		$(if $(wildcard requirements.txt),-r requirements.txt) -r tests/requirements.txt
	touch $@

# molecule is part of test (it reports and passes when no scenario exists).
test: test-emulator test-unit test-integration sanity lint molecule reliability test-clients

collections-root:
	@$(BIN)/python tests/tools/collections_root.py >/dev/null

test-emulator:
	@$(STAGE) test-emulator $(PYTEST) tests/emulator/tests $(PYTEST_ARGS)

# The Salesforce CLI and jsforce 3 on Node.js 22 against the emulator (tests/clients/README.md); the pinned
# npm packages are installed once into tests/output/clients.
test-clients:
	@$(STAGE) test-clients tests/clients/run.sh $(BIN)/python

test-unit: collections-root
	@$(STAGE) test-unit $(PYTEST) tests/unit $(PYTEST_ARGS)

# The longest suite in CI (about 10 minutes on 2 busy cores): --durations names what to speed up.
# The bad-input, secrets and TLS files are run (and counted) by `make reliability`, not twice.
RELIABILITY_PYTEST := test_bad_input.py test_secrets.py test_tls.py
test-integration: collections-root
	@$(STAGE) test-integration $(PYTEST) tests/integration --durations=15 \
		$(addprefix --ignore=tests/integration/,$(RELIABILITY_PYTEST)) $(PYTEST_ARGS)

sanity:
	@$(STAGE) sanity tests/sanity/run.sh

# ansible-test units (what community CI runs) on a copy of the checkout, in the venv's ansible-core.
ansible-test-units:
	@$(STAGE) ansible-test-units tests/sanity/ansible-test.sh units

# The ansible-core x Python matrix of CI (tests/matrix/versions.txt): every row, or ANSIBLE_CORE's.
matrix:
	@tests/matrix/run.sh $(ANSIBLE_CORE)

# The collection tarball through galaxy-importer with Automation Hub's settings (tests/release/).
release-check:
	@$(STAGE) release-check tests/release/check.sh

# Docs lint, the HTML docsite (offline) in tests/output/docsite/build/html, and its Chromium check.
docs:
	@$(STAGE) docs docs/docsite/build.sh

# Playbooks use awx.awx, which Galaxy cannot serve here: tests/tools/awx_collection.py extracts it from
# the `ansible` wheel into the same collections root. --offline: that root already holds both
# collections (.ansible-lint is not offline, for a plain checkout, where ansible-lint installs this
# collection into its own cache; with a collections path given it would install into ~/.ansible).
lint: collections-root
	@$(BIN)/python tests/tools/awx_collection.py >/dev/null
	@ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_PATH) $(STAGE) lint $(BIN)/ansible-lint --offline

molecule: collections-root
	@if ls extensions/molecule/*/molecule.yml >/dev/null 2>&1; then \
		cd extensions && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_PATH) \
			../$(STAGE) molecule $(abspath $(BIN))/molecule test --all; \
	else \
		echo "molecule: no scenarios under extensions/molecule/ yet (they come with the role issue)"; \
	fi

bench: collections-root
	@$(STAGE) bench $(BIN)/python benchmarks/run.py $(BENCH_ARGS)

bench-quick: collections-root
	@$(STAGE) bench-quick $(BIN)/python benchmarks/run.py --quick $(BENCH_ARGS)

# The whole pipeline (playbooks/site.yml) over a generated estate: wall, CPU, tasks and API calls per org.
ORGS ?= 20
LATENCY_MS ?= 0
FORKS ?= 25
bench-pipeline: collections-root
	@$(STAGE) bench-pipeline $(BIN)/python benchmarks/pipeline.py --orgs $(ORGS) --latency-ms $(LATENCY_MS) \
		--forks $(FORKS) $(BENCH_ARGS)

# The whole migration over the demo estate (tests/emulator/estates/demo.yml) on the emulator; prints each
# org's summary and the HTML report's path. Work files in tests/output/demo (DEMO_ARGS='--work-dir DIR').
DEMO_ARGS ?=
demo: venv collections-root
	@$(BIN)/python tests/tools/demo.py $(DEMO_ARGS)

# The demo estate's emulator left running, with an inventory in tests/output/try, to run each playbook by hand.
try: venv collections-root
	@$(BIN)/python tests/tools/try.py

stop:
	@$(BIN)/python tests/tools/try.py --stop

clean:
	rm -rf tests/output .pytest_cache

# Reliability and security figures (tests/reliability/figures.py): faults, crashes, API allocation,
# concurrency, bad input, secrets, TLS. CI size here; `make reliability RELIABILITY_ARGS=--full` for the full size.
RELIABILITY_ARGS ?=
reliability: collections-root
	@$(STAGE) reliability $(BIN)/python tests/reliability/figures.py $(RELIABILITY_ARGS)
