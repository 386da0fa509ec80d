# ts toolkit — see README.md.  `make` builds bin/; `make check` runs every
# test but the slow ones (tagged `# bats test_tags=slow`), which
# `make check-long` runs; `make demo` runs a pipeline on the bundled samples.
# Every target first runs scripts/setup (once per change of the script) so a
# fresh Debian machine needs nothing else.

VERSION   = 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
O        ?= build
BINDIR   ?= bin

PROGS    = ts-decompress ts-extract ts-partition ts-validate ts-diff ts-put
PKGS     = jansson zlib libcurl openssl libarchive libdeflate liblzma libzstd sqlite3 snappy

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wvla -Wwrite-strings -Wformat-security \
            -Wno-override-init
STD       = -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
# pkg-config runs when a recipe needs the flags, after scripts/setup: a
# library it cannot find stops the build, with pkg-config's own message.
PKG_CHECK = $(if $(shell pkg-config --print-errors --exists $(PKGS) && echo ok),,\
              $(error pkg-config cannot find all of: $(PKGS)))
PKG_CFLAGS = $(PKG_CHECK)$(shell pkg-config --cflags $(PKGS))
ALL_CFLAGS = $(STD) $(WARN) $(CFLAGS) -Ilib -DTS_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
# bzip2 has no .pc file.
LIBS      = $(PKG_CHECK)$(shell pkg-config --libs $(PKGS)) -lbz2 -lm
# Nor has jq 1.6 (with oniguruma, its regex library).  Only what runs jq
# programs (lib/query) links them: oniguruma defines regcomp() and regexec()
# too, and would take the place of the C library's in ts-validate.
JQ_LIBS   = -ljq -lonig

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(O)/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BIN = $(FUZZ_SRC:tests/fuzz/%.c=$(O)/replay/%)
SETUP    = .setup.stamp

.PHONY: all setup check check-long unit bats replay demo bench asan fuzz \
	fuzz-smoke lint install clean
.DELETE_ON_ERROR:

all: $(SETUP) $(PROGS:%=$(BINDIR)/%)

$(SETUP): scripts/setup tests/package-lock.json
	scripts/setup
	@touch $@
setup: $(SETUP)

$(O)/%.o: %.c $(wildcard lib/*.h) | $(SETUP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/libts.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BINDIR)/%: $(O)/cmd/%.o $(O)/libts.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@
$(BINDIR)/ts-partition $(O)/replay/fuzz_query: LIBS += $(JQ_LIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(O)/libts.a
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

# Fuzz harnesses built with a plain main() that replays their corpus.
$(O)/replay/%: $(O)/tests/fuzz/%.o $(O)/tests/fuzz/replay_main.o $(O)/libts.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

check: all unit replay bats
check-long: all
	TS_BIN=$(abspath $(BINDIR)) bats $(BATS_FLAGS) --filter-tags slow tests/

unit: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do echo "unit: $$t"; $$t || exit 1; done

replay: $(REPLAY_BIN)
	@for t in $(REPLAY_BIN); do n=$$(basename $$t); \
	  $$t tests/fuzz/corpus/$${n#fuzz_} || exit 1; done

# Tests run two at a time (GNU parallel); a suite whose tests share a path or
# a port says so with BATS_NO_PARALLELIZE_WITHIN_FILE=true in setup_file.
JOBS       ?= 2
BATS_FLAGS ?= --jobs $(JOBS)
bats: all
	TS_BIN=$(abspath $(BINDIR)) bats $(BATS_FLAGS) --filter-tags '!slow' tests/

demo: all
	scripts/demo

bench: all
	scripts/setup --bench
	scripts/bench
	scripts/bench-partition
	scripts/bench-formats
	scripts/bench-validate
	scripts/bench-diff
	scripts/bench-put
	scripts/bench-parquet

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
asan: $(SETUP)
	$(MAKE) O=build/asan BINDIR=build/asan/bin CFLAGS="-O1 -g $(SAN)" \
	  LDFLAGS="$(SAN)" check

# libFuzzer harnesses (clang): libts built once with coverage, each harness
# linked against it.  Run one with e.g.
#   build/fuzz/fuzz_reader -max_total_time=60 DIR
# where DIR is a copy of tests/fuzz/corpus/reader (libFuzzer adds to it).
FZ          = build/fuzz
FUZZ_CC    ?= clang
FUZZ_SAN    = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = $(STD) $(WARN) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -Ilib \
              -DTS_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
FUZZ_BIN    = $(FUZZ_SRC:tests/fuzz/%.c=$(FZ)/%)
fuzz: $(SETUP) $(FUZZ_BIN)

$(FZ)/obj/%.o: %.c $(wildcard lib/*.h) tests/fuzz/fuzz.h | $(SETUP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FZ)/libts.a: $(LIB_SRC:%.c=$(FZ)/obj/%.o)
	rm -f $@ && ar rcs $@ $^

$(FZ)/fuzz_%: $(FZ)/obj/tests/fuzz/fuzz_%.o $(FZ)/libts.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ $(LIBS) -o $@
$(FZ)/fuzz_query: LIBS += $(JQ_LIBS)

# A short libFuzzer run of every harness on a copy of its corpus (CI):
# each must start (no abort on its first inputs) and run FUZZ_SECONDS.
FUZZ_SECONDS ?= 25
fuzz-smoke: fuzz
	tests/fuzz/smoke $(FZ) $(FUZZ_SECONDS) $(JOBS) $(FUZZ_BIN)

# shellcheck on the shell scripts (those under scripts/ with a #! line, CI's,
# the fuzz smoke runner) and the bats helpers; mandoc -Tlint on the man pages
# (warnings and errors fail; style notes do not).  The helpers define
# variables for the suites that load them (SC2034) and build printf escapes
# on purpose (SC2059).
lint: $(SETUP)
	shellcheck -x $$(grep -lE '^#!.*sh' scripts/* 2>/dev/null) .ci/run tests/fuzz/smoke
	shellcheck -x -e SC2034,SC2059 tests/*.bash
	mandoc -Tlint -Wwarning man/*.1 man/*.7

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(PROGS:%=$(BINDIR)/%) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(PROGS:%=man/%.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/ts-toolkit.7 $(DESTDIR)$(PREFIX)/share/man/man7/

clean:
	rm -rf build bin

.PRECIOUS: $(O)/%.o $(O)/tests/unit/%.o $(O)/tests/fuzz/%.o $(FZ)/obj/%.o
