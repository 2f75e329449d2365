# noticed: build, test and demo.  GNU make and pkg-config; see README.md.
#
#   make                 build build/noticed and build/noticectl
#   make check           install what is missing (Debian, as root), build, run every test
#   make demo            install what is missing, build, run the daemon on the Twente case
#   make SANITIZE=1 ...  the same with AddressSanitizer and UndefinedBehaviorSanitizer
#   make CC=clang ...    any C11 compiler; warnings are errors with gcc and clang
#   make lint            install the tools (Debian, as root), then scan-build, cppcheck, clang-tidy
#   make compile_commands.json   for editors and clang-tidy: the exact compile commands

VERSION := 0.1.0

# Debian packages the build and the tests need; `make deps` installs the missing ones.
DEB_PACKAGES := make gcc libc6-dev pkg-config libconfig-dev libjansson-dev libsystemd-dev systemd \
	libsqlite3-dev libical-dev libssl-dev libcmocka-dev libcurl4-openssl-dev tzdata time python3 \
	python3-icalendar python3-aiosmtpd openssl
PKGS := libconfig jansson libsystemd sqlite3 libical libcrypto libcurl
TEST_PKGS := cmocka

ifeq ($(SANITIZE),1)
BUILD ?= build/sanitize
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD ?= build
endif

CFLAGS ?= -O2 -g
# Recursive (=) on purpose: pkg-config must run after `make deps` has installed the packages.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DNOTICED_VERSION='"$(VERSION)"' -Iinclude \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-MMD -MP $(SANITIZE_FLAGS) $(shell pkg-config --cflags $(PKGS)) $(CFLAGS)
ALL_LDFLAGS = $(SANITIZE_FLAGS) $(LDFLAGS)
LIBS = $(shell pkg-config --libs $(PKGS)) -lm
TEST_LIBS = $(shell pkg-config --libs $(TEST_PKGS))

