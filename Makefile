# lb: a local AWS Application Load Balancer.
#
#   make          build ./lb (optimized, -Wall -Wextra -Werror)
#   make run      build and serve the demo (config/lb.yaml) on http://127.0.0.1:8080
#   make test     build with ASan+UBSan into build/asan and run every test
#   make bench    lb against nginx and serverless-offline under wrk, Lambda path
#                 latency (BENCH_ARGS=--quick for a short run; see tests/bench/bench.py)
#   make fuzz     build the libFuzzer targets into build/fuzz (clang)
#                 (FUZZ_SECONDS=N: and run each for N seconds)
#   make soak     long checks: 10,000 idle connections, slow clients, crashing,
#                 hung and flooding functions, leaks (release ./lb)
#   make clean
#
# Every entry point first runs scripts/deps.sh, which installs missing Debian
# packages, so a fresh machine needs nothing else. Sanitized and test builds
# live in build/ and never replace ./lb.

CC ?= cc
PKGS := libevent_core libevent_pthreads jansson yaml-0.1 zlib libpcre2-8
PKGS += libevent_openssl libssl libcrypto
PKGS += libnghttp2
# libarchive (image functions) is loaded when first needed (src/lambda/archive_dl.h):
# only its headers are used at build time, so lb does not map it and its libraries.
LLHTTP_SRC := /usr/share/llhttp
LLHTTP_INC := /usr/share/include/llhttp

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))

WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -g -Isrc -I$(LLHTTP_INC) $(PKG_CFLAGS) -MMD -MP
RELEASE_CFLAGS := -O2 -flto=auto
ASAN_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LLHTTP_CFLAGS := -std=c11 -g -w -I$(LLHTTP_INC)

SRC := $(wildcard src/*.c src/*/*.c)
LIB_SRC := $(filter-out src/main.c,$(SRC))
LLHTTP_NAMES := api http llhttp
UNIT_SRC := $(wildcard tests/unit/test_*.c)

# The web console's files (src/console/assets/) become a C file built into lb.
ASSETS := $(sort $(wildcard src/console/assets/*))
GEN_SRC := build/gen/console/console_assets.c

REL_OBJ := $(SRC:src/%.c=build/release/%.o) $(LLHTTP_NAMES:%=build/release/llhttp/%.o) build/release/gen/console/console_assets.o
ASAN_LIB_OBJ := $(LIB_SRC:src/%.c=build/asan/%.o) $(LLHTTP_NAMES:%=build/asan/llhttp/%.o) build/asan/gen/console/console_assets.o
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)

.PHONY: all run test bench fuzz soak clean deps build-release build-test check-layers

all: deps
	@$(MAKE) --no-print-directory build-release

deps:
	@sh scripts/deps.sh

build-release: check-layers lb

lb: $(REL_OBJ)
	$(CC) $(RELEASE_CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

build/release/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(@D)
	$(CC) $(LLHTTP_CFLAGS) -O2 -c -o $@ $<

build/release/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(WARN) $(RELEASE_CFLAGS) -c -o $@ $<

$(GEN_SRC): $(ASSETS) scripts/embed_assets.py
	@mkdir -p $(@D)
	python3 scripts/embed_assets.py $@ $(ASSETS)

build/release/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(WARN) $(RELEASE_CFLAGS) -c -o $@ $<

build/asan/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(WARN) $(ASAN_CFLAGS) -c -o $@ $<

build/asan/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(@D)
	$(CC) $(LLHTTP_CFLAGS) -O1 -c -o $@ $<

build/asan/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(WARN) $(ASAN_CFLAGS) -c -o $@ $<

# Unit tests link against an archive so each pulls in only the modules it uses.
build/asan/liblb.a: $(ASAN_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

build/asan/lb: build/asan/main.o build/asan/liblb.a
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

build/asan/tests/%: tests/unit/%.c tests/unit/test.h build/asan/liblb.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(WARN) $(ASAN_CFLAGS) -Itests/unit -o $@ $< build/asan/liblb.a $(PKG_LIBS) -lm

build-test: check-layers build/asan/lb $(UNIT_BIN)

run: all
	@sh scripts/run-demo.sh

# Debian's Chromium, for the headless browser login against oidc-provider.
test: export LB_DEPS_EXTRA := chromium $(LB_DEPS_EXTRA)
test: deps
	@$(MAKE) --no-print-directory build-test
	@python3 tests/run.py --lb build/asan/lb --unit build/asan/tests

bench: all
	@python3 tests/bench/bench.py $(BENCH_ARGS)

soak: all
	@python3 tests/soak/soak.py

fuzz: deps
	@$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk

clean:
	rm -rf build lb

# DESIGN.md §12: the pure folders (base, config, alb) never include I/O:
# no libevent, llhttp, OpenSSL or nghttp2, and nothing from net/, lambda/,
# targets/ or the orchestration files above them.
PURE_DIRS := src/base src/config src/alb src/inspect
IO_INCLUDE := \#include *[<"](event2/|llhttp|openssl/|nghttp2/|net/|lambda/|targets/|console/|admin|router\.h|lb\.h|access_log\.h|explain\.h)

check-layers:
	@! grep -rnE '$(IO_INCLUDE)' $(PURE_DIRS) || { echo "a pure folder includes an I/O header (DESIGN.md §12)" >&2; exit 1; }

-include $(wildcard build/release/*.d build/release/*/*.d build/asan/*.d build/asan/*/*.d build/asan/tests/*.d build/*/gen/*/*.d)
