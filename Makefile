# Iceshop build. `make` builds the debug flavour; FLAVOR=release|asan|profile selects another
# (profile: release with frame pointers, for perf).
# Objects go under build/<flavour>/. See README.md for the commands a user needs.

FLAVOR ?= debug
BUILD  := build/$(FLAVOR)
CC     ?= cc
PKGS   := libmicrohttpd jansson sqlite3 libpq libcurl libsodium libutf8proc zlib pangocairo libqrencode

WARN   := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -Wpointer-arith -Wcast-qual -Wformat=2 -Wvla -fno-common
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Isrc -I$(BUILD)/gen $(WARN) -fstack-protector-strong \
               -pthread -MMD -MP
ifeq ($(FLAVOR),release)
  CFLAGS_FLAVOR := -O2 -g -DNDEBUG
else ifeq ($(FLAVOR),profile)
  CFLAGS_FLAVOR := -O2 -g -DNDEBUG -fno-omit-frame-pointer
else ifeq ($(FLAVOR),asan)
  CFLAGS_FLAVOR := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
                   -fno-omit-frame-pointer
  LDFLAGS_FLAVOR := -fsanitize=address,undefined
else
  CFLAGS_FLAVOR := -O0 -g
endif

DEPS_OK := $(shell scripts/deps.sh build >&2 && echo yes)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  := $(CFLAGS_BASE) $(CFLAGS_FLAVOR) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS  := $(PKG_LIBS) -lstemmer -lm -pthread
LDFLAGS := $(LDFLAGS_FLAVOR)

SRC       := $(shell find src -name '*.c' ! -path src/main.c | sort)
SQL       := $(shell find src/db/sql -name '*.sql' | sort)
GEN_SRC   := $(BUILD)/gen/migrations_data.c
CORPUS    := data/understand/train.tsv data/understand/blind.tsv
OBJ       := $(SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations_data.o $(BUILD)/gen/understand_corpus.o
LIB       := $(BUILD)/libiceshop.a
BIN       := $(BUILD)/iceshop

UNIT_SRC  := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | sort)
UNIT_BIN  := $(UNIT_SRC:tests/%.c=$(BUILD)/tests/%)
SUPPORT_SRC := $(shell find tests/support -name '*.c' 2>/dev/null | sort)
SUPPORT_OBJ := $(SUPPORT_SRC:%.c=$(BUILD)/%.o)
INTEG_SRC := $(shell find tests/integration -name '*.c' 2>/dev/null | sort)
INTEG_BIN := $(INTEG_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(shell find bench -name '*.c' 2>/dev/null | sort)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all run test check unit integration asan bench loadtest attack fuzz lint format format-check clean deps \
        simulate

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

# The list of migration files, rewritten only when it changes, so removing or renaming one
# regenerates the embedded set as adding or editing one does.
SQL_LIST := $(BUILD)/gen/sql.list
$(shell mkdir -p $(BUILD)/gen && (echo '$(SQL)' | cmp -s - $(SQL_LIST) || echo '$(SQL)' > $(SQL_LIST)))

$(GEN_SRC): $(SQL) $(SQL_LIST) scripts/embed_sql.sh
	@mkdir -p $(@D)
	@echo "  GEN     $@"
	@scripts/embed_sql.sh $(SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/migrations_data.o: $(GEN_SRC)
	@$(CC) $(CFLAGS) -c $< -o $@

# The labelled understanding corpus, embedded; the model trains on its train split at first use.
$(BUILD)/gen/understand_corpus.c: $(CORPUS) scripts/embed_corpus.sh
	@mkdir -p $(@D)
	@echo "  GEN     $@"
	@scripts/embed_corpus.sh $(CORPUS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/understand_corpus.o: $(BUILD)/gen/understand_corpus.c
	@$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(LIB)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB) $(SUPPORT_OBJ)
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(SUPPORT_OBJ) $(LIB) $(LDLIBS) -lcmocka

$(BUILD)/tests/integration/%: tests/integration/%.c $(LIB) $(SUPPORT_OBJ)
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(SUPPORT_OBJ) $(LIB) $(LDLIBS) -lcmocka

$(BUILD)/tests/support/%.o: tests/support/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -Itests -c $< -o $@

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	@echo "  BENCH   $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The end-to-end bench drives the real server with the tests' fakes and SMTP sink.
E2E_SUPPORT := $(addprefix $(BUILD)/tests/support/,harness.o fake_http.o fake_stripe.o smtp_sink.o)
$(BUILD)/bench/bench_cert_e2e: bench/bench_cert_e2e.c $(LIB) $(E2E_SUPPORT)
	@mkdir -p $(@D)
	@echo "  BENCH   $@"
	@$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(E2E_SUPPORT) $(LIB) $(LDLIBS)

# POST /api/orders/{id}/payments against the fake Stripe, through the real server.
PAY_SUPPORT := $(addprefix $(BUILD)/tests/support/,harness.o fake_http.o fake_stripe.o)
$(BUILD)/bench/bench_pay_start: bench/bench_pay_start.c $(LIB) $(PAY_SUPPORT)
	@mkdir -p $(@D)
	@echo "  BENCH   $@"
	@$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(PAY_SUPPORT) $(LIB) $(LDLIBS)

# The pkg-config packages the server links, for scripts that build outside this Makefile.
print-pkgs:
	@echo $(PKGS)
.PHONY: print-pkgs

# Everything the test runner needs, for one flavour (the benchmarks too, so they cannot rot).
check-build: $(BIN) $(UNIT_BIN) $(INTEG_BIN) $(BENCH_BIN)
.PHONY: check-build

deps:
	scripts/deps.sh test

# Start the server on the embedded default (SQLite under ./var/).
run:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory FLAVOR=release all
	@scripts/run.sh build/release/iceshop

# The whole suite (unit + integration, SQLite and PostgreSQL) under ASan+UBSan.
test:
	@scripts/test.sh

unit integration:
	@scripts/test.sh --only $@

asan:
	@$(MAKE) --no-print-directory FLAVOR=asan check-build

bench:
	@scripts/bench.sh

# The hardening review's attack set against a fresh server: tried / refused / errors.
# Mixed, seed-shaped traffic for LOADTEST_SECONDS (60) against a release build; per-route figures.
loadtest:
	@scripts/loadtest.sh

attack:
	@scripts/attack.sh

# The A/B of the demo city with and without windows over 20 seeds (src/demo/sim.h).
simulate: $(BIN)
	@$(BIN) simulate --seeds 20 --days 7
	@echo
	@$(BIN) simulate --learn --seeds 20 --days 7 --sellers 40 --buyers 2000

fuzz:
	@scripts/fuzz.sh

lint:
	@scripts/lint.sh

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
