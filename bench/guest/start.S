/* The bench guest's entry (the Multiboot 1 header is in guest.c): hvgdb and QEMU's -kernel
 * both start it in 32-bit protected mode with paging off (Multiboot Specification 0.6.96,
 * 3.2: EAX the boot loader's magic, EBX the boot information).  It switches to its own stack
 * and calls bench_main(magic, info); bench_main only returns in timed mode, and then the
 * value 0 goes to the exit port 0xf4 (exit code 1). */

    .cfi_sections .debug_frame

    .section .text.start, "ax", @progbits
    .code32
    .globl _start
    .type _start, @function
_start:
    .cfi_startproc
    .cfi_undefined eip          /* outermost frame */
    mov $stack_top, %esp
    xor %ebp, %ebp
    push %ebx
    push %eax
    call bench_main
    xor %eax, %eax
    outl %eax, $0xf4
1:  hlt
    jmp 1b
    .cfi_endproc
    .size _start, . - _start

    .section .bss
    .balign 16
stack_bottom:
    .skip 8192
stack_top:

    .section .note.GNU-stack, "", @progbits
