# kameng — build, run and test. `make demo` starts the shop with demo data; `make check` runs
# every test. WERROR=1 turns warnings into errors; SAN=1 builds with ASan+UBSan into build-san/.

PKGS     := libmicrohttpd jansson sqlite3 libpq libsodium libcurl libcrypto
CC       ?= cc
SAN      ?= 0
WERROR   ?= 0

ifeq ($(SAN),1)
BUILD    := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT      := -O1 -g
else
BUILD    := build
SANFLAGS :=
OPT      := -O2 -g
# jemalloc as the allocator (see README, Dependencies). Not under the sanitizers, which bring
# their own. Without it kameng still builds and runs, but its writer is slower: say so.
ALLOC_LIBS := $(shell pkg-config --libs jemalloc 2>/dev/null)
ifeq ($(ALLOC_LIBS),)
$(warning jemalloc not found: building with glibc's allocator (install libjemalloc-dev, or run scripts/deps.sh))
endif
endif

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wformat=2 -Wstrict-prototypes \
        -Wmissing-prototypes -Wvla -Wno-sign-conversion
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CPPFLAGS   += -D_GNU_SOURCE -Isrc -I$(BUILD)/gen
CFLAGS     += $(OPT) $(WARN) $(SANFLAGS) $(PKG_CFLAGS) -pthread -MMD -MP
LDLIBS     += $(PKG_LIBS) $(ALLOC_LIBS) -pthread -lm
LDFLAGS    += $(SANFLAGS)

LIB_SRC  := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
WEB_FILES := $(sort $(shell find web -maxdepth 1 -type f))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o $(BUILD)/gen/web_assets.o \
            $(BUILD)/gen/calendar_data.o
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
MIGRATIONS := $(sort $(wildcard src/store/migrations/*.sql))
PG_BASELINE := src/store/migrations/postgres/0020_baseline.sql

.PHONY: all deps demo run check unit e2e e2e-postgres browser check-san clean fmt bench fuzz

all: $(BUILD)/kameng

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Migrations are embedded in the binary as C strings, one per numbered file.
$(BUILD)/gen/migrations.c: $(MIGRATIONS) $(PG_BASELINE) scripts/embed-migrations.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-migrations.sh $(PG_BASELINE) $(MIGRATIONS) > $@

$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-overlength-strings -c $< -o $@

$(BUILD)/gen/web_assets.c: $(WEB_FILES) scripts/embed-web.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-web.sh $(WEB_FILES) > $@

$(BUILD)/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# The working-day calendar (holidays and 调休 days) travels inside the binary.
$(BUILD)/gen/calendar_data.c: data/cn-calendar.tsv scripts/embed-file.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-file.sh calendar_tsv $< > $@

$(BUILD)/gen/calendar_data.o: $(BUILD)/gen/calendar_data.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Made afresh: a source renamed or removed must not leave its old object in the archive.
$(BUILD)/libkameng.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/kameng: $(BUILD)/src/main.o $(BUILD)/libkameng.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# getaddrinfo goes through the tests' own (test_http_out_pipe.c): names that resolve to two
# addresses or to none, without a resolver; every other name passes through.
$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libkameng.a
	$(CC) $(LDFLAGS) -Wl,--wrap=getaddrinfo $^ $(LDLIBS) -lcriterion -o $@

# Install what is missing (Debian packages as root; npm packages from the lock file).
deps:
	@sh scripts/deps.sh

demo: deps
	$(MAKE) all
	sh scripts/demo.sh

run: demo

unit: $(BUILD)/unit-tests
	./$(BUILD)/unit-tests --jobs 2

# A test that hangs fails after five minutes instead of holding the run (the flag needs Node 20.11
# or later; an older Node runs without it).
NODE_TEST = node --test $(shell node --help 2>/dev/null | grep -q -- --test-timeout && echo --test-timeout=300000)

e2e: $(BUILD)/kameng
	KAMENG_BIN=$(CURDIR)/$(BUILD)/kameng $(NODE_TEST) --test-concurrency=2 tests/e2e/

# The end-to-end suite again with every shop on PostgreSQL, in a throwaway server
# (scripts/postgres-test.sh), less the files about SQLite's own file (backup and restore) and the
# order-view cache, which is off on PostgreSQL.
PG_E2E := $(filter-out tests/e2e/restore.test.mjs tests/e2e/restore_crash.test.mjs \
            tests/e2e/read_cache.test.mjs,$(sort $(wildcard tests/e2e/*.test.mjs)))

e2e-postgres: $(BUILD)/kameng
	@dir=$$(mktemp -d /tmp/kameng-pg-XXXXXX) && url=$$(sh scripts/postgres-test.sh start $$dir) && \
	KAMENG_TEST_POSTGRES="$$url" KAMENG_BIN=$(CURDIR)/$(BUILD)/kameng \
	    $(NODE_TEST) --test-concurrency=2 $(PG_E2E); rc=$$?; \
	sh scripts/postgres-test.sh stop $$dir; exit $$rc

# Pages in a real browser (Debian's Chromium driven by playwright-core); screenshots land in
# test-results/screenshots.
browser: $(BUILD)/kameng
	@if [ -d tests/browser ]; then KAMENG_BIN=$(CURDIR)/$(BUILD)/kameng $(NODE_TEST) --test-concurrency=1 tests/browser/; fi

check: deps
	$(MAKE) all unit e2e e2e-postgres browser
	npx --no-install redocly lint --format=stylish docs/openapi.yaml

check-san:
	$(MAKE) SAN=1 all unit e2e e2e-postgres
	sh tests/fuzz/run.sh 0

bench: all
	sh bench/run.sh

# libFuzzer under ASan+UBSan on the parsers of notes, checkpoints and proofs (FUZZ_SECONDS each).
FUZZ_SECONDS ?= 20
fuzz:
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

fmt:
	clang-format -i $(shell find src tests/unit -name '*.[ch]')

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