# Every daemon/*.c but the two main()s is a library module.
LIB_MODULES := $(filter-out noticed noticectl,$(patsubst daemon/%.c,%,$(wildcard daemon/*.c)))
LIB_OBJS := $(LIB_MODULES:%=$(BUILD)/daemon/%.o)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test-*.c))
NOTICECTL := $(BUILD)/noticectl
NOTICED := $(BUILD)/noticed

.PHONY: all deps bench-deps check check-run demo demo-run bench clean format fuzz install
# Once made, compile_commands.json is kept current by every `make`.
all: $(NOTICED) $(NOTICECTL) $(if $(wildcard compile_commands.json),compile_commands.json)

# Everything in $(BUILD) depends on the compiler and flags that built it: `make CC=clang` after a
# gcc build rebuilds instead of linking gcc's objects.  The stamp is rewritten only when they
# change.  The targets that install packages first skip this (pkg-config may not work yet).
FLAGS_STAMP := $(BUILD)/.flags
ifeq ($(filter deps bench-deps check demo bench fuzz clean format lint lint-deps lint-run lint-scan \
	lint-cppcheck lint-tidy lint-tidy-files lint-pure lint-rules,$(MAKECMDGOALS)),)
BUILD_FLAGS = $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS)
ifneq ($(strip $(BUILD_FLAGS)),$(strip $(file <$(FLAGS_STAMP))))
$(shell mkdir -p $(BUILD))
$(file >$(FLAGS_STAMP),$(BUILD_FLAGS))
endif
endif

# The two compile commands, as functions of (object, source): the rules below and
# compile_commands.json both use them, so that an editor sees exactly the flags make uses.
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS))
compile_daemon = $(CC) $(ALL_CFLAGS) -c -o $(1) $(2)
compile_test = $(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -c -o $(1) $(2)

$(BUILD)/daemon/%.o: daemon/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call compile_daemon,$@,$<)

$(BUILD)/libnoticed.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(NOTICECTL): $(BUILD)/daemon/noticectl.o $(BUILD)/libnoticed.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(NOTICED): $(BUILD)/daemon/noticed.o $(BUILD)/libnoticed.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%.o: tests/unit/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call compile_test,$@,$<)

$(BUILD)/tests/test-%: $(BUILD)/tests/test-%.o $(BUILD)/libnoticed.a
	$(CC) $(ALL_LDFLAGS) $(TEST_WRAP) -o $@ $^ $(LIBS) $(TEST_LIBS)

# test-outbox makes the ledger's "sent" record fail on purpose: the one wrapped edge.  A
# variable of its own, so that `make LDFLAGS=...` cannot drop it.
$(BUILD)/tests/test-outbox: TEST_WRAP := -Wl,--wrap=ledger_mark_sent -Wl,--wrap=ledger_enqueue \
	-Wl,--wrap=ledger_queued_transports
# test-ledger makes a COMMIT fail (busy, a full disk) to see the error come back whole.
$(BUILD)/tests/test-ledger: TEST_WRAP := -Wl,--wrap=sqlite3_step
# test-secret looks at a secret's bytes as secret_done() frees them: free() passes through.
$(BUILD)/tests/test-secret: TEST_WRAP := -Wl,--wrap=free
# test-daemon makes secrets_load() fail without a message of its own (out of memory).
$(BUILD)/tests/test-daemon: TEST_WRAP := -Wl,--wrap=secrets_load
# test-local plays a mail reader that moves a message just as local_maildir_find() looks.
$(BUILD)/tests/test-local: TEST_WRAP := -Wl,--wrap=opendir
# test-transmit makes the Maildir search fail in the ways a file system will not on demand.
$(BUILD)/tests/test-transmit: TEST_WRAP := -Wl,--wrap=local_maildir_find

# compile_commands.json for editors (clangd) and clang-tidy: one entry per daemon/*.c and
# tests/unit/*.c with the command the rules above run, written by make itself from the same
# functions.  Rewritten only when its text changes (a new CC, CFLAGS or source file), so that
# an editor does not re-index for nothing; `make lint` refreshes it.
json_escape = $(subst ",\",$(subst \,\\,$(1)))
compdb_object = $(patsubst tests/unit/%.c,$(BUILD)/tests/%.o,$(1:daemon/%.c=$(BUILD)/daemon/%.o))
compdb_command = $(call $(if $(filter tests/unit/%,$(1)),compile_test,compile_daemon),$(call compdb_object,$(1)),$(1))
compdb_entry = { "directory": "$(call json_escape,$(CURDIR))", "file": "$(1)", \
	"command": "$(call json_escape,$(strip $(call compdb_command,$(1))))" }
COMPDB_SOURCES = $(sort $(wildcard daemon/*.c)) $(sort $(wildcard tests/unit/*.c))
define newline


endef
comma := ,
COMPDB_JSON = [$(subst } $(newline),}$(comma)$(newline),$(foreach s,$(COMPDB_SOURCES),$(newline)  $(call compdb_entry,$(s))))$(newline)]
.PHONY: compile_commands.json
compile_commands.json:
	$(file >$@.tmp,$(COMPDB_JSON))
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@ && echo "make: wrote $@"; fi

# Installs what is missing on Debian when run as root; elsewhere prints the command and stops.
# $(call install_missing,GOAL,PACKAGES,TEST): TEST (a command) decides where there is no dpkg.
define install_missing
@missing=""; \
if command -v dpkg-query >/dev/null 2>&1; then \
	for p in $(2); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q ' installed$$' || missing="$$missing $$p"; \
	done; \
else \
	$(3) >/dev/null 2>&1 || missing=" $(2)"; \
fi; \
[ -z "$$missing" ] && exit 0; \
if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	echo "make $(1): installing$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing; \
else \
	echo "make $(1): missing:$$missing"; \
	echo "install them first, e.g.: sudo apt-get install$$missing"; \
	exit 1; \
fi
endef

deps:
	$(call install_missing,deps,$(DEB_PACKAGES),pkg-config --exists $(PKGS) $(TEST_PKGS))

# The peers of tests/bench/deliver: postfix for smtp-sink and smtp-source, wrk, nginx.  The MTA
# and nginx must not start as services: while they install, /usr/sbin/policy-rc.d says
# `exit 101` (the one found there is put back afterwards).  Refuses when apt-get would remove
# anything (another MTA): that is a decision for the machine's owner, not for a benchmark.
BENCH_DEB_PACKAGES := postfix wrk nginx
bench-deps:
	@missing=""; \
	for p in $(BENCH_DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q ' installed$$' || missing="$$missing $$p"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
		echo "make bench-deps: missing:$$missing"; \
		echo "install them first, as root: make bench-deps (or write /usr/sbin/policy-rc.d saying"; \
		echo "'exit 101' so that no service starts, then apt-get install$$missing)"; \
		exit 1; \
	fi; \
	apt-get update -qq || exit 1; \
	removed=$$(apt-get install -s --no-install-recommends$$missing | sed -n 's/^Remv \([^ ]*\).*/\1/p'); \
	if [ -n "$$removed" ]; then \
		echo "make bench-deps: installing$$missing would remove:" $$removed "- not done"; \
		exit 1; \
	fi; \
	echo "make bench-deps: installing$$missing (services kept from starting)"; \
	guard=/usr/sbin/policy-rc.d; saved=$$(mktemp) || exit 1; had=0; \
	if [ -e $$guard ]; then cp -p $$guard $$saved && had=1; fi; \
	trap 'if [ $$had = 1 ]; then cp -p "$$saved" $$guard; else rm -f $$guard; fi; rm -f "$$saved"' EXIT; \
	printf '#!/bin/sh\n# make bench-deps: no service starts while packages install\nexit 101\n' > $$guard && \
	chmod 755 $$guard && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing

# -s: a build that succeeds prints nothing (warnings are errors), so that the output is the tests'.
check: deps
	@$(MAKE) -s --no-print-directory check-run

# The test programs, in this order: the unit tests (cmocka), then every tests/integration/*.sh
# and *.py but the helpers they share, so that a new integration test runs without a change here.
TEST_HELPERS := tests/integration/check-mail.py
INTEGRATION_TESTS = $(sort $(wildcard tests/integration/*.sh)) \
	$(filter-out $(TEST_HELPERS),$(sort $(wildcard tests/integration/*.py)))
TEST_LOGS := $(BUILD)/test-logs

# tests/run.py runs each with NOTICED_LOG_TARGET=console, its output in $(TEST_LOGS)/NAME.log,
# and prints one line per program; a failing program's log is printed whole.  Where the machine
# has a journal, it fails when the tests left an entry there (see tests/run.py).
check-run: $(NOTICED) $(NOTICECTL) $(UNIT_TESTS)
	@NOTICED=$(NOTICED) NOTICECTL=$(NOTICECTL) /usr/bin/python3 tests/run.py $(TEST_LOGS) \
		$(UNIT_TESTS) $(INTEGRATION_TESTS)

# The unit tests' objects are kept, so that make neither removes them after each check (and
# says so) nor compiles them all again the next time.
.SECONDARY: $(UNIT_TESTS:%=%.o)

demo: deps
	@$(MAKE) --no-print-directory demo-run

# The Twente case run by the real daemon, its dates moved to today (see scripts/demo.py).
demo-run: $(NOTICED) $(NOTICECTL)
	$(NOTICECTL) -c etc/noticed/noticed.conf check
	NOTICED=$(NOTICED) NOTICECTL=$(NOTICECTL) /usr/bin/python3 scripts/demo.py

bench: deps bench-deps
	@$(MAKE) --no-print-directory $(NOTICED) $(NOTICECTL)
	NOTICECTL=$(NOTICECTL) bash tests/bench/plan
	NOTICED=$(NOTICED) /usr/bin/python3 tests/bench/idle
	NOTICED=$(NOTICED) NOTICECTL=$(NOTICECTL) /usr/bin/python3 tests/bench/deliver

# make install [PREFIX=/usr/local] [DESTDIR=...]: binaries, man pages and the unit, whose
# ExecStart and ExecReload are rewritten to where noticed and noticectl went.  Then: systemctl
# daemon-reload.
PREFIX ?= /usr/local
UNITDIR ?= /etc/systemd/system
install: $(NOTICED) $(NOTICECTL)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(UNITDIR)
	install -m 0755 $(NOTICED) $(DESTDIR)$(PREFIX)/sbin/noticed
	install -m 0755 $(NOTICECTL) $(DESTDIR)$(PREFIX)/bin/noticectl
	install -m 0644 man/noticectl.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/noticed.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 man/noticed.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	sed -e 's|^ExecStart=/usr/local/sbin/noticed |ExecStart=$(PREFIX)/sbin/noticed |' \
		-e 's|^ExecReload=/usr/local/bin/noticectl |ExecReload=$(PREFIX)/bin/noticectl |' \
		systemd/noticed.service > $(DESTDIR)$(UNITDIR)/noticed.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/noticed.service
	@[ -e $(DESTDIR)/etc/noticed/noticed.conf ] || { install -d -m 0755 $(DESTDIR)/etc/noticed && \
		install -m 0644 etc/noticed/noticed.conf $(DESTDIR)/etc/noticed/noticed.conf; }

# make lint: static analysis; every finding is an error.  Each part runs to its end and prints
# what it found, so that one run shows everything; the last line names the parts that found
# something.  Parts can be run alone: make lint-scan, lint-cppcheck, lint-tidy, lint-pure,
# lint-rules (after make lint-deps).
#   lint-scan      scan-build (the clang analyzer) around a clean build of the library, both
#                  mains and the unit tests, in $(BUILD)/scan; HTML reports in $(BUILD)/scan/report
#   lint-cppcheck  cppcheck over daemon/ and tests/unit/
#   lint-tidy      clang-tidy over daemon/*.c with the checks in .clang-tidy, through
#                  compile_commands.json; one output per file in $(BUILD)/tidy
#   lint-pure      the pure modules stay pure (PURE_MODULES below)
#   lint-rules     mistakes that none of the tools knows (see there)
LINT_DEB_PACKAGES := clang clang-tools clang-tidy cppcheck
LINT_PARTS := lint-scan lint-cppcheck lint-tidy lint-pure lint-rules
.PHONY: lint lint-deps lint-run $(LINT_PARTS) lint-scan-targets lint-tidy-files

lint-deps:
	$(call install_missing,lint-deps,$(LINT_DEB_PACKAGES),\
		(for t in clang scan-build clang-tidy cppcheck; do command -v $$t || exit 1; done))

lint: deps lint-deps
	@$(MAKE) --no-print-directory lint-run

lint-run:
	@failed=""; \
	for part in $(LINT_PARTS); do \
		echo "== make $$part"; start=$$(date +%s); \
		$(MAKE) --no-print-directory $$part || failed="$$failed $$part"; \
		echo "== make $$part: $$(($$(date +%s) - start)) s"; \
	done; \
	if [ -n "$$failed" ]; then echo "make lint: findings from$$failed"; exit 1; fi; \
	echo "make lint: nothing found"

# scan-build sets CC to its analyzer for the command it runs; CC is passed on explicitly so that a
# CC=... given to make cannot override it in the inner make.  --use-cc is the real compiler.  The
# unit tests get scripts/scan-cmocka.h first, which tells the analyzer (only) that a failed
# cmocka assertion does not return.
#   -disable-checker unix.Malloc  clang 14's analyzer does not run __attribute__((cleanup))
#                   functions (macro.h's _cleanup_), so every _cleanup_ local reads as leaked on
#                   an early return; its cfg-scopes option that would see them also hides real
#                   leaks.  The same checker runs in lint-tidy over daemon/, where a false report
#                   is suppressed on its line with the reason; leaks in what the tests run are
#                   LeakSanitizer's (make check SANITIZE=1).
SCAN_BUILD := $(BUILD)/scan
lint-scan:
	@rm -rf $(SCAN_BUILD)
	scan-build --status-bugs -disable-checker unix.Malloc --use-cc=$(CC) -o $(SCAN_BUILD)/report \
		sh -c '$(MAKE) -s --no-print-directory BUILD=$(SCAN_BUILD) CC="$$CC" \
		TEST_CFLAGS="$(TEST_CFLAGS) -include scripts/scan-cmocka.h" lint-scan-targets'
lint-scan-targets: $(NOTICED) $(NOTICECTL) $(UNIT_TESTS)

# cppcheck reads the project's own headers (-Iinclude, the -D flags) and knows the system's from
# its library files: glibc's (gnu, posix), curl's, SQLite's and OpenSSL's.  Off, because they
# cannot apply here:
#   readdirCalled, getpwuidCalled  advice to use readdir_r() and getpwuid_r() for threads: noticed
#                                  has one thread, and glibc deprecates readdir_r() itself
#   invalidFunctionArgBool         sqlite3.cfg refuses a bool as sqlite3_bind_int()'s value, a C++
#                                  habit; in C a bool is the int 0 or 1, which the column stores
#   memleak, resourceLeak          cppcheck 2.10 knows nothing of __attribute__((cleanup)) and
#                                  reports every _cleanup_ local (macro.h); leaks are the clang
#                                  analyzer's in lint-tidy and LeakSanitizer's at run time
CPPCHECK_FLAGS = --std=c11 --platform=unix64 --library=gnu,posix,libcurl,sqlite3,openssl \
	--enable=warning,portability,performance --error-exitcode=1 --inline-suppr --quiet \
	--suppress=missingIncludeSystem --suppress=readdirCalled --suppress=getpwuidCalled \
	--suppress=invalidFunctionArgBool --suppress=memleak --suppress=resourceLeak --template='{file}:{line}: {severity}: {message} [{id}]' \
	$(filter-out -I/%,$(filter -I% -D%,$(ALL_CFLAGS)))
lint-cppcheck:
	@cppcheck $(CPPCHECK_FLAGS) daemon/*.c tests/unit/*.c 2>&1 && echo "lint-cppcheck: nothing found"

# One clang-tidy per file, as many at once as make -j allows.  A header's finding is reported
# by every file that includes it; the summary counts it once.
TIDY_BUILD := $(BUILD)/tidy
TIDY_OUTPUTS = $(patsubst daemon/%.c,$(TIDY_BUILD)/%.txt,$(wildcard daemon/*.c))
lint-tidy: compile_commands.json
	@rm -rf $(TIDY_BUILD)
	@$(MAKE) --no-print-directory lint-tidy-files
	@grep -hvE '^clang-tidy: exit 0 |^[0-9]+ warnings? (and [0-9]+ errors? )?generated' \
		$(TIDY_OUTPUTS); \
	n=$$(grep -hE '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' $(TIDY_OUTPUTS) | sort -u | wc -l); \
	failed=$$(grep -l '^clang-tidy: exit [1-9]' $(TIDY_OUTPUTS) | wc -l); \
	echo "lint-tidy: $$n finding(s), $$failed of $(words $(TIDY_OUTPUTS)) file(s) failed"; \
	[ "$$n" = 0 ] && [ "$$failed" = 0 ]
lint-tidy-files: $(TIDY_OUTPUTS)
$(TIDY_BUILD)/%.txt: daemon/%.c
	@mkdir -p $(@D)
	@clang-tidy -p . --quiet $< > $@.tmp 2>&1; echo "clang-tidy: exit $$? for $<" >> $@.tmp
	@mv $@.tmp $@

# Pure modules (STYLE.md rule 2) take values and return values: they must not reach the event
# loop, the ledger, the network or the journal, and must not read the clock or the disk.  The
# list is that of the headers whose comment says "Pure"; lint-pure checks that the two agree.
# scripts/lint-pure.awk reads each module's preprocessed source: includes of includes count.
PURE_MODULES := calendar catchup csv date ical identity mail message plan render retry template \
	text validate webhook words
PURE_BANNED_HEADERS := systemd/sd- sqlite3.h curl/ noticed/log.h
PURE_BANNED_CALLS := time clock_gettime gettimeofday fopen open openat
PURE_BUILD := $(BUILD)/pure
lint-pure:
	@mkdir -p $(PURE_BUILD); found=0; \
	for m in $(PURE_MODULES); do \
		$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -E -o $(PURE_BUILD)/$$m.i daemon/$$m.c && \
		awk -v module=$$m -v headers="$(PURE_BANNED_HEADERS)" -v calls="$(PURE_BANNED_CALLS)" \
			-f scripts/lint-pure.awk $(PURE_BUILD)/$$m.i || found=1; \
	done; \
	for h in include/noticed/*.h; do \
		m=$$(basename $$h .h); grep -q 'Pure[.:]' $$h || continue; \
		case " $(PURE_MODULES) " in *" $$m "*) ;; \
		*) echo "$$h:1: says Pure, but $$m is not in PURE_MODULES"; found=1 ;; esac; \
	done; \
	for m in $(PURE_MODULES); do \
		grep -q 'Pure[.:]' include/noticed/$$m.h || { found=1; \
			echo "include/noticed/$$m.h:1: in PURE_MODULES, but its comment does not say Pure"; }; \
	done; \
	[ $$found = 0 ] && echo "lint-pure: $(words $(PURE_MODULES)) pure modules, nothing found"

# Mistakes that none of the tools above knows, found line by line (a call split over lines
# escapes):
#   a "%m" that is a value: only a format string expands it; as an argument it prints "%m"
#   SQLite's error read twice in one expression: read it once, into a variable, as with errno
lint-rules:
	@found=0; \
	grep -nHE '"%m"' daemon/*.c | \
		sed -E 's/^([^:]+:[0-9]+):[[:space:]]*(.*)/\1: "%m" outside a format string prints "%m": \2/' | \
		grep . && found=1; \
	grep -nHE '(sqlite3_system_errno|sqlite3_errcode|sqlite3_extended_errcode)\(.*\1\(' daemon/*.c | \
		sed -E 's/^([^:]+:[0-9]+):[[:space:]]*(.*)/\1: SQLite error read twice, read it once: \2/' | \
		grep . && found=1; \
	[ $$found = 0 ] && echo "lint-rules: nothing found"

format:
	@command -v clang-format >/dev/null || { echo "make format: install clang-format first (apt-get install clang-format)"; exit 1; }
	clang-format -i daemon/*.c include/noticed/*.h tests/unit/*.c tests/fuzz/*.c

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(BUILD)/daemon/noticectl.d $(BUILD)/daemon/noticed.d $(UNIT_TESTS:%=%.d)

# libFuzzer on the config loader and the plan of what it accepts (clang; not part of `check`).
# make fuzz FUZZ_SECONDS=300
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
.PHONY: fuzz
fuzz: deps
	@mkdir -p build/fuzz build/fuzz/corpus
	clang -std=c11 -D_GNU_SOURCE -DNOTICED_VERSION='"$(VERSION)"' -Iinclude -g -O1 $(FUZZ_FLAGS) $(shell pkg-config --cflags $(PKGS)) \
		-o build/fuzz/fuzz-config tests/fuzz/fuzz-config.c \
		$(addprefix daemon/,$(addsuffix .c,$(LIB_MODULES))) $(LIBS)
	LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp build/fuzz/fuzz-config -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 -artifact_prefix=build/fuzz/ \
		build/fuzz/corpus tests/fuzz/corpus-config
	@mkdir -p build/fuzz/corpus-csv
	clang -std=c11 -D_GNU_SOURCE -Iinclude -g -O1 $(FUZZ_FLAGS) -o build/fuzz/fuzz-csv \
		tests/fuzz/fuzz-csv.c daemon/csv.c
	build/fuzz/fuzz-csv -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 \
		-artifact_prefix=build/fuzz/ build/fuzz/corpus-csv
