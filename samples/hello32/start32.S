/* hello32 entry point: hvgdb's loader starts here in 32-bit protected mode (flat segments,
 * paging off, IF=0).  We switch to our own stack in .bss, call kmain(), and hand its return
 * value V to the exit port 0xf4 (isa-debug-exit: the run ends with exit code (V << 1) | 1). */

    .cfi_sections .debug_frame

    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .cfi_startproc
    .cfi_undefined eip          /* outermost frame: gdb's backtrace ends here */
    mov $stack_top, %esp
    xor %ebp, %ebp              /* frame-pointer chain ends here */
    call kmain
    .globl exit_to_host
exit_to_host:
    outl %eax, $0xf4
    .globl halt_forever
halt_forever:                   /* only reached if nothing listens on port 0xf4 */
    hlt
    jmp halt_forever
    .cfi_endproc
    .size _start, . - _start

    .section .bss
    .balign 16
    .globl stack_bottom
stack_bottom:
    .skip 8192
    .globl stack_top
stack_top:

    .section .note.GNU-stack, "", @progbits
