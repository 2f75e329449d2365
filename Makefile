# noticed: build, test and demo.  GNU make and pkg-config; see README.md.
#
#   make                 build build/noticed and build/noticectl
#   make check           install what is missing (Debian, as root), build, run every test
#   make demo            install what is missing, build, run the daemon on the Twente case
#   make SANITIZE=1 ...  the same with AddressSanitizer and UndefinedBehaviorSanitizer
#   make CC=clang ...    any C11 compiler; warnings are errors with gcc and clang

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
all: $(NOTICED) $(NOTICECTL)

# Everything in $(BUILD) depends on the compiler and flags that built it: `make CC=clang` after a
# gcc build rebuilds instead of linking gcc's objects.  The stamp is rewritten only when they
# change.  The targets that install packages first skip this (pkg-config may not work yet).
FLAGS_STAMP := $(BUILD)/.flags
ifeq ($(filter deps bench-deps check demo bench fuzz clean format,$(MAKECMDGOALS)),)
BUILD_FLAGS = $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS)
ifneq ($(strip $(BUILD_FLAGS)),$(strip $(file <$(FLAGS_STAMP))))
$(shell mkdir -p $(BUILD))
$(file >$(FLAGS_STAMP),$(BUILD_FLAGS))
endif
endif

$(BUILD)/daemon/%.o: daemon/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libnoticed.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(NOTICECTL): $(BUILD)/daemon/noticectl.o $(BUILD)/libnoticed.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(NOTICED): $(BUILD)/daemon/noticed.o $(BUILD)/libnoticed.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%.o: tests/unit/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags $(TEST_PKGS)) -c -o $@ $<

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

# Installs what is missing on Debian when run as root; elsewhere prints the command and stops.
deps:
	@missing=""; \
	if command -v dpkg-query >/dev/null 2>&1; then \
		for p in $(DEB_PACKAGES); do \
			dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q ' installed$$' || missing="$$missing $$p"; \
		done; \
	else \
		pkg-config --exists $(PKGS) $(TEST_PKGS) 2>/dev/null || missing=" $(DEB_PACKAGES)"; \
	fi; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "make deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing; \
	else \
		echo "make deps: missing:$$missing"; \
		echo "install them first, e.g.: sudo apt-get install$$missing"; \
		exit 1; \
	fi

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

check: deps
	@$(MAKE) --no-print-directory check-run

# Unit tests (cmocka) first, then the command-line and golden tests against the built binary.
check-run: $(NOTICED) $(NOTICECTL) $(UNIT_TESTS)
	@failed=0; \
	for t in $(UNIT_TESTS); do \
		echo "== $$t"; \
		$$t || failed=$$((failed + 1)); \
	done; \
	echo "== tests/integration/cli.sh"; \
	NOTICECTL=$(NOTICECTL) bash tests/integration/cli.sh || failed=$$((failed + 1)); \
	echo "== tests/integration/unit.sh"; \
	NOTICED=$(NOTICED) bash tests/integration/unit.sh || failed=$$((failed + 1)); \
	echo "== tests/integration/daemon.py"; \
	NOTICED=$(NOTICED) NOTICECTL=$(NOTICECTL) /usr/bin/python3 tests/integration/daemon.py || \
		failed=$$((failed + 1)); \
	echo "== tests/integration/delivery.py"; \
	NOTICED=$(NOTICED) NOTICECTL=$(NOTICECTL) /usr/bin/python3 tests/integration/delivery.py || \
		failed=$$((failed + 1)); \
	echo "== tests/integration/journal.py"; \
	NOTICED=$(NOTICED) /usr/bin/python3 tests/integration/journal.py || failed=$$((failed + 1)); \
	if [ $$failed -ne 0 ]; then echo "make check: $$failed test program(s) failed"; exit 1; fi; \
	echo "make check: all test programs passed"

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
# ExecStart is rewritten to where noticed went.  Then: systemctl daemon-reload.
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
	sed 's|^ExecStart=/usr/local/sbin/noticed |ExecStart=$(PREFIX)/sbin/noticed |' \
		systemd/noticed.service > $(DESTDIR)$(UNITDIR)/noticed.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/noticed.service
	@[ -e $(DESTDIR)/etc/noticed/noticed.conf ] || { install -d -m 0755 $(DESTDIR)/etc/noticed && \
		install -m 0644 etc/noticed/noticed.conf $(DESTDIR)/etc/noticed/noticed.conf; }

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
	clang -std=c11 -D_GNU_SOURCE -Iinclude -g -O1 $(FUZZ_FLAGS) $(shell pkg-config --cflags $(PKGS)) \
		-o build/fuzz/fuzz-config tests/fuzz/fuzz-config.c \
		$(addprefix daemon/,$(addsuffix .c,$(LIB_MODULES))) $(LIBS)
	LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp build/fuzz/fuzz-config -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 -artifact_prefix=build/fuzz/ \
		build/fuzz/corpus tests/fuzz/corpus-config
