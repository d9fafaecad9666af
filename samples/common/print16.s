/* print16.s: console output for the real-mode samples (boot/boot.s, firmware/firmware.s), in
 * GNU as syntax.  Included with `.include "print16.s"` (the build passes -I samples/common)
 * inside the includer's 16-bit .text.  The includer defines the label `code_origin`: where IP 0
 * of the code segment these routines run in lies, since print_both hands IPs to print_string's
 * indirect call.
 *
 * Labels: print_both, print_string, putc_debugcon, putc_serial. */

    .set DEBUG_CONSOLE, 0xe9
    .set COM1_DATA, 0x3f8
    .set COM1_LINE_STATUS, 0x3fd
    .set LSR_THR_EMPTY, 0x20        /* 16550 line status bit 5: transmitter ready */

/* Prints the NUL-terminated string at DS:SI to the debug console, then to COM1.  Whole
 * strings go to one device at a time, so a host that sends both devices to one console shows
 * each line intact (twice).  Clobbers AX, DX, SI, DI. */
print_both:
    push %si
    mov $(putc_debugcon - code_origin), %di
    call print_string
    pop %si
    mov $(putc_serial - code_origin), %di
    call print_string
    ret

/* Prints the NUL-terminated string at DS:SI, one character in AL per call to *DI.
 * Clobbers AX, DX, SI. */
print_string:
    lodsb
    test %al, %al
    jz 1f
    call *%di
    jmp print_string
1:
    ret

/* Writes AL to the debug console. */
putc_debugcon:
    out %al, $DEBUG_CONSOLE
    ret

/* Writes AL to COM1, waiting for the transmitter.  Clobbers AH, DX. */
putc_serial:
    mov %al, %ah
    mov $COM1_LINE_STATUS, %dx
2:
    in %dx, %al
    test $LSR_THR_EMPTY, %al
    jz 2b
    mov %ah, %al
    mov $COM1_DATA, %dx
    out %al, %dx
    ret
