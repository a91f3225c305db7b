# spinla: `make demo` runs the main job on the emulator; `make test` runs the test suite.
# Both set themselves up (virtualenv, install, C build) on a fresh clone.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SHARED_DATA := $(abspath ../shared/datasets)
export SPINLA_DATA ?= $(if $(wildcard $(SHARED_DATA)/mnist),$(SHARED_DATA),)

ARM_CC    ?= arm-none-eabi-gcc
ARM_SIZE  ?= arm-none-eabi-size
# -Os: kernel code must fit the 32 KB ITCM next to the runtime (spinla/armimage.py); the hot
# functions are built for speed by SPL_HOT (spinla_c/spl_dsp.h).
ARM_FLAGS := -std=c99 -mcpu=arm968e-s -marm -Os -ffreestanding -fno-builtin -nostdlib \
             -fno-tree-loop-distribute-patterns \
             -Wall -Wextra -Werror -Ispinla_c
ARM_OUT   := arm-build
KERNELS   := $(wildcard spinla_c/*.c)

.PHONY: all install build test test-all demo arm arm-harness aarch64-harness arm-image bench bench-accuracy clean array-api

all: test

$(STAMP): pyproject.toml setup.py spinla/_build.py $(KERNELS) $(wildcard spinla_c/*.h spinla_c/host/*)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,keras]'
	touch $(STAMP)

install: $(STAMP)

# Rebuild the C extension in place after editing spinla_c/ (install does it the first time).
build: $(STAMP)
	$(PY) setup.py -q build_ext --inplace 2>&1 | grep -v -i warn || true

test: $(STAMP)
	@if [ -z "$$SPINLA_DATA" ]; then echo "note: ../shared/datasets/mnist not found and SPINLA_DATA unset: tests that need MNIST will be skipped"; fi
	@command -v $(ARM_CC) >/dev/null || echo "note: $(ARM_CC) not installed: the ARM build, qemu bit-exactness, cycle-model and ITCM tests are skipped (apt-get install gcc-arm-none-eabi)"
	@command -v qemu-arm >/dev/null || echo "note: qemu-arm not installed: the qemu bit-exactness and cycle-model tests are skipped (apt-get install qemu-user)"
	@command -v aarch64-linux-gnu-gcc >/dev/null || echo "note: aarch64-linux-gnu-gcc not installed: the NEON bit-exactness tests are skipped (apt-get install gcc-aarch64-linux-gnu)"
	$(PY) -m pytest -q -rs

# Everything, the slow tests too.
test-all: $(STAMP)
	$(PY) -m pytest -q -rs -m ''

demo: $(STAMP)
	$(PY) -m spinla.demo

# Cross-compile every kernel for the ARM968E-S, freestanding, and print each object's code and
# table sizes.
arm:
	@command -v $(ARM_CC) >/dev/null || { echo "$(ARM_CC) not found: apt-get install gcc-arm-none-eabi"; exit 1; }
	@mkdir -p $(ARM_OUT)
	@for f in $(KERNELS); do \
	  o=$(ARM_OUT)/$$(basename $${f%.c}).o; \
	  $(ARM_CC) $(ARM_FLAGS) -c $$f -o $$o || exit 1; \
	done
	@# Freestanding means no libc: only our own symbols and libgcc's helpers may be undefined.
	@bad=$$(arm-none-eabi-nm -u $(ARM_OUT)/*.o | awk '$$1=="U"{print $$2}' | grep -v -E '^(arm_|spl_|__aeabi_|__gnu_)' | sort -u); \
	if [ -n "$$bad" ]; then echo "kernels call symbols outside spinla and libgcc: $$bad"; exit 1; fi
	@# .text (code) and .rodata (tables) apart: `size`'s text column adds them together.
	@printf "%-28s %8s %8s %8s\n" object .text .rodata data+bss
	@for o in $(ARM_OUT)/*.o; do $(ARM_SIZE) -A $$o | awk -v o=$$(basename $$o) \
	  '$$1 ~ /^\.text/ {t+=$$2} $$1 ~ /^\.rodata/ {r+=$$2} $$1 ~ /^\.(data|bss)/ {d+=$$2} \
	   END {printf "%-28s %8d %8d %8d\n", o, t, r, d}'; done | tee $(ARM_OUT)/sizes.txt
	@awk '{t+=$$2; r+=$$3} END {printf "%-28s %8d %8d   (ITCM is 32768 bytes; a core links only the kernels its Program calls: make arm-image)\n","total",t,r}' $(ARM_OUT)/sizes.txt

# The qemu test harness (spinla_c/arm/): every kernel plus a freestanding _start that serves
# requests on stdin (layout: spinla_c/arm/harness.h), linked with libgcc only.  Objects are built
# with -ffunction-sections so per-core images (spinla/armimage.py) link only what they call.
ARM_HX_DIR := $(ARM_OUT)/harness
ARM_HX_ELF := $(ARM_OUT)/spinla-harness.elf
ARM_HX_SRC := $(KERNELS) spinla_c/arm/dispatch.c spinla_c/arm/start.c
ARM_HX_OBJ := $(patsubst %.c,$(ARM_HX_DIR)/%.o,$(notdir $(ARM_HX_SRC)))
arm-harness: $(ARM_HX_ELF)
$(ARM_HX_DIR)/%.o: spinla_c/%.c $(wildcard spinla_c/*.h)
	@command -v $(ARM_CC) >/dev/null || { echo "$(ARM_CC) not found: apt-get install gcc-arm-none-eabi"; exit 1; }
	@mkdir -p $(ARM_HX_DIR)
	$(ARM_CC) $(ARM_FLAGS) -ffunction-sections -fdata-sections -c $< -o $@
$(ARM_HX_DIR)/%.o: spinla_c/arm/%.c spinla_c/arm/harness.h $(wildcard spinla_c/*.h)
	@mkdir -p $(ARM_HX_DIR)
	$(ARM_CC) $(ARM_FLAGS) -ffunction-sections -fdata-sections -c $< -o $@
$(ARM_HX_ELF): $(ARM_HX_OBJ)
	$(ARM_CC) -mcpu=arm968e-s -marm -nostdlib -static -Wl,-e,_start -Wl,--gc-sections $^ -lgcc -o $@

# The host NEON path (spinla_c/host/*_neon.inc) against the portable C, both under qemu-aarch64
# (tests/test_gemm_neon.py): every kernel, dispatch.c and start.c's aarch64 _start,
# freestanding, built twice from the same sources: the NEON build and -DSPL_PORTABLE.
A64_CC    ?= aarch64-linux-gnu-gcc
A64_FLAGS := -std=c99 -O2 -ffreestanding -fno-builtin -nostdlib -static \
             -fno-tree-loop-distribute-patterns -Wall -Ispinla_c -Ispinla_c/arm
A64_SRC   := $(KERNELS) spinla_c/arm/dispatch.c spinla_c/arm/start.c
A64_DEPS  := $(A64_SRC) $(wildcard spinla_c/*.h spinla_c/arm/*.h spinla_c/host/*.inc)
aarch64-harness: $(ARM_OUT)/spinla-harness-a64-neon.elf $(ARM_OUT)/spinla-harness-a64-portable.elf
$(ARM_OUT)/spinla-harness-a64-neon.elf: $(A64_DEPS)
	@command -v $(A64_CC) >/dev/null || { echo "$(A64_CC) not found: apt-get install gcc-aarch64-linux-gnu"; exit 1; }
	@mkdir -p $(ARM_OUT)
	$(A64_CC) $(A64_FLAGS) -Wl,-e,_start $(A64_SRC) -lgcc -o $@
$(ARM_OUT)/spinla-harness-a64-portable.elf: $(A64_DEPS)
	@command -v $(A64_CC) >/dev/null || { echo "$(A64_CC) not found: apt-get install gcc-aarch64-linux-gnu"; exit 1; }
	@mkdir -p $(ARM_OUT)
	$(A64_CC) $(A64_FLAGS) -DSPL_PORTABLE -Wl,-e,_start $(A64_SRC) -lgcc -o $@

# One core's image: only the named kernels (registered names), .text and .rodata apart, e.g.
#   make arm-image IMAGE="gemm_q15 adam_q15"   or   make arm-image NETWORK=lenet5
arm-image: $(ARM_HX_ELF) $(STAMP)
	$(PY) -m spinla.armimage $(IMAGE) $(if $(NETWORK),--network $(NETWORK))

# Benchmarks (not tests): results land in bench/results/*.json with the command that made them.
# PyTorch is the CPU float32 baseline; 2.13.0 is the version measured (CPU wheel).
BENCH_STAMP := $(VENV)/.bench
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q torch==2.13.0 matplotlib
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) bench/kernels.py
	$(PY) bench/train_speed.py
	$(PY) bench/plot.py

# Hours on a 2-core host: trains all six networks to convergence, in fixed point and float32.
bench-accuracy: $(BENCH_STAMP)
	$(PY) bench/accuracy.py
	$(PY) bench/plot.py

# The Array API standard's own test suite (../shared/array-api-tests, never copied here) against
# spinla: pass/fail/skip counts per category (README, "Array API conformance").  Few hypothesis
# examples and a fixed seed keep it to a few minutes on 2 cores and repeatable.
ARRAY_API_EXAMPLES ?= 100
ARRAY_API_STAMP := $(VENV)/.array-api
$(ARRAY_API_STAMP): $(STAMP)
	$(PY) -m pip install -q 'ndindex>=1.8' pytest-json-report
	touch $(ARRAY_API_STAMP)

array-api: $(ARRAY_API_STAMP)
	$(PY) tools/array_api_suite.py --max-examples $(ARRAY_API_EXAMPLES)

clean:
	rm -rf $(VENV) build $(ARM_OUT) *.egg-info spinla/_kernels*.so .pytest_cache .hypothesis
