# libFuzzer targets for every input lb reads (`make fuzz`).
#
#   build/fuzz/fuzz_h1          request and response streams → the same reading at every split
#   build/fuzz/fuzz_desync      raw request heads → desync classification
#   build/fuzz/fuzz_config      lb.yaml and rule files → a configuration or an error
#   build/fuzz/fuzz_invoke_api  Invoke API paths, headers and payloads → a target or AWS's error
#   build/fuzz/fuzz_alb_result  result documents → response or 502 reason
#   build/fuzz/fuzz_alb_event   request parts → the ALB event (must be valid JSON)
#   build/fuzz/fuzz_glob        pattern and text → ALB wildcard match
#   build/fuzz/fuzz_layer_zip   layer archives → extracted inside their directory, or an error
#   build/fuzz/fuzz_h2          HTTP/2 frames from a client → an h2_server session (I/O code: links all of lb)
#   build/fuzz/fuzz_aws_creds   ~/.aws credentials and config files → keys or a reason
#   build/fuzz/fuzz_auth_cookie session cookies and callback queries → a session, a state or -1
#   build/fuzz/fuzz_transform   regex, replace, target, host → regex check, compile, rewrite
#   build/fuzz/fuzz_jwt         bearer tokens and JWKS documents → a verdict or an error
#   build/fuzz/fuzz_redirect    redirect templates and request parts → a Location (no control byte) or a refusal
#   build/fuzz/fuzz_fwd_headers hostile X-Forwarded-* headers, every xff mode → the headers toward a target
#   build/fuzz/fuzz_sticky      stickiness cookie values → a target or none; set cookies decode back
#   build/fuzz/fuzz_stack       CloudFormation/SAM templates, Terraform state/plan JSON → a configuration or a positioned error
#   build/fuzz/fuzz_runtime_api requests from a runtime → the Runtime API (I/O code: includes runtime_api.c)
#
# `make fuzz` builds them; `make fuzz FUZZ_SECONDS=N [FUZZ_JOBS=J]` also runs
# each for N seconds, J at a time (tests/fuzz/run.sh), starting from its
# committed seeds in tests/fuzz/corpus/NAME (new inputs go to
# build/fuzz/corpus/NAME, crashes to build/fuzz/crash-NAME-*).
# Built with clang, ASan and UBSan, against the pure modules of src/ (an
# archive: each target links those it uses); each source is compiled once
# for all targets.

CLANG ?= clang
comma := ,
PKGS := libevent_core jansson yaml-0.1 zlib libpcre2-8
LLHTTP_SRC := /usr/share/llhttp
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -Itests/unit -I/usr/share/include/llhttp \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(shell pkg-config --cflags $(PKGS))
FUZZ_LIBS := $(shell pkg-config --libs $(PKGS)) -lm
# The pure layer (DESIGN.md §3): no sockets, no event loop.
PURE_SRC := $(wildcard src/base/*.c src/config/*.c src/alb/*.c) \
	src/lambda/layers.c src/lambda/layer_fs.c src/lambda/layer_zip.c src/lambda/tmp_dirs.c
# The HTTP/1 reader is socket-free but lives beside the server; it brings llhttp.
H1_SRC := src/net/h1_read.c $(LLHTTP_SRC)/api.c $(LLHTTP_SRC)/http.c $(LLHTTP_SRC)/llhttp.c
TARGETS := fuzz_h1 fuzz_desync fuzz_config fuzz_invoke_api fuzz_alb_result fuzz_alb_event fuzz_glob \
	fuzz_layer_zip fuzz_aws_creds fuzz_transform fuzz_jwt fuzz_h2 fuzz_auth_cookie fuzz_redirect \
	fuzz_fwd_headers fuzz_sticky fuzz_stack fuzz_runtime_api
FUZZ_SECONDS ?=
FUZZ_JOBS ?= 1

all: $(TARGETS:%=build/fuzz/%)
ifneq ($(FUZZ_SECONDS),)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(TARGETS)
endif

# The HTTP/2 session and the Runtime API are I/O code: they link the server
# side of net/ (HTTP/1, HTTP/2, TLS) over the pure modules, llhttp, and the
# libraries of the serving process.
IO_PKGS := libevent_core libevent_openssl libssl libcrypto jansson yaml-0.1 zlib libpcre2-8 libnghttp2
IO_SRC := $(addprefix src/net/,h2_server.c h2_stream.c h2_answer.c http_answer.c http_server.c \
	http_listener.c net.c tls.c tls_ca.c tls_mtls.c)
# fuzz_runtime_api includes runtime_api.c (to reach its private listener) and
# links the Extensions API it may route to.
RUNTIME_API_SRC := src/lambda/extensions.c src/lambda/telemetry.c

# Each source is compiled once, instrumented, into build/fuzz/obj; the
# targets link what they need.
OBJ := build/fuzz/obj
obj = $(patsubst %.c,$(OBJ)/%.o,$(patsubst $(LLHTTP_SRC)/%.c,$(OBJ)/llhttp/%.o,$(1)))
PURE_OBJ := $(call obj,$(PURE_SRC))
H1_OBJ := $(call obj,$(H1_SRC))
IO_OBJ := $(PURE_OBJ) $(H1_OBJ) $(call obj,$(IO_SRC))
OBJ_CFLAGS := $(subst -fsanitize=fuzzer$(comma),-fsanitize=fuzzer-no-link$(comma),$(FUZZ_CFLAGS)) \
	$(shell pkg-config --cflags $(IO_PKGS)) -MMD -MP

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(OBJ_CFLAGS) -c -o $@ $<

# A harness's checking code is not instrumented for coverage
# (tests/fuzz/uncovered.txt says why and which functions).
$(OBJ)/tests/fuzz/%.o: tests/fuzz/%.c tests/fuzz/uncovered.txt
	@mkdir -p $(@D)
	$(CLANG) $(OBJ_CFLAGS) -fsanitize-coverage-ignorelist=tests/fuzz/uncovered.txt -c -o $@ $<

# llhttp's generated C is not lb's: its warnings are not lb's to fix.
$(OBJ)/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(@D)
	$(CLANG) $(OBJ_CFLAGS) -w -c -o $@ $<

# A target links lb's objects from one archive, so it holds only the
# modules it references: libFuzzer clears and scans every coverage counter
# linked in at every execution, reached or not (all of src/ linked in made
# about 16,000 counters in each pure target; fuzz_sticky now has 1,200).
# A small saving per execution, not a large one.
$(OBJ)/lb.a: $(IO_OBJ) $(call obj,$(RUNTIME_API_SRC))
	@rm -f $@
	$(AR) rcs $@ $^

PURE_TARGETS := $(filter-out fuzz_h2 fuzz_runtime_api,$(TARGETS))

$(PURE_TARGETS:%=build/fuzz/%): build/fuzz/%: $(OBJ)/tests/fuzz/%.o $(OBJ)/lb.a
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ $(FUZZ_LIBS)

build/fuzz/fuzz_h2 build/fuzz/fuzz_runtime_api: build/fuzz/%: $(OBJ)/tests/fuzz/%.o $(OBJ)/lb.a
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ $(shell pkg-config --libs $(IO_PKGS)) -lm

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
