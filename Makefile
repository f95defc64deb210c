# Two entry points for a fresh machine: `make demo` and `make test`. Each installs what it
# needs from uv.lock first (uv itself comes from PyPI when missing).
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen --python $(PYTHON)

.PHONY: bootstrap system test demo lint bench

bootstrap:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	@$(UV) sync --frozen --python $(PYTHON) --quiet

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
