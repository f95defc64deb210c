# Two entry points for a fresh machine: `make demo` and `make test`. Each installs what it
# needs from uv.lock first. uv itself comes from PyPI into a project-local virtual environment
# (.uv/), never into the system's Python: Debian 12 and Ubuntu 23.04+ refuse that (PEP 668).
# A Python without the venv module (Debian's python3-venv) gets it with apt-get, as root.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
# uv trusts the system's certificate store, as pip and apt do (a proxy's CA included).
export UV_SYSTEM_CERTS := 1
PYTHON ?= python3
UV := .uv/bin/uv
RUN := $(UV) run --frozen --python $(PYTHON)

.PHONY: bootstrap system test demo lint bench

bootstrap: $(UV)
	@$(UV) sync --frozen --python $(PYTHON) --quiet

$(UV):
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "$(PYTHON) has no venv module: sudo apt-get install -y python3-venv"; exit 1; }; \
	  echo "installing Debian's python3-venv"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
	@$(PYTHON) -m venv .uv
	@.uv/bin/python -m pip install -q --disable-pip-version-check uv

# Debian packages the tests need, each with a file that shows it is there: redis-server (the
# Celery broker), postgresql (the production test's metadata database; its binaries are under
# /usr/lib/postgresql/<version>/bin, not on the PATH) and chromium (the browser test of the
# Fansly page; Playwright drives it, no browser is downloaded).
DEBIAN_PACKAGES := redis-server:/usr/bin/redis-server postgresql:/usr/lib/postgresql/*/bin/initdb \
	chromium:/usr/bin/chromium
system:
	@missing=""; for entry in $(DEBIAN_PACKAGES); do \
	  ls $${entry#*:} >/dev/null 2>&1 || missing="$$missing $${entry%%:*}"; done; \
	[ -z "$$missing" ] || { \
	  [ "$$(id -u)" = 0 ] || { echo "missing:$$missing (sudo apt-get install -y$$missing)"; exit 1; }; \
	  echo "installing Debian's$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }

test: bootstrap system
	$(RUN) pytest -n 2 --dist loadgroup

demo: bootstrap
	$(RUN) python scripts/demo.py $(ARGS)

lint: bootstrap
	$(RUN) ruff check airflow_provider_fansly tests dags benchmarks scripts devtools
	$(RUN) ruff format --check airflow_provider_fansly tests dags benchmarks scripts devtools
	$(RUN) mypy
	$(RUN) lint-imports

bench: bootstrap
	$(RUN) python -m benchmarks
