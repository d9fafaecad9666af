/* modes.bin: a boot sector that walks the x86 CPU modes and back, for hvgdb's mode-view
 * tests, in GNU as syntax.  Assembled with `as --32` (.code16/.code32/.code64 pick the
 * encoding), linked at 0x7c00 (modes.elf keeps the symbols), cut to 512 bytes ending 0x55 0xAA.
 *
 * The walk, with a global label where each stage begins and a marker byte on port 0xe9:
 *   in_real          real mode, CS = 0                                  'R'
 *   pe_window        CR0.PE just set, CS still the real-mode one (16-bit code)
 *   in_protected     32-bit protected mode, flat segments               'P'
 *   in_long          64-bit long mode, 2 MiB identity page              'L'
 *   in_compat        compatibility mode (32-bit code), about to turn paging off
 *   in_protected16   16-bit protected mode, about to clear CR0.PE
 *   in_real_again    real mode again, as code that calls the BIOS does   'r'
 * then writes EXIT_VALUE to the exit port: exit code (EXIT_VALUE << 1) | 1 = 15.
 *
 * Each stage leaves a value for the debugger to read: BX = 0x1234 in real mode, EBX =
 * 0xcafe0032 in protected mode, RBX = 0x1122334455667788 and R9 = 0x99 in long mode,
 * BX = 0x4321 in real mode again. */

    .set EXIT_VALUE, 7
    .set DEBUG_CONSOLE, 0xe9
    .set EXIT_PORT, 0xf4
    .set PML4, 0x10000             /* page tables: PML4, PDPT and PD in three 4 KiB pages */
    .set CODE32, 0x08
    .set DATA32, 0x10
    .set CODE64, 0x18
    .set CODE16, 0x20
    .set DATA16, 0x28
    .set MSR_EFER, 0xc0000080

    .section .text
    .globl _start, in_real, pe_window, in_protected, in_long, in_compat, in_protected16
    .globl in_real_again, finish, gdt

    .code16
_start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0x7c00, %sp
in_real:
    mov $'R', %al
    out %al, $DEBUG_CONSOLE
    mov $0x1234, %bx
    lgdtl gdt_descriptor
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
pe_window:                         /* protected mode, but CS still holds its real-mode base */
    ljmp $CODE32, $in_protected

    .code32
in_protected:
    mov $DATA32, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov $0x7c00, %esp
    mov $'P', %al
    out %al, $DEBUG_CONSOLE
    mov $0xcafe0032, %ebx
    /* Page tables: PML4[0] -> PDPT, PDPT[0] -> PD, PD[0] = 2 MiB page at 0 (present,
     * writable, large). */
    mov $PML4, %edi
    xor %eax, %eax
    mov $(3 * 4096 / 4), %ecx
    rep stosl
    movl $(PML4 + 0x1000 + 3), PML4
    movl $(PML4 + 0x2000 + 3), PML4 + 0x1000
    movl $0x83, PML4 + 0x2000
    mov $PML4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $(1 << 5), %eax             /* PAE */
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $(1 << 8), %eax             /* LME */
    wrmsr
    mov %cr0, %eax
    or $(1 << 31), %eax            /* PG: long mode becomes active */
    mov %eax, %cr0
    ljmp $CODE64, $in_long

    .code64
in_long:
    mov $'L', %al
    out %al, $DEBUG_CONSOLE
    movabs $0x1122334455667788, %rbx
    mov $0x99, %r9
    /* Back to 32-bit code: a far return into the 32-bit code segment. */
    pushq $CODE32
    lea in_compat(%rip), %rax
    push %rax
    lretq

    .code32
in_compat:
    mov %cr0, %eax
    and $~(1 << 31), %eax          /* paging off: long mode is no longer active */
    mov %eax, %cr0
    mov $MSR_EFER, %ecx
    rdmsr
    and $~(1 << 8), %eax
    wrmsr
    ljmp $CODE16, $in_protected16

    .code16
in_protected16:
    mov $DATA16, %ax               /* 64 KiB limits, as real mode expects */
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov %cr0, %eax
    and $~1, %eax
    mov %eax, %cr0
    ljmp $0, $in_real_again

in_real_again:
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0x7c00, %sp
    mov $'r', %al
    out %al, $DEBUG_CONSOLE
    mov $0x4321, %bx
finish:
    mov $EXIT_VALUE, %al
    out %al, $EXIT_PORT
1:  hlt
    jmp 1b

    .p2align 3
gdt:
    .quad 0                        /* null */
    .quad 0x00cf9a000000ffff       /* 0x08: 32-bit code, base 0, 4 GiB */
    .quad 0x00cf92000000ffff       /* 0x10: data, base 0, 4 GiB */
    .quad 0x00af9a000000ffff       /* 0x18: 64-bit code */
    .quad 0x00009a000000ffff       /* 0x20: 16-bit code, base 0, 64 KiB */
    .quad 0x000092000000ffff       /* 0x28: 16-bit data, base 0, 64 KiB */
gdt_end:
gdt_descriptor:
    .word gdt_end - gdt - 1
    .long gdt

    .org 510
    .byte 0x55, 0xaa
