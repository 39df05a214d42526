# inbuilt: one GNU Makefile.  Overridable: CC, CFLAGS, PYTHON, PREFIX,
# DESTDIR, BUILD.  `make` builds the CLI (one for every CPython 3.10 to
# 3.13: it compiles the runtime library for each target on first use) and,
# as a check of the sources, the runtime library for PYTHON; `make check`
# runs every test; `make demo` shows the point of it all.  PYTHON is the
# default --python and the interpreter of the tests.

PYTHON ?= /usr/bin/python3.11
CC ?= cc
CXX ?= c++
CLANG ?= clang
CFLAGS ?= -O2 -g
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
PYTEST_ARGS ?=
CORPUS_ARGS ?=
FUZZ_SECONDS ?= 300

.DEFAULT_GOAL := all

WARN = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes
DEPFLAGS = -MMD -MP

# Facts about PYTHON, recorded once per PYTHON.
-include $(BUILD)/config.mk
$(BUILD)/config.mk: scripts/python-config.sh
	@mkdir -p $(BUILD)
	sh scripts/python-config.sh $(PYTHON) > $@.tmp && mv $@.tmp $@

COMMON_SRC = src/common/archive.c src/common/alloc.c src/common/checksum.c \
	src/common/modpath.c src/common/records.c src/common/seal.c
