# postern - one plain GNU Makefile.  See README.md for the targets.

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc

WARN = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
       -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif
ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
endif
OPT ?= -O2 -g
# User CFLAGS extend ours; they never replace the warnings.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

LIBS_MIME = -lmagic
LIBS_IMAP = -lssl -lcrypto -lz
LIBS_CLI = -lcrypto
LIBS_REPL = -lreadline -lmagic

# ---- modules ---------------------------------------------------------------
LIB_SRC  = $(wildcard lib/*.c)
MIME_SRC = $(wildcard mime/*.c)
IMAP_SRC = $(wildcard imap/*.c)
MAILDIR_SRC = $(wildcard maildir/*.c)
STORE_SRC = $(wildcard store/*.c)
REPL_SRC = $(wildcard repl/*.c)
CLI_SRC  = $(wildcard cli/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIB_OBJ  = $(call obj,$(LIB_SRC))
MIME_OBJ = $(call obj,$(MIME_SRC))
IMAP_OBJ = $(call obj,$(IMAP_SRC))
MAILDIR_OBJ = $(call obj,$(MAILDIR_SRC))
STORE_OBJ = $(call obj,$(STORE_SRC))
REPL_OBJ = $(call obj,$(REPL_SRC))
CLI_OBJ  = $(call obj,$(CLI_SRC))

# One test binary per source file, linking only its module and lib/.
TEST_LIB_SRC  = $(wildcard tests/lib/test_*.c)
TEST_MIME_SRC = $(wildcard tests/mime/test_*.c)
TEST_IMAP_SRC = $(wildcard tests/imap/test_*.c)
TEST_MAILDIR_SRC = $(wildcard tests/maildir/test_*.c)
# store/ tests run one suite against both back ends (a temp Maildir and a
# Dovecot the harness starts), so they link the harness too.
TEST_STORE_SRC = $(wildcard tests/store/test_*.c)
TEST_REPL_SRC = $(wildcard tests/repl/test_*.c)
# Integration tests talk to a real Dovecot the harness starts on 127.0.0.1.
TEST_INT_SRC  = $(wildcard tests/integration/test_*.c)
TEST_LIB_BIN  = $(patsubst %.c,$(BUILD)/%,$(TEST_LIB_SRC))
TEST_MIME_BIN = $(patsubst %.c,$(BUILD)/%,$(TEST_MIME_SRC))
TEST_IMAP_BIN = $(patsubst %.c,$(BUILD)/%,$(TEST_IMAP_SRC))
TEST_MAILDIR_BIN = $(patsubst %.c,$(BUILD)/%,$(TEST_MAILDIR_SRC))
TEST_STORE_BIN = $(patsubst %.c,$(BUILD)/%,$(TEST_STORE_SRC))
TEST_REPL_BIN = $(patsubst %.c,$(BUILD)/%,$(TEST_REPL_SRC))
TEST_INT_BIN  = $(patsubst %.c,$(BUILD)/%,$(TEST_INT_SRC))
TEST_BIN = $(TEST_LIB_BIN) $(TEST_MIME_BIN) $(TEST_IMAP_BIN) \
           $(TEST_MAILDIR_BIN) $(TEST_STORE_BIN) $(TEST_REPL_BIN) \
           $(TEST_INT_BIN)
# Script tests (Python, speaking TAP) drive the built binary named by
# $POSTERN: the CLI, the differential test against Python's email package.
SCRIPT_TESTS = $(wildcard tests/cli/test_*.py tests/diff/test_*.py \
                          tests/integration/test_*.py)

FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN = $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))

.PHONY: all deps check test asan fuzz fuzz-quick bench demo install clean \
        unit cli-tests diff-tests

all: postern

postern: $(BUILD)/postern
	@# a rename, so a ./postern still running (a test, a console) is no
	@# obstacle ("Text file busy")
	@if [ "$(BUILD)" = build ]; then cp $< $@.tmp && mv -f $@.tmp $@; fi

$(BUILD)/postern: $(CLI_OBJ) $(BUILD)/librepl.a $(BUILD)/libstore.a \
		$(BUILD)/libimap.a $(BUILD)/libmaildir.a $(BUILD)/libmime.a \
		$(BUILD)/libpn.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LIBS_REPL) $(LIBS_MIME) $(LIBS_IMAP) $(LIBS_CLI)

# Archives, so a test links only the objects it really uses.
$(BUILD)/libpn.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/libmime.a: $(MIME_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/libimap.a: $(IMAP_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/libmaildir.a: $(MAILDIR_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/libstore.a: $(STORE_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/librepl.a: $(REPL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/lib/%: tests/lib/%.c $(BUILD)/libpn.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.a,$^) $(ALL_LDFLAGS) -lcmocka

$(BUILD)/tests/mime/%: tests/mime/%.c $(BUILD)/libmime.a $(BUILD)/libpn.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.a,$^) $(ALL_LDFLAGS) -lcmocka $(LIBS_MIME)

$(BUILD)/tests/imap/%: tests/imap/%.c $(BUILD)/libimap.a $(BUILD)/libpn.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.a,$^) $(ALL_LDFLAGS) -lcmocka $(LIBS_IMAP)

$(BUILD)/tests/maildir/%: tests/maildir/%.c $(BUILD)/libmaildir.a $(BUILD)/libpn.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.a,$^) $(ALL_LDFLAGS) -lcmocka

$(BUILD)/tests/store/%: tests/store/%.c tests/integration/harness.c \
		$(BUILD)/libstore.a $(BUILD)/libimap.a $(BUILD)/libmaildir.a \
		$(BUILD)/libmime.a $(BUILD)/libpn.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.a,$^) $(ALL_LDFLAGS) -lcmocka $(LIBS_MIME) $(LIBS_IMAP)

$(BUILD)/tests/repl/%: tests/repl/%.c $(BUILD)/librepl.a $(BUILD)/libimap.a \
		$(BUILD)/libpn.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.a,$^) $(ALL_LDFLAGS) -lcmocka $(LIBS_REPL) $(LIBS_IMAP)

# tests/integration/harness.c starts and stops Dovecot for the C tests.
$(BUILD)/tests/integration/%: tests/integration/%.c tests/integration/harness.c \
		$(BUILD)/libimap.a $(BUILD)/libmaildir.a $(BUILD)/libpn.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.a,$^) $(ALL_LDFLAGS) -lcmocka $(LIBS_IMAP)

# ---- dependencies ----------------------------------------------------------
deps:
	@sh tools/deps.sh check

# ---- tests -----------------------------------------------------------------
# `check` is what CI runs: the packages, a warning-free build, every test,
# a short run of every fuzz target, then every test again under
# AddressSanitizer + UBSan (last, so its summary closes the output).
check: deps
	$(MAKE) test
	$(MAKE) fuzz-quick
	$(MAKE) asan

test: all $(TEST_BIN)
	@POSTERN=$(CURDIR)/$(BUILD)/postern sh tests/run.sh $(BUILD) \
		$(TEST_BIN) $(SCRIPT_TESTS)

asan:
	$(MAKE) BUILD=build-asan SAN=1 OPT="-O1 -g" build-asan/postern \
		$(patsubst $(BUILD)/%,build-asan/%,$(TEST_BIN))
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 POSTERN=$(CURDIR)/build-asan/postern sh tests/run.sh build-asan \
		$(patsubst $(BUILD)/%,build-asan/%,$(TEST_BIN)) $(SCRIPT_TESTS)

# ---- fuzzing (clang libFuzzer) ---------------------------------------------
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(STORE_SRC) $(MIME_SRC) $(IMAP_SRC) $(MAILDIR_SRC) $(LIB_SRC)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(LIBS_MIME) $(LIBS_IMAP)

fuzz: $(FUZZ_BIN)
	@echo "fuzz targets built in build-fuzz/; run one with:"
	@echo "  build-fuzz/fuzz_mime_parser -dict=tests/fuzz/fuzz_mime_parser.dict build-fuzz/corpus-mime_parser"

# A short run of every target for make check (FUZZ_SECONDS each).
FUZZ_SECONDS ?= 60
fuzz-quick: $(FUZZ_BIN)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# ---- benchmarks and demo ---------------------------------------------------
bench: all
	@sh bench/run.sh

demo: deps all
	@sh tools/demo.sh

# ---- install ---------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/doc/postern
	install -m 755 postern $(DESTDIR)$(PREFIX)/bin/postern
	install -m 644 share/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 share/man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 share/postern.conf.sample share/VIOLATIONS.md \
		$(DESTDIR)$(PREFIX)/share/doc/postern/

clean:
	rm -rf build build-asan build-fuzz postern

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
