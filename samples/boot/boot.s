/* boot.bin: a real-mode boot sector for hvgdb's end-to-end tests, in GNU as syntax.
 * Assembled with `as --32`, linked at 0x7c00 (boot.elf keeps the symbols for gdb), and cut to
 * exactly 512 bytes ending 0x55 0xAA with objcopy.  Starts at 0000:7C00 with DL = boot drive.
 *
 * It prints "hello from the boot sector" to the debug console (port 0xe9), then to COM1
 * (0x3f8), calls `tick` LOOP_COUNT times from `count_loop`, prints "boot sector done" the same
 * two ways, and writes EXIT_VALUE = 0x10 to the exit port 0xf4: the run ends with exit code
 * (0x10 << 1) | 1 = 33.  Whole strings go to one device at a time, so a host that sends both
 * devices to one console shows each line intact (twice).
 *
 * Labels for tests (global, see boot.elf): _start, count_loop, tick, print_both, print_string,
 * putc_debugcon, putc_serial, exit_to_host, halt_forever, message, goodbye, boot_drive,
 * tick_count, relocated.  From `relocated` on, CS = 0x07c0. */

    .set LOOP_COUNT, 5
    .set EXIT_VALUE, 0x10
    .set EXIT_PORT, 0xf4

    .code16
    .section .text
    .globl _start, count_loop, tick, print_both, print_string, putc_debugcon, putc_serial
    .globl exit_to_host, halt_forever, relocated
    .globl message, goodbye, boot_drive, tick_count

_start:
code_origin:                       /* IP 0 with CS = 0x07c0, for print16.s */
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0x7c00, %sp               /* stack grows down below the boot sector */
    mov %dl, boot_drive            /* BIOS convention: DL = drive we booted from */
    cld
    /* Run on with CS = 0x07c0 (IP = linear address - 0x7c00), as many boot sectors do: the
     * debugger's PC is still the linear address, while return addresses on the stack are IPs.
     * Data stays addressed through DS = 0, and near jumps and calls are relative. */
    ljmp $0x07c0, $(relocated - 0x7c00)
relocated:

    mov $message, %si
    call print_both

    mov $LOOP_COUNT, %cx
count_loop:
    call tick
    loop count_loop                /* dec %cx; jnz count_loop */

    mov $goodbye, %si
    call print_both

    mov $EXIT_VALUE, %al
exit_to_host:
    out %al, $EXIT_PORT
halt_forever:                      /* only reached if nothing listens on port 0xf4 */
    hlt
    jmp halt_forever

    .include "print16.s"           /* print_both and the putc routines (CS = 0x07c0) */

/* Counts one loop iteration in tick_count. */
tick:
    incw tick_count
    ret

message:
    .asciz "hello from the boot sector\n"
goodbye:
    .asciz "boot sector done\n"
boot_drive:
    .byte 0
    .balign 2
tick_count:
    .word 0

    .org 510                       /* the assembler fails here if the code outgrew the sector */
    .byte 0x55, 0xaa

    .section .note.GNU-stack, "", @progbits
