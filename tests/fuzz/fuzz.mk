# libFuzzer targets for lb's parsers and converters (`make fuzz`).
#
#   build/fuzz/fuzz_desync      raw request heads → desync classification
#   build/fuzz/fuzz_alb_result  result documents → response or 502 reason
#   build/fuzz/fuzz_alb_event   request parts → the ALB event (must be valid JSON)
#   build/fuzz/fuzz_glob        pattern and text → ALB wildcard match
#   build/fuzz/fuzz_h2          HTTP/2 frames from a client → an h2_server session
#
# Run one: build/fuzz/fuzz_alb_result -max_total_time=60 tests/fuzz/corpus/alb_result
# fuzz_h2 starts best from the seeds of valid sessions (a new corpus dir first, so
# the seeds stay as committed): build/fuzz/fuzz_h2 -max_total_time=60 CORPUS tests/fuzz/seeds/h2
# Built with clang, ASan and UBSan, against every pure module of src/.

CLANG ?= clang
PKGS := libevent_core jansson yaml-0.1 zlib
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -I/usr/share/include/llhttp \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(shell pkg-config --cflags $(PKGS))
FUZZ_LIBS := $(shell pkg-config --libs $(PKGS)) -lm
# The pure layer (DESIGN.md §3): no sockets, no event loop.
PURE_SRC := $(wildcard src/base/*.c src/config/*.c src/alb/*.c) \
	src/lambda/layers.c src/lambda/layer_fs.c src/lambda/layer_zip.c
TARGETS := fuzz_desync fuzz_alb_result fuzz_alb_event fuzz_glob fuzz_h2

all: $(TARGETS:%=build/fuzz/%)

build/fuzz/%: tests/fuzz/%.c $(PURE_SRC)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(PURE_SRC) $(FUZZ_LIBS)

# The HTTP/2 session is I/O code: it links every module but main, llhttp, and the
# libraries of the serving process.
IO_PKGS := libevent_core libevent_openssl libssl libcrypto jansson yaml-0.1 zlib libnghttp2
IO_SRC := $(filter-out src/main.c,$(wildcard src/*.c src/*/*.c)) $(wildcard /usr/share/llhttp/*.c)

build/fuzz/fuzz_h2: tests/fuzz/fuzz_h2.c $(IO_SRC)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(shell pkg-config --cflags $(IO_PKGS)) -o $@ $< $(IO_SRC) \
		$(shell pkg-config --libs $(IO_PKGS)) -lm
