# vsx -- one executable that runs a whole x86 PC.
#
#   make          build ./vsx (installs missing Debian build packages first)
#   make run      build and boot the embedded default VM in a window
#   make test     build everything and run every test (closing line: N passed, N failed)
#   make asan     the same tests against an AddressSanitizer/UBSan build
#   make bench    guest MIPS and boot times side by side with QEMU TCG and Bochs
#   make install  install vsx, its desktop entry, icon and MIME type (PREFIX=/usr/local)
#   make clean
#
# Sources are found by folder: every .c in cpu/ svm/ chipset/ video/ disk/ ui/
# goes into build/libvsx.a; main.c links it into ./vsx.  tests/unit/*.c form one
# unit-test binary; tests/bin/NAME.c each become build/tests/NAME.

BUILD    ?= build
CC       ?= cc
OPT      ?= -O2
SAN      ?=
CFLAGS   ?=
CFLAGS   += -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -MMD -MP $(SAN) \
            -D_GNU_SOURCE -I. $(shell pkg-config --cflags sdl2 libpng 2>/dev/null)
LDLIBS   += $(SAN) $(shell pkg-config --libs sdl2 libpng inih 2>/dev/null || echo -lSDL2 -lpng -linih) -lz -lm
PREFIX   ?= /usr/local
VERSION  := 0.1.0

# Debian packages the build needs, and those the tests add.
BUILD_PKGS := gcc make pkg-config libsdl2-dev libpng-dev libinih-dev zlib1g-dev nasm seabios
TEST_PKGS  := xvfb x11-apps imagemagick qemu-system-x86 qemu-utils xorriso isolinux syslinux-common strace xdotool cpio \
              mtools memtest86+ grub-rescue-pc debian-installer-12-netboot-i386
BENCH_PKGS := qemu-system-x86 bochs bochsbios vgabios nasm time grub-rescue-pc debian-installer-12-netboot-i386

DIRS     := cpu svm chipset video disk ui
LIB_SRCS := $(foreach d,$(DIRS),$(wildcard $(d)/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/roms/roms.o
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)
TOOL_SRCS := $(wildcard tests/bin/*.c)
TOOLS    := $(TOOL_SRCS:tests/bin/%.c=$(BUILD)/tests/%)
GUEST_SRCS := $(wildcard tests/guest/*.asm)
GUESTS   := $(GUEST_SRCS:tests/guest/%.asm=$(BUILD)/guest/%.bin)
KERNEL_SRCS := $(wildcard tests/kernel/*.asm)
KERNELS  := $(KERNEL_SRCS:tests/kernel/%.asm=$(BUILD)/kernel/%.bin)
BOOT_SRCS := $(wildcard tests/boot/*.asm)
BOOTS    := $(BOOT_SRCS:tests/boot/%.asm=$(BUILD)/boot/%.img)
ROM_ASM  := $(wildcard roms/*.asm)
ROM_BINS := $(ROM_ASM:roms/%.asm=$(BUILD)/roms/%.bin)
VSX      := $(if $(filter build,$(BUILD)),vsx,$(BUILD)/vsx)
# The welcome VM's guest program is embedded when its source is in the tree.
ROM_DEFS := $(if $(wildcard roms/default_vm.asm),-DVSX_ROM_DEFAULT_VM)
CFLAGS   += $(ROM_DEFS)

.PHONY: all run test asan bench install clean deps test-deps bench-deps check-tests FORCE
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory $(VSX)

# ---- Debian packages: install what is missing (as root), else say what to install.
deps:
	@sh tests/ensure-packages.sh $(BUILD_PKGS)
test-deps: deps
	@sh tests/ensure-packages.sh $(TEST_PKGS)
bench-deps: deps
	@sh tests/ensure-packages.sh $(BENCH_PKGS)

# ---- the executable
$(VSX): $(BUILD)/main.o $(BUILD)/libvsx.a
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/libvsx.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# ---- ROMs: SeaBIOS and its VGA BIOS come from Debian's seabios package at build
# time; vsx's own guest programs are NASM sources in roms/.  All are embedded
# with .incbin, so the binary runs from anywhere.
SEABIOS_DIR ?= /usr/share/seabios
$(BUILD)/roms/bios-256k.bin: $(SEABIOS_DIR)/bios-256k.bin
	@mkdir -p $(dir $@)
	cp $< $@
$(BUILD)/roms/vgabios-stdvga.bin: $(SEABIOS_DIR)/vgabios-stdvga.bin
	@mkdir -p $(dir $@)
	cp $< $@
$(BUILD)/roms/%.bin: roms/%.asm $(wildcard roms/*.inc)
	@mkdir -p $(dir $@)
	nasm -f bin -I roms/ -o $@ $<
$(BUILD)/roms/roms.o: roms/roms.S $(BUILD)/roms/bios-256k.bin $(BUILD)/roms/vgabios-stdvga.bin $(ROM_BINS)
	$(CC) -c $(ROM_DEFS) -DROMDIR='"$(BUILD)/roms"' -o $@ $<

# ---- tests
$(BUILD)/unit_tests: $(UNIT_OBJS) $(BUILD)/libvsx.a
	$(CC) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/%: $(BUILD)/tests/bin/%.o $(BUILD)/libvsx.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS)
$(BUILD)/guest/%.bin: tests/guest/%.asm $(wildcard tests/guest/*.inc)
	@mkdir -p $(dir $@)
	nasm -f bin -I tests/guest/ -o $@ $<

# Boot sectors padded to a 1.44 MB floppy image.
$(BUILD)/boot/%.img: tests/boot/%.asm
	@mkdir -p $(dir $@)
	nasm -f bin -o $@ $<
	truncate -s 1474560 $@

# Kernels for the direct-boot tests.
$(BUILD)/kernel/%.bin: tests/kernel/%.asm
	@mkdir -p $(dir $@)
	nasm -f bin -o $@ $<

check-tests: $(VSX) $(BUILD)/unit_tests $(TOOLS) $(GUESTS) $(BOOTS) $(KERNELS)

test: test-deps
	@$(MAKE) --no-print-directory check-tests
	@VSX=$(CURDIR)/$(VSX) BUILD=$(CURDIR)/$(BUILD) VSX_SANITIZER=$(if $(SAN),1,) sh tests/run.sh

asan:
	@$(MAKE) --no-print-directory test BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"

bench: bench-deps
	@$(MAKE) --no-print-directory $(VSX)
	@VSX=$(CURDIR)/$(VSX) sh tests/bench/run.sh

run: all
	./$(VSX)

install: all
	install -D -m 755 vsx $(DESTDIR)$(PREFIX)/bin/vsx
	install -D -m 644 ui/vsx.desktop $(DESTDIR)$(PREFIX)/share/applications/vsx.desktop
	install -D -m 644 ui/vsx.svg $(DESTDIR)$(PREFIX)/share/icons/hicolor/scalable/apps/vsx.svg
	install -D -m 644 ui/vsx-mime.xml $(DESTDIR)$(PREFIX)/share/mime/packages/vsx.xml
	-update-mime-database $(DESTDIR)$(PREFIX)/share/mime 2>/dev/null
	-update-desktop-database $(DESTDIR)$(PREFIX)/share/applications 2>/dev/null

clean:
	rm -rf build build-asan vsx

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
