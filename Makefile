# One-command environment: `make test` (set up + whole test suite), `make demo`.
# Without a sourced ROS 2 it installs real ROS 2 from PyPI wheels into .venv; with one
# (ROS_DISTRO set) it builds against that instead. Re-running with nothing changed
# reinstalls nothing: every step is a stamp file that depends on its inputs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_DEPS := $(VENV)/.stamp-deps
STAMP_BUILD := $(VENV)/.stamp-build
BUILD_DIR := build/ros

ifdef ROS_DISTRO
VENV_FLAGS := --system-site-packages
REQUIREMENTS := requirements/python.txt
PREFIX_PATH := $(CURDIR)/$(VENV):$(AMENT_PREFIX_PATH)
else
VENV_FLAGS :=
REQUIREMENTS := requirements/python.txt requirements/ros.txt
PREFIX_PATH := $(CURDIR)/$(VENV)
endif

# Every process here that starts rclpy keeps DDS discovery on this machine, in a
# domain of its own (a per-run id unless the caller chose one).
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export ROS_DOMAIN_ID ?= $(shell $(PYTHON) -c "import random; print(random.randint(1, 100))")
export AMENT_PREFIX_PATH := $(PREFIX_PATH)
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Model files come from disk (the MiniLM wheel); never from a hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

PACKAGE_FILES := $(shell find dynapurls_ros launch config scripts msg -type f -not -path '*/__pycache__/*') \
	CMakeLists.txt package.xml

.PHONY: test demo lint build clean text-index

test: $(STAMP_BUILD)
	$(BIN)/python -m pytest -q test

demo: $(STAMP_BUILD)
	$(BIN)/python -m dynapurls_ros demo

lint: $(STAMP_DEPS)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

build: $(STAMP_BUILD)

# Re-encode the shipped banks' texts into config/descriptions/vectors/minilm.npz after
# a bank changes (until then the changed texts are encoded at run time).
text-index: $(STAMP_DEPS)
	$(BIN)/python -m dynapurls_ros.text.bank_index

$(STAMP_DEPS): $(REQUIREMENTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV_FLAGS) $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(foreach r,$(REQUIREMENTS),-r $(r))
	$(BIN)/python tools/fix_wheel_cmake_paths.py $(VENV)
	touch $@

# The messages, the Python package, launch and config files, installed into the venv
# as an ament prefix (share/dynapurls_ros, lib/dynapurls_ros), as colcon would.
$(STAMP_BUILD): $(STAMP_DEPS) $(PACKAGE_FILES)
	mkdir -p build
	cmake -S . -B $(BUILD_DIR) -DCMAKE_INSTALL_PREFIX=$(CURDIR)/$(VENV) \
		-DCMAKE_PREFIX_PATH="$(subst :,;,$(PREFIX_PATH))" \
		-DPython3_EXECUTABLE=$(CURDIR)/$(BIN)/python -DBUILD_TESTING=OFF > $(BUILD_DIR).log 2>&1 \
		|| (cat $(BUILD_DIR).log; exit 1)
	cmake --build $(BUILD_DIR) -j2 >> $(BUILD_DIR).log 2>&1 || (tail -50 $(BUILD_DIR).log; exit 1)
	rm -rf $(VENV)/lib/python3*/site-packages/dynapurls_ros
	cmake --install $(BUILD_DIR) >> $(BUILD_DIR).log 2>&1 || (tail -50 $(BUILD_DIR).log; exit 1)
	touch $@

clean:
	rm -rf build $(STAMP_BUILD)
