/* Port I/O and serial output for the freestanding sample guests (hello64, hello32).
 * Depends on nothing: no libc, no system headers.  Builds as 32- and 64-bit code.
 *
 * Devices (see ../../../shared/DESIGN.md "Guest platform"): a 16550 UART at COM1 (0x3f8) whose
 * line status register (0x3fd) bit 5 says "transmit holding register empty", and QEMU's
 * isa-debug-exit device at 0xf4: writing V ends the run with exit code (V << 1) | 1. */
#ifndef HVGDB_SAMPLES_GUEST_IO_H
#define HVGDB_SAMPLES_GUEST_IO_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define COM1_DATA 0x3f8
#define COM1_LINE_STATUS 0x3fd
#define LSR_THR_EMPTY 0x20 /* 16550 LSR bit 5 */
#define EXIT_PORT 0xf4

static inline void outb(u16 port, u8 value) {
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline void outl(u16 port, u32 value) {
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline u8 inb(u16 port) {
    u8 value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline void serial_putc(char c) {
    while ((inb(COM1_LINE_STATUS) & LSR_THR_EMPTY) == 0) {
    }
    outb(COM1_DATA, (u8)c);
}

static inline void serial_puts(const char* s) {
    while (*s != '\0') {
        serial_putc(*s++);
    }
}

/* Unsigned decimal; 32-bit so hello32 needs no libgcc 64-bit division helpers. */
static inline void serial_put_dec(u32 value) {
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0) {
        serial_putc(digits[--n]);
    }
}

static inline void serial_put_hex(u32 value) {
    static const char hex[] = "0123456789abcdef";
    serial_puts("0x");
    for (int shift = 28; shift >= 0; shift -= 4) {
        serial_putc(hex[(value >> shift) & 0xf]);
    }
}

#endif /* HVGDB_SAMPLES_GUEST_IO_H */
