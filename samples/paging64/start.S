/* paging64 boot code, identity-mapped at 1 MiB.  hvgdb's loader starts here in 64-bit long
 * mode with its own identity paging; this code switches to the guest's page tables below:
 *
 *   0x0000000000000000  2 MiB page -> physical 0 (this code, the loader's GDT and stack)
 *   0xffffffff80000000  the kernel, 4 KiB pages -> physical 0x200000 up (KERNEL_PHYS), except
 *                       moved_page -> physical MOVED_PHYS
 *   0xffffffff80200000  2 MiB page -> physical 0 again (an alias of the first mapping)
 *
 * Everything else, physical 0x200000 itself included, is unmapped.  Then it calls kmain() on
 * a stack in the kernel's .bss and hands kmain's value V to the exit port (exit code
 * (V << 1) | 1). */

#define PRESENT_WRITABLE 0x3
#define LARGE_PAGE 0x80
#define MOVED_PHYS 0x400000

    .cfi_sections .debug_frame

    .section .text.boot, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .cfi_startproc
    .cfi_undefined rip           /* outermost frame: gdb's backtrace ends here */
    /* pt_kernel[i] = (kernel_phys_start + i * 4 KiB) | P | RW for each kernel page. */
    mov $pt_kernel, %edi
    mov $KERNEL_PHYS + PRESENT_WRITABLE, %eax
    mov $kernel_page_count, %ecx
1:  mov %rax, (%rdi)
    add $8, %rdi
    add $0x1000, %rax
    dec %ecx
    jnz 1b
    movq $MOVED_PHYS + PRESENT_WRITABLE, moved_pte
    mov $pml4, %eax
    mov %rax, %cr3
    .globl paging_enabled
paging_enabled:
    mov $stack_top, %rsp         /* a kernel address: the sign-extended imm32 holds it */
    xor %ebp, %ebp
    mov $pt_kernel, %edi         /* kmain(the kernel's page table) */
    mov $kmain, %rax
    call *%rax
    outl %eax, $0xf4
halt_forever:                    /* only reached if nothing listens on port 0xf4 */
    hlt
    jmp halt_forever
    .cfi_endproc
    .size _start, . - _start

/* The paging structures (Intel SDM vol. 3A, 4.5): PML4 entries 0 and 511, one PDPT each. */
    .section .data.boot, "aw", @progbits
    .balign 4096
pml4:
    .quad pdpt_low + PRESENT_WRITABLE
    .fill 510, 8, 0
    .quad pdpt_high + PRESENT_WRITABLE     /* 0xffffff8000000000 */
pdpt_low:
    .quad pd_low + PRESENT_WRITABLE
    .fill 511, 8, 0
pd_low:
    .quad 0 + LARGE_PAGE + PRESENT_WRITABLE
    .fill 511, 8, 0
pdpt_high:
    .fill 510, 8, 0
    .quad pd_high + PRESENT_WRITABLE       /* 0xffffffff80000000 */
    .quad 0
pd_high:
    .quad pt_kernel + PRESENT_WRITABLE     /* 0xffffffff80000000 */
    .quad 0 + LARGE_PAGE + PRESENT_WRITABLE  /* 0xffffffff80200000 */
    .fill 510, 8, 0
    .globl pt_kernel
pt_kernel:
    .fill 512, 8, 0                        /* filled by _start */

    .section .bss
    .balign 16
stack_bottom:
    .skip 16384
    .globl stack_top
stack_top:

    .section .note.GNU-stack, "", @progbits
