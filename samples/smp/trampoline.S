/* smp start-up code for the application processors.  A Startup IPI with vector 0x08 starts an
 * AP in real mode at CS:IP = 0800:0000, physical 0x8000 (SDM vol. 3A, 8.4.4 and 10.6.1), where
 * smp.ld puts .trampoline.  The AP loads the GDT the BSP uses, enters 32-bit protected mode,
 * reads its local APIC ID, takes the stack cpu_stacks[ID] and calls ap_main(ID).  When ap_main
 * returns, or when the ID has no stack, the AP halts with interrupts off for good. */

#include "smp.h"

    .set CR0_PE, 1

    .section .trampoline, "ax", @progbits
    .code16
    .globl ap_trampoline
ap_trampoline:
    cli
    xor %ax, %ax
    mov %ax, %ds                /* DS = 0: offsets are physical addresses below 64 KiB */
    lgdtl gdt_descriptor        /* 32-bit operand size: the whole 32-bit GDT base */
    mov %cr0, %eax
    or $CR0_PE, %eax
    mov %eax, %cr0
    ljmpl $CODE32_SELECTOR, $ap_protected

    /* The one GDT, loaded by the BSP in kmain() too.  It sits here because real-mode code
     * reaches only the first 64 KiB with DS = 0. */
    .balign 8
gdt:
    .quad 0                     /* null */
    .quad 0x00cf9a000000ffff    /* CODE32_SELECTOR: 32-bit code, base 0, 4 GiB */
    .quad 0x00cf92000000ffff    /* DATA32_SELECTOR: data, base 0, 4 GiB */
gdt_end:
    .globl gdt_descriptor
gdt_descriptor:
    .word gdt_end - gdt - 1
    .long gdt

    .text
    .code32
    .globl ap_protected
    .type ap_protected, @function
ap_protected:
    .cfi_startproc
    .cfi_undefined eip          /* outermost frame of an AP */
    mov $DATA32_SELECTOR, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov lapic_base, %ebx
    mov LAPIC_ID(%ebx), %eax
    shr $24, %eax               /* EAX = this AP's APIC ID */
    cmp $MAX_CPUS, %eax
    jae ap_park
    lea 1(%eax), %ecx
    shl $CPU_STACK_SHIFT, %ecx
    lea cpu_stacks(%ecx), %esp  /* the top of cpu_stacks[ID] */
    xor %ebp, %ebp              /* frame-pointer chain ends here */
    push %eax
    call ap_main
    .globl ap_park
ap_park:
    cli
    hlt
    jmp ap_park
    .cfi_endproc
    .size ap_protected, . - ap_protected

    .section .bss
    .balign 16
    .globl cpu_stacks
cpu_stacks:
    .skip MAX_CPUS * CPU_STACK_SIZE

    .section .note.GNU-stack, "", @progbits
