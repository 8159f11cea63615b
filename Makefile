# timonel — one non-recursive Makefile (see ../shared/STYLE.md "Build").
#
# Modules are the folders of src/. Each is built into its own archive, and a unit test in
# tests/unit/<module>/ links only the archives of that module and the ones below it, so that a
# module can be built and tested while another one is half-written.
#
#   make                 build/timonel
#   make test            deps + build + unit + fuzz corpus + e2e; ends with "N passed, N failed"
#   make test-unit       unit tests only (VALGRIND=1 to run them under valgrind)
#   make SAN=address,undefined ...   sanitizer build (use a separate BUILD=)
#   make fuzz            libFuzzer binaries (clang) in $(BUILD)/fuzz/
#   make bench           benchmark table

BUILD    ?= build

.DEFAULT_GOAL := all
CC       ?= cc
PKGS     := libh2o-evloop jansson yaml-0.1 sqlite3 libarchive libcurl openssl libseccomp libcap zlib
WARN     := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -Isrc \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lwslay -lpthread -lm
ifdef SAN
CFLAGS   += -fsanitize=$(SAN) -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SAN)
endif

# Module order, lowest first. DEPS_x: archives a binary of module x links, highest first.
MODULES        := common http api store apiserver client scheduler controllers kubelet cli cmd
DEPS_common    := common
DEPS_http      := http common
DEPS_api       := api common
DEPS_store     := store http api common
DEPS_apiserver := apiserver store http api common
DEPS_client    := client http api common
DEPS_scheduler := scheduler client http api common
DEPS_controllers := controllers client http api common
DEPS_kubelet   := kubelet client http api common
DEPS_cli       := cli kubelet controllers scheduler client apiserver store http api common
DEPS_cmd       := $(DEPS_cli)

define module_rules
SRC_$(1)  := $$(wildcard src/$(1)/*.c)
OBJ_$(1)  := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$(SRC_$(1)))
LIB_$(1)  := $(BUILD)/lib/lib$(1).a
$$(LIB_$(1)): $$(OBJ_$(1))
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

libs_of = $(foreach d,$(DEPS_$(1)),$(LIB_$(d)))

BIN := $(BUILD)/timonel
all: $(BIN)

$(BIN): $(OBJ_cmd) $(call libs_of,cmd)
	$(CC) $(LDFLAGS) -o $@ $(OBJ_cmd) -Wl,--start-group $(call libs_of,cli) -Wl,--end-group $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# ---- unit tests: tests/unit/<module>/test-<file>.c, one binary each ----
UNIT_SRC := $(wildcard tests/unit/*/test-*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
define unit_rule
$(BUILD)/tests/unit/$(1)/%: tests/unit/$(1)/%.c tests/unit/harness.h $$(call libs_of,$(1))
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -Itests/unit $$(LDFLAGS) -o $$@ $$< -Wl,--start-group $$(call libs_of,$(1)) -Wl,--end-group $$(LDLIBS)
endef
$(foreach m,$(MODULES),$(eval $(call unit_rule,$(m))))

# ---- fuzz drivers: tests/fuzz/fuzz-<target>.c; replay binaries (plain cc) run the corpus ----
FUZZ_SRC := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_REPLAY := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz-replay/%,$(FUZZ_SRC))
$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay-main.c $(call libs_of,cli)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay-main.c -Wl,--start-group $(call libs_of,cli) -Wl,--end-group $(LDLIBS)

FUZZ_BUILD ?= build-fuzz
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang SAN=fuzzer-no-link,address,undefined $(FUZZ_BUILD)/timonel
	@mkdir -p $(FUZZ_BUILD)/fuzz
	for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $(FUZZ_BUILD)/fuzz/$$n $$f \
	    -Wl,--start-group $(foreach d,$(DEPS_cli),$(FUZZ_BUILD)/lib/lib$(d).a) -Wl,--end-group $(LDLIBS) || exit 1; done

# ---- test entry points ----
deps:
	@scripts/deps.sh

test-unit: $(UNIT_BIN)
	@scripts/run-tests.sh unit $(UNIT_BIN)

test-fuzz-corpus: $(FUZZ_REPLAY)
	@scripts/run-tests.sh fuzz $(FUZZ_REPLAY)

test-e2e: $(BIN)
	@scripts/run-tests.sh e2e $(sort $(wildcard tests/e2e/[0-9]*.sh))

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(FUZZ_REPLAY)
	@scripts/run-tests.sh all $(UNIT_BIN) -- $(FUZZ_REPLAY) -- $(sort $(wildcard tests/e2e/[0-9]*.sh))

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-demo.sh

# ---- benchmark (not a test): bench/bench-api.c, a libcurl load generator ----
BENCH_BIN := $(BUILD)/bench/bench-api
$(BENCH_BIN): bench/bench-api.c $(call libs_of,store)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -Wl,--start-group $(call libs_of,store) -Wl,--end-group $(LDLIBS)

# control-plane scale benchmark (scripts/bench-scale.sh): fake nodes, Deployments, scheduler
BENCH_SCALE_BIN := $(BUILD)/bench/bench-scale
$(BENCH_SCALE_BIN): bench/bench-scale.c $(call libs_of,client)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -Wl,--start-group $(call libs_of,client) -Wl,--end-group $(LDLIBS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN) $(BENCH_SCALE_BIN)
	@BUILD=$(BUILD) scripts/bench.sh
	@BUILD=$(BUILD) bench/bench-pods.sh
	@BUILD=$(BUILD) bench/bench-api.sh
	@BUILD=$(BUILD) scripts/bench-scale.sh

bench-scale: deps
	@$(MAKE) --no-print-directory all $(BENCH_SCALE_BIN)
	@BUILD=$(BUILD) scripts/bench-scale.sh

format:
	clang-format -i $(wildcard src/*/*.[ch] tests/unit/*/*.c tests/fuzz/*.c)

check-format:
	clang-format --dry-run --Werror $(wildcard src/*/*.[ch] tests/unit/*/*.c tests/fuzz/*.c)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)

.PHONY: all deps test test-unit test-fuzz-corpus test-e2e run bench bench-scale fuzz format check-format clean
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
