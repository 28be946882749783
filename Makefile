# vmstorage.gluster — development entry points. The README's two commands are `make demo` and
# `make test`; both work on a bare Debian 12 machine (they install what they need).
# SPDX-License-Identifier: GPL-3.0-or-later
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SANITY_VENV := .venv-sanity
# the oldest ansible-core requires_ansible allows (requirements-oldest.txt): sanity and units run there too
OLDEST_VENV := .venv-oldest
OLDEST_SANITY_VENV := .venv-sanity-oldest
# side B of the benchmark (ansible 9 with the generic collections) and matplotlib for its plot
BENCH_VENV := .build/bench/venv
BUILD := .build
# ansible/molecule find the collection by FQCN through this symlink tree.
COLLECTIONS := $(CURDIR)/$(BUILD)/collections
LAB := tests/lab/lab
PHASE := tests/phase
SCENARIOS ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
# `make test` runs the scenarios as streams (scenario+scenario+…), each on a prebuilt lab of its own, all at once
# (tests/streams.py); a scenario no stream names joins the shortest. Balanced by their times alone
# (docs/lab.md). STOCK_SCENARIOS run on a stock lab of each of STOCK_SUITES (Debian as installed,
# no storage package: the site installs them), beside the streams, and only there.
STREAMS ?= faults+thin_lv+check_mode security+bad_input+btrfs_brick scale_out+gluster_replica_volume+qemu_gluster_image+lab
STOCK_SUITES ?= bookworm trixie
STOCK_SCENARIOS := default
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
# molecule runs ansible-playbook, ansible-config and pytest by name: the venv's come first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# What the Makefile itself runs on the host (the lab installs its own: tests/lab/lab up).
HOST_PACKAGES := python3-venv rsync git

.PHONY: test demo bench deps host-packages sanity lint units lab-up lab-down molecule clean

## make test: every molecule scenario (the streams on prebuilt labs, default on a stock Debian 12 and a
## stock Debian 13 lab) and beside them sanity, lint and the unit tests, all at once (each stream's output
## follows when it has ended). With STOCK_SUITES empty, default runs in a stream.
test: deps
	@$(PYTHON) tests/streams.py --base "$${VMSTORAGE_LAB:-lab}" --scenarios "$(SCENARIOS)" \
	  $(foreach stream,$(STREAMS),--stream $(stream)) \
	  --stock-scenarios "$(STOCK_SCENARIOS)" --stock-suites "$(STOCK_SUITES)" --checks "sanity lint units"

## make demo: the lab, the collection installed from its artifact, the site for the seed's example,
## then the volume status and the disk's URI / json: / libvirt XML.
demo: deps
	@$(PHASE) demo demo/run

## make bench: this collection's site against the generic-module stack on the lab (issue 6);
## writes bench/results.json, bench/results.png and docs/benchmark.md. BENCH_ARGS="--sizes 1,4" runs less.
bench: deps $(BENCH_VENV)/.installed
	@$(PHASE) bench $(PYTHON) bench/run.py $(BENCH_ARGS)

deps: host-packages $(VENV)/.installed $(SANITY_VENV)/.installed $(OLDEST_VENV)/.installed $(OLDEST_SANITY_VENV)/.installed $(COLLECTIONS)/ansible_collections/vmstorage/gluster

host-packages:
	@missing=$$(for package in $(HOST_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || echo $$package; done); \
	  if [ -n "$$missing" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  fi

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(BENCH_VENV)/.installed: bench/requirements-generic.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements-generic.txt
	touch $@

# ansible-test sanity runs in its own venv: its pinned linters must not fight ansible-lint's.
$(SANITY_VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(SANITY_VENV)
	$(SANITY_VENV)/bin/pip install --quiet --disable-pip-version-check $$(grep '^ansible-core==' requirements-dev.txt)
	touch $@

$(OLDEST_SANITY_VENV)/.installed: requirements-oldest.txt
	$(PYTHON) -m venv $(OLDEST_SANITY_VENV)
	$(OLDEST_SANITY_VENV)/bin/pip install --quiet --disable-pip-version-check $$(grep '^ansible-core==' requirements-oldest.txt)
	touch $@

$(OLDEST_VENV)/.installed: requirements-oldest.txt
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-oldest.txt
	touch $@

$(COLLECTIONS)/ansible_collections/vmstorage/gluster:
	mkdir -p $(@D)
	ln -sfn $(CURDIR) $@

# ansible-test sanity in the venv $(1): its pip offline shim, then the tree at
# ansible_collections/vmstorage/gluster (with .git, or ansible-test would list the files of the
# enclosing checkout, where .build is ignored).
define run_sanity
	@pip_version=$$(grep -oP "pip='\K[0-9.]+" $(1)/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py); \
	  mkdir -p ~/.ansible/test/cache && \
	  cp tests/sanity/get_pip_offline.py ~/.ansible/test/cache/get_pip_$${pip_version//./_}.py
	mkdir -p $(BUILD)/sanity/ansible_collections/vmstorage/gluster
	rsync -a --delete --exclude /$(VENV) --exclude '/.venv-*' --exclude /$(BUILD) \
	  --exclude /tests/output --exclude /.ansible ./ $(BUILD)/sanity/ansible_collections/vmstorage/gluster/
	cd $(BUILD)/sanity/ansible_collections/vmstorage/gluster && \
	  $(CURDIR)/$(1)/bin/ansible-test sanity --requirements --python 3.11 --color no
endef

## make sanity: ansible-test sanity with zero ignore files, on the pinned ansible-core and on the oldest allowed.
sanity: deps
	@if ls tests/sanity/ignore-*.txt >/dev/null 2>&1; then echo "tests/sanity/ignore-*.txt must not exist"; exit 1; fi
	$(call run_sanity,$(SANITY_VENV))
	$(call run_sanity,$(OLDEST_SANITY_VENV))

lint: deps
	$(VENV)/bin/ansible-lint --profile production
	$(VENV)/bin/antsibull-changelog lint
	$(VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all \
	  $(COLLECTIONS)/ansible_collections/vmstorage/gluster
	$(VENV)/bin/python tests/role_variables.py --check

units: deps
	$(VENV)/bin/pytest -q tests/unit
	$(OLDEST_VENV)/bin/pytest -q tests/unit

lab-up:
	$(LAB) up

lab-down:
	$(LAB) down

## make molecule SCENARIOS="thin_lv": some scenarios on a running lab.
molecule: deps
	@for scenario in $(SCENARIOS); do \
	  $(PHASE) "molecule-$$scenario" $(LAB) run $(CURDIR)/$(VENV)/bin/molecule test -s "$$scenario" || exit 1; \
	done

clean:
	rm -rf $(BUILD) tests/output
