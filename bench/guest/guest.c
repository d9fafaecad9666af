/* The bench guest: one loop that calls tick(), the breakpoint target, which counts its calls
 * in `ticks`.  Started without a command line the loop runs forever, for the debugger to
 * step, break in and read.  Started with "loop=N" in its Multiboot command line it runs N
 * iterations timed with RDTSC, prints "loop N cycles 0xHIGH0xLOW" (the 64-bit count in two
 * halves) on COM1 and returns to start.S, which writes the exit port: the loop's speed with
 * no debugger stop, under hvgdb and under raw KVM alike.
 *
 * 32-bit code without libgcc: no 64-bit division. */

#include "guest_io.h"

#define HEADER_MAGIC 0x1BADB002u /* Multiboot 1 header */
#define HEADER_FLAGS 0x0u        /* no module alignment, memory map or a.out fields needed */
#define BOOT_MAGIC 0x2BADB002u   /* Multiboot 1: EAX at entry */
#define INFO_CMDLINE 0x4u        /* multiboot_info.flags bit 2: cmdline is valid */

/* Multiboot Specification 0.6.96, 3.1.1: magic, flags, checksum (the three sum to 0), in
 * the first 8 KiB of the file; guest.ld puts .multiboot first. */
__attribute__((section(".multiboot"), used, aligned(4))) static const u32 multiboot_header[3] = {
    HEADER_MAGIC, HEADER_FLAGS, -(HEADER_MAGIC + HEADER_FLAGS)};

struct multiboot_info {
    u32 flags;
    u32 mem_lower, mem_upper;
    u32 boot_device;
    u32 cmdline; /* physical address of a NUL-terminated string */
};

volatile u32 ticks;

void tick(void) {
    ticks = ticks + 1;
}

/* n == 0: forever. */
static void spin(u32 n) {
    for (u32 i = 0; n == 0 || i != n; i++) {
        tick();
    }
}

static u64 rdtsc(void) {
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

/* The N of the first "loop=N" (decimal) in the command line, else 0. */
static u32 loop_count(const char* cmdline) {
    static const char key[] = "loop=";
    for (const char* p = cmdline; *p != '\0'; p++) {
        u32 k = 0;
        while (key[k] != '\0' && p[k] == key[k]) {
            k++;
        }
        if (key[k] != '\0') {
            continue;
        }
        u32 n = 0;
        for (const char* d = p + k; *d >= '0' && *d <= '9'; d++) {
            n = n * 10 + (u32)(*d - '0');
        }
        return n;
    }
    return 0;
}

void bench_main(u32 magic, const struct multiboot_info* info) {
    u32 n = 0;
    if (magic == BOOT_MAGIC && (info->flags & INFO_CMDLINE) != 0) {
        n = loop_count((const char*)info->cmdline);
    }
    if (n == 0) {
        spin(0);
    }
    u64 start = rdtsc();
    spin(n);
    u64 cycles = rdtsc() - start;
    serial_puts("loop ");
    serial_put_dec(n);
    serial_puts(" cycles ");
    serial_put_hex((u32)(cycles >> 32));
    serial_put_hex((u32)cycles);
    serial_putc('\n');
}
