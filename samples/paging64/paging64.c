/* paging64: a 64-bit guest that runs under its own page tables (see start.S), with its code
 * and data at virtual addresses far from their physical ones, for hvgdb's end-to-end test of
 * memory and breakpoints at linear addresses.
 *
 * kmain writes mapped_value and straddle (two words on either side of a page boundary whose
 * pages are not physically adjacent), stops by in checkpoint() for the debugger, prints what
 * it then finds, unmaps the page that holds retired() around a call to after_unmap(), and
 * calls retired() once the page is back.
 *
 * Exit code: kmain returns V = (mapped_value + retired()) & 0x7f and start.S writes V to port
 * 0xf4, so the run ends with exit code (V << 1) | 1.  Unchanged V = (0x1234 + 3) & 0x7f = 55,
 * exit code 111; a debugger that sets mapped_value to 0x40 makes it V = 67, exit code 135.
 *
 * The tests find source lines by the "E2E:" markers in comments; keep them unique. */

#include "guest_io.h"

#define INITIAL_VALUE 0x1234
#define RETIRED_VALUE 3

extern char kernel_virt_start[];

u64 straddle[2] __attribute__((section(".straddle"), aligned(8)));
volatile u32 mapped_value;
u64* kernel_page_table; /* maps the kernel's pages, 4 KiB each */
int checkpoints;
int unmapped_calls;

/* Alone in its page (paging64.ld). */
__attribute__((section(".text.retired"), noinline)) int retired(void) {
    return RETIRED_VALUE; /* E2E: retired-body */
}

__attribute__((noinline)) void checkpoint(void) {
    checkpoints++; /* E2E: checkpoint-body */
}

__attribute__((noinline)) void after_unmap(void) {
    unmapped_calls++; /* E2E: after-unmap-body */
}

static void invalidate_page(const void* linear) {
    __asm__ volatile("invlpg (%0)" : : "r"(linear) : "memory");
}

static u64* page_table_entry(const void* linear) {
    return &kernel_page_table[((u64)linear - (u64)kernel_virt_start) >> 12];
}

int kmain(u64* page_table) {
    kernel_page_table = page_table;
    mapped_value = INITIAL_VALUE;
    straddle[0] = 0x1111111122222222ull;
    straddle[1] = 0x3333333344444444ull;
    serial_puts("paging64: running on its own page tables\n");

    checkpoint(); /* E2E: call-checkpoint */

    serial_puts("mapped_value = ");
    serial_put_hex(mapped_value);
    serial_puts("\nstraddle sum = ");
    serial_put_hex((u32)(straddle[0] + straddle[1]));
    serial_putc('\n');

    u64* entry = page_table_entry((const void*)retired);
    u64 saved = *entry;
    *entry = 0;
    invalidate_page((const void*)retired);
    after_unmap();
    *entry = saved;
    invalidate_page((const void*)retired);

    int value = (int)((mapped_value + (u32)retired()) & 0x7f); /* E2E: exit-value */
    serial_puts("exit value = ");
    serial_put_dec((u32)value);
    serial_putc('\n');
    return value;
}
