/* firmware.bin: a 64 KiB firmware ROM for hvgdb's end-to-end tests, in GNU as syntax.
 * Run with `hvgdb --format firmware`: the ROM ends at 4 GiB and shows again at 0xf0000..0xfffff.
 * Assembled with `as --32`, linked at 0xf0000 (firmware.elf keeps the symbols for gdb, at the
 * low addresses the code runs at after its first far jump), and cut to exactly 64 KiB.
 *
 * The CPU starts at the reset vector, linear 0xfffffff0 (CS = 0xf000 with base 0xffff0000,
 * IP = 0xfff0), 16 bytes below the end of the ROM.  The jump there reloads CS the real-mode
 * way (base 0xf0000), and from `_start` on the code runs in the low window.  It prints
 * "hello from the firmware" to the debug console (0xe9) and to COM1, checks that RAM below
 * the ROM works and that a store into the ROM changes nothing, prints "firmware done" and
 * writes EXIT_VALUE = 0x21 to the exit port 0xf4: exit code (0x21 << 1) | 1 = 67.  A failed
 * check prints "firmware check failed" and writes 0x22 (exit code 69).
 *
 * Labels for tests (global, see firmware.elf): _start, ram_checked, rom_checked, print_both,
 * print_string, putc_debugcon, putc_serial, exit_to_host, check_failed, rom_byte,
 * reset_vector. */

    .set ROM_SEGMENT, 0xf000        /* the low window 0xf0000: CS after the far jump */
    .set EXIT_VALUE, 0x21
    .set FAIL_VALUE, 0x22
    .set EXIT_PORT, 0xf4
    .set RAM_PROBE, 0x500           /* 0000:0500, conventional RAM */
    .set ROM_BYTE_VALUE, 0xa5

    .code16
    .section .text
    .globl _start, ram_checked, rom_checked, print_both, print_string, putc_debugcon
    .globl putc_serial, exit_to_host, check_failed, rom_byte, reset_vector

/* The first byte of the ROM: offsets from here are IPs with CS = 0xf000. */
code_origin:
_start:
    cli
    cld
    xor %ax, %ax
    mov %ax, %ss
    mov $0x7000, %sp                /* a stack in RAM */
    mov %ax, %es                    /* ES: RAM */
    mov %cs, %ax
    mov %ax, %ds                    /* DS: the ROM, for the strings */

    mov $(message - code_origin), %si
    call print_both

    movw $0x1234, %es:RAM_PROBE
    cmpw $0x1234, %es:RAM_PROBE
    jne check_failed
ram_checked:
    movb $0, rom_byte - code_origin    /* read-only: the store goes nowhere */
    cmpb $ROM_BYTE_VALUE, rom_byte - code_origin
    jne check_failed
rom_checked:

    mov $(goodbye - code_origin), %si
    call print_both
    mov $EXIT_VALUE, %al
exit_to_host:
    out %al, $EXIT_PORT
1:  hlt                             /* only reached if nothing listens on port 0xf4 */
    jmp 1b

check_failed:
    mov $(failed - code_origin), %si
    call print_both
    mov $FAIL_VALUE, %al
    jmp exit_to_host

    .include "print16.s"            /* print_both and the putc routines */

message:
    .asciz "hello from the firmware\n"
goodbye:
    .asciz "firmware done\n"
failed:
    .asciz "firmware check failed\n"
rom_byte:
    .byte ROM_BYTE_VALUE

    .org 0xfff0, 0xff               /* the assembler fails here if the code outgrew the ROM */
reset_vector:                       /* linear 0xfffffff0 at reset, 0xffff0 in the low window */
    ljmp $ROM_SEGMENT, $(_start - code_origin)
    .org 0x10000, 0xff              /* the ROM ends here: 64 KiB */

    .section .note.GNU-stack, "", @progbits
