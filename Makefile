# `make demo` and `make test` do all set-up on a fresh Debian machine, then run.
SHELL := /bin/bash
PYTHON_SYS ?= /usr/bin/python3
VENV ?= $(CURDIR)/.venv
PY := $(VENV)/bin/python
APT_PKGS := uidmap busybox-static bubblewrap runc umoci skopeo slirp4netns docker-registry \
            rsyslog hyperfine debootstrap libseccomp2 python3-venv python3-pip iproute2 passwd gcc libc6-dev openssl
PYTEST_ARGS ?=
# The shared Dockerfile corpus (lint tests, bench/lint.py) lies beside the checkout, or, in a clone
# made elsewhere (git clone /work/main /tmp/x), beside the repository it was cloned from.
ORIGIN := $(shell git config --get remote.origin.url 2>/dev/null)
PYSANDBOX_CORPUS ?= $(firstword $(wildcard $(abspath ../shared/corpus/dockerfiles) \
                    $(if $(ORIGIN),$(abspath $(ORIGIN)/../shared/corpus/dockerfiles))))
ifneq ($(PYSANDBOX_CORPUS),)
export PYSANDBOX_CORPUS
endif

.PHONY: all setup apt venv demo test lint typecheck pytest bench clean

all: test

setup: apt venv

# Installs only what is missing, and only as root; a non-root user is told what to install.
apt:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/tmp/pysandbox-apt.log 2>&1 \
	      || { tail -20 /tmp/pysandbox-apt.log; exit 1; }; \
	  else echo "missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; fi; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	# setuptools' distutils-precedence.pth imports a module at every interpreter start (~4 ms of a
	# cold `pysandbox run`); nothing here needs setuptools at run time (pip builds in isolation)
	$(PY) -m pip uninstall -q -y setuptools
	$(PY) -m compileall -q pysandbox
	chmod -R a+rX $(VENV)
	touch $@

venv: $(VENV)/.installed

lint: venv
	$(VENV)/bin/ruff check pysandbox tests bench

typecheck: venv
	$(VENV)/bin/mypy

pytest: setup
	PATH=$(VENV)/bin:$$PATH $(PY) -m pytest $(PYTEST_ARGS)

test: setup lint typecheck pytest

demo: setup
	PATH=$(VENV)/bin:$$PATH bash examples/demo.sh

bench: setup
	$(PY) -m compileall -q pysandbox
	PATH=$(VENV)/bin:$$PATH bash bench/run_all.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