RUNTIME_SRC = $(wildcard src/runtime/*.c)
BUILDER_SRC = $(wildcard src/builder/*.c)

COMMON_OBJ = $(COMMON_SRC:src/%.c=$(BUILD)/obj/%.o)
RUNTIME_OBJ = $(RUNTIME_SRC:src/%.c=$(BUILD)/obj/%.o)
BUILDER_PY = $(wildcard src/builder/*.py)
BUILDER_OBJ = $(BUILDER_SRC:src/%.c=$(BUILD)/obj/%.o) \
	$(BUILDER_PY:src/builder/%.py=$(BUILD)/obj/gen/%_py.o) \
	$(BUILD)/obj/gen/loader_py.o $(BUILD)/obj/gen/runtime_files.o \
	$(BUILD)/obj/gen/inbuilt_h.o
# What the builder carries to compile the runtime for each target.
RUNTIME_FILES = $(sort $(RUNTIME_SRC) $(COMMON_SRC) \
	$(wildcard src/runtime/*.h src/common/*.h include/*.h))

BASE_CFLAGS = $(CFLAGS) $(WARN) $(DEPFLAGS) -std=gnu11 -fvisibility=hidden \
	-iquote include -iquote src/common -I$(PY_INCLUDE) -I$(PY_PLATINCLUDE)

# What the builder knows when it is built: its compilers, the flags it
# compiles the runtime with, the default --python.  All else about a
# target it asks the target's interpreter (target.c).
BUILDER_DEFS = -DINB_DEFAULT_PYTHON='"$(PY_EXE)"' \
	-DINB_CC='"$(CC)"' -DINB_CXX='"$(CXX)"' -DINB_RT_CFLAGS='"$(CFLAGS)"'

.PHONY: all check check-unit check-fuzz check-e2e check-numpy demo bench bench-full \
	bench-node \
	fuzz bench-pynamic cpython-source check-fetch-source \
	install \
	clean deps format

all: $(BUILD)/inbuilt $(BUILD)/libinbuilt-rt.a

$(BUILD)/obj/common/%.o: src/common/%.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -c $< -o $@
$(BUILD)/obj/runtime/%.o: src/runtime/%.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -iquote src/runtime -c $< -o $@
$(BUILD)/obj/builder/%.o: src/builder/%.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -iquote src/builder $(BUILDER_DEFS) -c $< -o $@

# Python the builder carries as text: the runtime's half, which it compiles
# into every archive, and the script it runs with the target interpreter.
define py_to_c
	@mkdir -p $(@D)
	{ echo '#include <stddef.h>'; \
	  echo 'const char $(1)[] = {'; \
	  od -An -v -tx1 $< | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0};'; \
	  echo 'const size_t $(1)_len = sizeof($(1)) - 1;'; \
	} > $@.tmp && mv $@.tmp $@
endef
$(BUILD)/gen/loader_py.c: src/runtime/loader.py
	$(call py_to_c,inb_loader_py)
# src/builder/X.py becomes inb_X_py (deps, compile, cpysource, lint, ...).
$(BUILD)/gen/%_py.c: src/builder/%.py
	$(call py_to_c,inb_$*_py)
.PRECIOUS: $(BUILD)/gen/%_py.c
$(BUILD)/gen/runtime_files.c: $(RUNTIME_FILES) scripts/embed-sources.sh
	@mkdir -p $(@D)
	sh scripts/embed-sources.sh $(RUNTIME_FILES) > $@.tmp && mv $@.tmp $@
# The public header, which `build --library` writes beside a library.
$(BUILD)/gen/inbuilt_h.c: include/inbuilt.h
	$(call py_to_c,inb_header_h)
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -iquote src/builder -iquote src/common -c $< -o $@

$(BUILD)/libinbuilt-rt.a: $(RUNTIME_OBJ) $(COMMON_OBJ)
	rm -f $@ && ar rcs $@ $^

# The builder links no libpython: each target's interpreter compiles its
# bytecode (compile.c).  It carries the runtime's objects that need no
# CPython header, which a first stage without them compiles as it would
# for any target (runtime.c), so that a first build compiles only the rest.
$(BUILD)/inbuilt: $(BUILDER_OBJ) $(COMMON_OBJ) $(BUILD)/obj/gen/runtime_objects.o
	$(CC) -o $@ $^ -lelf -lz -lcrypto
$(BUILD)/inbuilt-stage1: $(BUILDER_OBJ) $(COMMON_OBJ) \
		$(BUILD)/obj/gen/no_runtime_objects.o
	$(CC) -o $@ $^ -lelf -lz -lcrypto
$(BUILD)/gen/no_runtime_objects.c:
	@mkdir -p $(@D)
	printf '%s\n' '#include <stddef.h>' '#include "runtime.h"' \
	  'const struct inb_runtime_file inb_runtime_objects[] = {{NULL, NULL, 0}};' \
	  'const char inb_runtime_objects_key[] = "";' > $@
$(BUILD)/gen/runtime_objects.c: $(RUNTIME_FILES) $(BUILD)/obj/builder/runtime.o \
		| $(BUILD)/inbuilt-stage1
	$(BUILD)/inbuilt-stage1 runtime-objects $@.tmp && mv $@.tmp $@

# Unit tests: pure-C modules with sanitizers and assertions on.
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
$(BUILD)/tests/test_%: tests/unit/test_%.c $(COMMON_SRC) src/common/*.h
	@mkdir -p $(@D)
	$(CC) -O1 -g -UNDEBUG $(WARN) -std=gnu11 $(SAN) -Isrc/common -o $@ \
		$< $(COMMON_SRC) -lcmocka

# The checksum against the Debian library it takes its code from.
$(BUILD)/tests/test_checksum: tests/unit/test_checksum.c $(COMMON_SRC) \
		src/common/*.h
	@mkdir -p $(@D)
	$(CC) -O1 -g -UNDEBUG $(WARN) -std=gnu11 $(SAN) -Isrc/common -o $@ \
		$< $(COMMON_SRC) -lcmocka -lxxhash

# memso.c, shareso.c, holder.c and archpages.c are pure C (no Python): tested on their
# own, with real libraries and a real holder process.
MEMSO_SRC = src/runtime/memso.c src/runtime/shareso.c src/runtime/holder.c \
	src/runtime/archpages.c
$(BUILD)/tests/test_memso $(BUILD)/tests/test_shareso: $(BUILD)/tests/test_%: \
		tests/unit/test_%.c $(MEMSO_SRC) $(MEMSO_SRC:.c=.h) $(COMMON_SRC) \
		src/common/*.h
	@mkdir -p $(@D)
	$(CC) -O1 -g -UNDEBUG $(WARN) -std=gnu11 $(SAN) -Isrc/common \
		-Isrc/runtime -o $@ $< $(MEMSO_SRC) $(COMMON_SRC) -lcmocka -ldl

# vpath.c is pure C too: tested on an archive the writer makes.
$(BUILD)/tests/test_vpath: tests/unit/test_vpath.c src/runtime/vpath.c \
		src/runtime/vpath.h $(COMMON_SRC) src/common/*.h
	@mkdir -p $(@D)
	$(CC) -O1 -g -UNDEBUG $(WARN) -std=gnu11 $(SAN) -Isrc/common \
		-Isrc/runtime -o $@ $< src/runtime/vpath.c $(COMMON_SRC) \
		-lcmocka -lz

FUZZ_BIN = $(BUILD)/tests/fuzz_archive
$(FUZZ_BIN): tests/fuzz/fuzz_archive.c $(COMMON_SRC) src/common/*.h
	@mkdir -p $(@D)
	$(CLANG) -O1 -g -UNDEBUG -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Isrc/common -o $@ $< $(COMMON_SRC)

deps:
	@sh scripts/install-deps

check: deps
	@$(MAKE) --no-print-directory check-fetch-source
	@$(MAKE) --no-print-directory check-unit check-fuzz check-e2e check-mdsfs \
		check-cpython-quick

check-unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

check-fuzz: $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz-corpus
	$(FUZZ_BIN) -max_total_time=20 -max_len=4096 $(BUILD)/fuzz-corpus \
		tests/fuzz/corpus

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz-corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz-corpus \
		tests/fuzz/corpus

# A command runner that denies memfd_create, for the cache fall-back test.
$(BUILD)/tests/nomemfd: tests/tools/nomemfd.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -o $@ $< -lseccomp

check-e2e: all $(BUILD)/tests/nomemfd
	INBUILT=$(abspath $(BUILD)/inbuilt) PYTHON_TARGET=$(PY_EXE) \
		NOMEMFD=$(abspath $(BUILD)/tests/nomemfd) \
		$(PY_EXE) -m pytest -q tests/e2e $(PYTEST_ARGS)

# bench/mdsfs: a FUSE filesystem simulating one contended metadata server.
MDSFS_SRC = $(wildcard bench/mdsfs/*.c)
$(BUILD)/mdsfs: $(MDSFS_SRC) $(wildcard bench/mdsfs/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -std=gnu11 $$(pkg-config --cflags fuse3) \
		-o $@ $(MDSFS_SRC) $$(pkg-config --libs fuse3)

.PHONY: check-mdsfs
check-mdsfs: $(BUILD)/mdsfs
	MDSFS=$(abspath $(BUILD)/mdsfs) $(PY_EXE) -m pytest -q tests/mdsfs \
		$(PYTEST_ARGS)

# CPython's regression tests (from libpython3.X-testsuite, on disk) run by an
# executable with the stdlib in memory, against stock python3, test by test.
.PHONY: check-cpython check-cpython-quick check-cpython-full
check-cpython: deps
	@$(MAKE) --no-print-directory all
	$(PY_EXE) tests/cpython_suite.py --python $(PY_EXE) $(BUILD)
# Every module of the test package, two runs at a time (long; resumes from
# $(BUILD)/cpython-full/results.jsonl, CPYTHON_FULL_ARGS=--fresh starts over).
check-cpython-full: deps
	@$(MAKE) --no-print-directory all
	nice $(PY_EXE) tests/cpython_suite.py --python $(PY_EXE) --full -j 2 \
		$(BUILD) $(CPYTHON_FULL_ARGS)
check-cpython-quick: all
	$(PY_EXE) tests/cpython_suite.py --python $(PY_EXE) --quick $(BUILD)

# Every distribution installed for Debian's python3 and pyenv's 3.11.7,
# built into an executable and imported against stock (tests/corpus.py;
# long: about a minute per distribution on a loaded machine).
.PHONY: check-corpus
check-corpus: deps
	@$(MAKE) --no-print-directory all
	nice $(PY_EXE) tests/corpus.py $(BUILD) $(CORPUS_ARGS)

# numpy's whole test suite inside an executable against stock python3.
check-numpy: deps
	@$(MAKE) --no-print-directory all
	$(PY_EXE) tests/numpy_suite.py $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/mdsfs
	@sh bench/run.sh $(BUILD)
	$(PY_EXE) bench/rebuild.py $(BUILD)
	$(PY_EXE) bench/embed.py --build-dir $(BUILD)
	$(PY_EXE) bench/storm.py --quick --build-dir $(BUILD) \
		--npy $(abspath $(BUILD)/bench/npy) \
		--csv $(BUILD)/bench/storm.csv

# All of issue 6's storm (every setup, workload, launcher, N and M; long):
# the table goes to storm-full.md, the plot to storm.png.
bench-full: deps
	@$(MAKE) --no-print-directory all $(BUILD)/mdsfs
	@mkdir -p $(BUILD)/bench
	$(PY_EXE) bench/storm.py --build-dir $(BUILD) \
		--csv $(BUILD)/bench/storm-full.csv > $(BUILD)/bench/storm-full.md
	/usr/bin/python3 bench/storm_plot.py $(BUILD)/bench/storm-full.csv \
		$(BUILD)/bench/storm.png
	@cat $(BUILD)/bench/storm-full.md

# The storm's target point with per-node memory, 16 and 64 processes per
# node over 4 nodes (stock, inbuilt and its memory mode; mpirun; root), and
# the projection to many nodes from it (bench/storm_model.py): about 15
# minutes on 2 cores; memory mode's 256 processes hold about 10 GB at once.
bench-node: deps
	@$(MAKE) --no-print-directory all $(BUILD)/mdsfs
	@mkdir -p $(BUILD)/bench
	$(PY_EXE) bench/storm.py --build-dir $(BUILD) --setups stock inbuilt \
		inbuilt-memory --n 64 256 --m 4 --launchers mpirun \
		--workloads numpy --memory --node-netns \
		--csv $(BUILD)/bench/storm-node.csv > $(BUILD)/bench/storm-node.md
	$(PY_EXE) bench/storm_model.py $(BUILD)/bench/storm-node.csv \
		>> $(BUILD)/bench/storm-node.md
	@cat $(BUILD)/bench/storm-node.md

# N = 100 and 500 generated extension modules, built in against stock .so
# files (bench/pynamic.py; minutes: compiling 600 modules).
bench-pynamic: deps
	@$(MAKE) --no-print-directory all
	$(PY_EXE) bench/pynamic.py --build-dir $(BUILD) --n 100 --n 500

# Debian's source of the target CPython, for --cpython-source and its test
# (tests/e2e/test_cpython_source.py): scripts/cpython-source adds deb-src
# entries derived from apt's own sources when there are none, and takes the
# first source version the archive serves.  `make check` fetches it too
# (once: about 26 MB, seconds); where it cannot be had (not Debian's
# python, no network) it says why and the test skips.
cpython-source:
	sh scripts/cpython-source $(PY_EXE) $(abspath $(BUILD)/cpython-source)

check-fetch-source:
	@sh scripts/cpython-source $(PY_EXE) \
		$(abspath $(BUILD)/cpython-source) >/dev/null || \
		echo "(the --cpython-source test will skip)"

# One file: the builder carries the runtime's sources.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/inbuilt $(DESTDIR)$(PREFIX)/bin/inbuilt

format:
	clang-format -i src/*/*.[ch] include/*.h tests/unit/*.c tests/fuzz/*.c

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/obj/*/*.d)
