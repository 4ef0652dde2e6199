# Developer entry points. CI runs .ci/run, which provisions the machine and then `make test`.
PYTHON ?= python
PYTEST_ARGS ?=

.PHONY: install images test lint docker-up bench clean-docker demo-up demo-up-apps demo-down

install:
	$(PYTHON) -m pip install -e '.[dev]'

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
