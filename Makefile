# Developer entry points. CI runs .ci/run, which provisions the machine and then `make test`.
PYTHON ?= python
PYTEST_ARGS ?=

.PHONY: install lock images test lint docker-up bench clean-docker demo-up demo-up-apps demo-down

# The tested dependency set: constraints.txt pins every package (dev tools included).
install:
	$(PYTHON) -m pip install -c constraints.txt -e '.[dev]'

# Refreshes constraints.txt: the newest versions PyPI serves that satisfy pyproject.toml,
# resolved in a throw-away venv with `pip --isolated` (no machine-wide pip config: extra
# indexes, find-links or global constraints must not leak into the lock). Run the whole suite
# with the result (make install && make test) before committing it.
LOCK_VENV ?= .lock-venv
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --isolated --quiet --disable-pip-version-check -e '.[dev]'
	{ printf '%s\n' \
	    "# The tested dependency set of repro (pyproject.toml's dependencies and the dev extra)," \
	    "# as PyPI served it on $$(date -u +%Y-%m-%d) for $$($(LOCK_VENV)/bin/python -c 'import platform; print("Python", platform.python_version(), platform.system(), platform.machine())')." \
	    "# Install with: pip install -c constraints.txt -e '.[dev]'.  Refresh with: make lock."; \
	  $(LOCK_VENV)/bin/pip freeze --isolated --exclude-editable --disable-pip-version-check; \
	} > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(LOCK_VENV)

# Builds repro/postgres:{13,15,17} (+ postgres:N aliases) and the app bases
# repro/{python-app,python-orm,node-app}:bookworm from Debian packages, then the demo apps'
# images on top: repro/demo-shop:{2.1.0,1.4.2,2.0.0,2.1.1-fix-*}, repro/demo-ledger:3.4.1,
# repro/demo-accounts:1.8.0 (npm packages from its lock file); existing images are reused when
# their build hash matches (FORCE=1 rebuilds). Needs root.
images:
	bash images/build.sh
	bash fixtures/demo/build-images.sh

test:
	$(PYTHON) -m pytest -q $(PYTEST_ARGS)

lint:
	ruff check repro tests && mypy

# Starts dockerd (loopback-only published ports) if no engine answers.
docker-up:
	bash images/start-docker.sh

bench:
	@if [ -f benchmarks/run.py ]; then $(PYTHON) benchmarks/run.py; \
	else echo "no benchmarks yet (benchmarks/run.py)"; fi

# Removes what the product and the tests left behind; both label everything they create.
clean-docker:
	@ids="$$(docker ps -aq --filter label=repro.managed=true)"; \
	if [ -n "$$ids" ]; then docker rm -f $$ids >/dev/null; fi; \
	nets="$$(docker network ls -q --filter label=repro.managed=true)"; \
	if [ -n "$$nets" ]; then docker network rm $$nets >/dev/null; fi; \
	vols="$$(docker volume ls -q --filter label=repro.managed=true)"; \
	if [ -n "$$vols" ]; then docker volume rm $$vols >/dev/null; fi; \
	echo "removed $$(echo $$ids | wc -w) containers, $$(echo $$nets | wc -w) networks, $$(echo $$vols | wc -w) volumes"

# Two real environments of the demo app ("prod": PostgreSQL 13, "staging": PostgreSQL 15) with
# planted differences; profiles/prod.yaml and profiles/staging.yaml reach them.
demo-up:
	bash fixtures/demo/up.sh

# The two other demo apps (the ledger and the Node.js accounts service), prod and staging each;
# profiles/ledger-*.yaml and profiles/accounts-*.yaml reach them.
demo-up-apps:
	bash fixtures/demo/up-apps.sh

demo-down:
	bash fixtures/demo/down.sh
