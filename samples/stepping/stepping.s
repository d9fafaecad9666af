/* stepping.bin: a real-mode boot sector for hvgdb's single-step tests, in GNU as syntax.
 * Assembled with `as --32`, linked at 0x7c00 (stepping.elf keeps the symbols for gdb), and cut
 * to exactly 512 bytes ending 0x55 0xAA.  Starts at 0000:7C00; CS stays 0, so IPs are linear.
 *
 * A global label sits on each instruction the tests step over and on the one after it:
 *   plain .. plain_end       three plain instructions (BX = 24 at plain_end)
 *   step_out / after_out     out %al, $0xe9 (writes '!' to the debug console)
 *   step_in / after_in       in %dx, %al from COM1's line status (0x60: transmitter empty)
 *   step_movsb / after_movsb rep movsb of SOURCE_LEN bytes from `source` to `dest`
 *   step_stosb / after_stosb rep stosb of FILL_LEN 'z' bytes to `fill`
 *   step_int / after_int     int $SOFT_VECTOR
 *   step_int3 / after_int3   int3, the guest's own
 *   step_into / after_into   into, with OF set
 * The three interrupts enter `soft_handler` (IVT entries the code installs), which counts them
 * in `soft_count` and returns with `iret` at `soft_return`.  Then EXIT_VALUE goes to the exit
 * port 0xf4: exit code (EXIT_VALUE << 1) | 1 = 53. */

    .set EXIT_VALUE, 0x1a
    .set EXIT_PORT, 0xf4
    .set DEBUG_CONSOLE, 0xe9
    .set COM1_LSR, 0x3fd
    .set SOFT_VECTOR, 0x40
    .set SOURCE_LEN, 5
    .set FILL_LEN, 4

    .code16
    .section .text
    .globl _start, plain, plain_2, plain_3, plain_end, step_out, after_out, step_in, after_in
    .globl step_movsb, after_movsb, step_stosb, after_stosb, step_int, after_int
    .globl step_int3, after_int3, step_into, after_into, exit_to_host, halt_forever
    .globl soft_handler, soft_return, soft_count, source, dest, fill

_start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0x7c00, %sp
    cld
    /* INT3 (vector 3), INTO (4) and INT SOFT_VECTOR all enter soft_handler, CS 0. */
    movw $soft_handler, 3 * 4
    movw $0, 3 * 4 + 2
    movw $soft_handler, 4 * 4
    movw $0, 4 * 4 + 2
    movw $soft_handler, SOFT_VECTOR * 4
    movw $0, SOFT_VECTOR * 4 + 2

plain:
    mov $1, %bx
plain_2:
    add $2, %bx
plain_3:
    shl $3, %bx
plain_end:
    mov $'!', %al
step_out:
    out %al, $DEBUG_CONSOLE
after_out:
    mov $COM1_LSR, %dx
step_in:
    in %dx, %al
after_in:
    mov $source, %si
    mov $dest, %di
    mov $SOURCE_LEN, %cx
step_movsb:
    rep movsb
after_movsb:
    mov $'z', %al
    mov $fill, %di
    mov $FILL_LEN, %cx
step_stosb:
    rep stosb
after_stosb:
step_int:
    int $SOFT_VECTOR
after_int:
step_int3:
    int3
after_int3:
    mov $0x7f, %al
    add $1, %al                    /* 0x7f + 1 overflows: OF = 1 */
step_into:
    into
after_into:
    mov $EXIT_VALUE, %al
exit_to_host:
    out %al, $EXIT_PORT
halt_forever:                      /* only reached if nothing listens on port 0xf4 */
    hlt
    jmp halt_forever

soft_handler:
    incw soft_count
soft_return:
    iret

source:
    .ascii "hvgdb"
dest:
    .fill SOURCE_LEN + 1, 1, 0     /* one byte more, which must stay 0 */
fill:
    .fill FILL_LEN + 1, 1, 0
    .balign 2
soft_count:
    .word 0

    .org 510                       /* the assembler fails here if the code outgrew the sector */
    .byte 0x55, 0xaa

    .section .note.GNU-stack, "", @progbits
