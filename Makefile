# Two commands set everything up on a fresh machine: `make run` and `make test`.
PY_BASE ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PTH     := $(shell $(PY_BASE) -c 'import sysconfig;print("lib/python"+sysconfig.get_python_version()+"/site-packages")')/vt-suite.pth
PROTOS  := $(shell find proto -name '*.proto')

.PHONY: venv proto proto-check lint chromium fonts test unit run demo clean bench bench-turns chaos fuzz certs

venv: $(STAMP)

# requirements/dev.lock pins every package (runtime, tools and tests); each image installs only its service's
# runtime set, requirements/<service>.txt (scripts/gen_requirements.py). The .pth file puts libs/, services/ and
# tools/ on the path so `python -m intake` works without an install step per service.
$(STAMP): requirements/dev.lock scripts/venv_paths.txt
	$(PY_BASE) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.lock
	sed "s|^|$(CURDIR)/|" scripts/venv_paths.txt > $(VENV)/$(PTH)
	touch $(STAMP)

proto: $(STAMP)
	$(PY) scripts/gen_proto.py

# CI fails when libs/vtproto does not match what `make proto` would write.
proto-check: $(STAMP)
	$(PY) scripts/gen_proto.py --check

# Contracts change additively only: buf breaking compares proto/ with main's (BUF_AGAINST: another git ref, e.g.
# BUF_AGAINST='.git#ref=v1.0,subdir=proto'); a copy without git history skips it, saying so.
BUF_AGAINST ?= .git\#branch=main,subdir=proto
lint: $(STAMP) proto-check
	cd proto && ../$(VENV)/bin/buf lint
	@if git rev-parse --verify -q main >/dev/null; then cd proto && ../$(VENV)/bin/buf breaking --against '../$(BUF_AGAINST)' && echo "buf breaking: no breaking change against $(BUF_AGAINST)"; \
	else echo "buf breaking skipped: no branch main in this copy"; fi
	$(VENV)/bin/ruff check libs/vtkit libs/vttest services tools tests scripts
	$(VENV)/bin/mypy
	$(PY) scripts/gen_requirements.py --check
	$(VENV)/bin/hadolint --config .hadolint.yaml services/*/Dockerfile

# The meldformulier's e2e test (tests/e2e/test_intake_meldformulier.py) drives Debian's chromium
# headless; install it when missing (sudo only when not root).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@test -x /usr/bin/chromium || ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

# The notifier's household letter embeds DejaVu Sans (Debian's fonts-dejavu-core) so every name prints; its
# tests read the rendered PDF back with pdftotext and `docs/screenshots` pictures come from pdftoppm
# (both poppler-utils). Installed when missing, like chromium.
fonts:
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf -a -x /usr/bin/pdftotext || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends fonts-dejavu-core poppler-utils)

# The integration tests mostly wait (brokers, group joins, processes starting): on 2 cores four
# pytest-xdist workers, one test file each at a time (module fixtures stay shared), take a third
# of the time of one. TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 4
test: $(STAMP) proto-check chromium fonts
	$(VENV)/bin/pytest -q --durations=15 -n $(TEST_WORKERS) --dist loadfile

# The unit tests only: no broker, no processes, about 10 s.
unit: $(STAMP) fonts
	$(VENV)/bin/pytest -q libs/vtkit/tests services tools -p no:cacheprovider

# Figures, not tests (docs/measurements.md). `make bench` writes var/bench/results.{json,md} (BENCH_N=1000 meldingen;
# BENCH_TENANTS=all: all 25 regions at once; BENCH_K=radar runs tests/perf/bench_radar.py instead (BENCH_K=notifier: the
# notifier alone, tests/perf/bench_notifier.py), BENCH_K=state radar's state after 10 simulated years
# into var/bench/radar_state.{json,md}, BENCH_K=open_index radar's deadline scan over a long history, BENCH_K=flat CPU per
# melding with 10 years of radar state and a year of access records against an empty start; BENCH_PROFILE=<dir> adds py-spy profiles;
# the pipeline run also measures CPU per melding per process and an open loop at BENCH_RATE=200/s, and adds a
# row to docs/measurements.md); `make chaos` kills services under load
# (CHAOS_MELDINGEN=10000). Both use the embedded broker unless KAFKA_BOOTSTRAP_SERVERS is set.
BENCH_K ?= pipeline
bench: $(STAMP)
	$(VENV)/bin/pytest -m bench tests/perf -k "$(BENCH_K)" -s -q -p no:cacheprovider

# Two commits' `make bench` by turns (loadgen.turns: clean clones with their own venvs, BASE, NEW, BASE, NEW, ...),
# e.g. `make bench-turns BASE=main~3 NEW=HEAD ROUNDS=3 TURNS_SET="BENCH_TENANTS=all"`: figures that compare. One
# service by turns: TURNS_SET="BENCH_K=notifier" or "BENCH_K=radar" (both commits must have loadgen.turns.write_single).
ROUNDS ?= 3
bench-turns: $(STAMP)
	$(PY) -m loadgen.turns $(BASE) $(or $(NEW),HEAD) --rounds $(ROUNDS) $(foreach v,$(TURNS_SET),--set $(v))

chaos: $(STAMP)
	$(VENV)/bin/pytest -m chaos tests/chaos -s -q -p no:cacheprovider

# The fuzz tests of tests/fuzz (every RPC, every Kafka consumer) with a longer budget than the
# FUZZ_EXAMPLES=30 inputs per RPC and per topic they get in `make test`.
FUZZ_EXAMPLES ?= 1000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -m fuzz tests/fuzz -s -q -p no:cacheprovider

# Mutual TLS (docs/security.md, "Identity: mTLS"). A local CA and every server and organisation certificate
# (vtkit.pki: the regions, the national organisations, the example registrant organisations of
# libs/vtkit/registrants.toml), in the key dir
# `make run` uses (VT_VAR_DIR/keys, default var/keys); existing ones are kept. The CA's private key goes to
# VT_VAR_DIR/keys-ca (or VT_CA_DIR), never into the key dir: services refuse to start with it there.
VT_VAR_DIR ?= var
certs: $(STAMP)
	$(PY) -m vtkit.pki init $(VT_VAR_DIR)/keys

run: $(STAMP) certs fonts
	$(PY) -m devstack

demo: $(STAMP)
	$(PY) -m devstack.cli demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var
