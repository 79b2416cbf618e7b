# The two commands of the README: `make book` (build the book) and `make test` (run the tests).
# Both create .venv from requirements.txt when it is missing or older than requirements.txt.
PYTHON ?= python3
# pipefail: a failed pip install (no network, a full disk) stops make here with pip's own message,
# instead of surfacing later as a broken import.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test venv clean clean-results

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | { grep -v "is ignored" || true; } \
		|| echo "(pip could not upgrade itself, e.g. offline; going on with the pip there is)"
	$(BIN)/python -m pip install --quiet -r requirements.txt 2>&1 | { grep -v "is ignored" || true; }
	$(BIN)/python -m pip install --quiet --no-deps -e . 2>&1 | { grep -v "is ignored" || true; }
	$(BIN)/python -c "import ddlib, torch, torchvision, jupytext, papermill, myst_nb, mnist1d" 
	touch $(STAMP)

## Execute every chapter at its default preset and build the HTML book into _build/html.
book: $(STAMP)
	@rm -rf _build/html  # no error log or figure of an earlier build ships with this one
	@start=$$(date +%s); \
	$(BIN)/jupyter-book build . --all --builder html --warningiserror --keep-going; status=$$?; \
	echo "book build: $$(( $$(date +%s) - start )) s (exit $$status)"; exit $$status

## Run the test suite (CPU, a few minutes; includes every chapter at its smoke preset).
test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf _build

clean-results:
	rm -rf results runs
