/* fault.elf: a 32-bit protected-mode guest (ELF32, loaded at 1 MiB) that stops the CPU with a
 * triple fault, for hvgdb's end-to-end tests of fault stops.
 *
 * It prints "fault: loading an empty IDT" to the debug console, puts FAULT_EAX in EAX, loads
 * an IDT with limit 0 and executes ud2 at `fault_here`: the #UD finds no gate, nor do the
 * #GP and the double fault that follow, and the CPU shuts down (a triple fault, Intel SDM
 * vol. 3A, 6.15 "Interrupt 8").  Nothing after that runs by itself.  Two entry points for a
 * debugger that moves the PC after the fault:
 *   recovered  prints "fault: recovered by the debugger" and exits with 0x11 (exit code 35);
 *   fpu_init   executes finit (fwait, fninit), prints "fault: finit ran" and exits with 0x12
 *              (exit code 37).  Hardware runs it; a host that emulates it and cannot (kvm_pvm
 *              fails on the fwait) stops the guest with an internal error instead.
 * Labels for tests: _start, fault_here, recovered, fpu_init, fpu_done, marker. */

    .set FAULT_EAX, 0x1234abcd
    .set RECOVERED_VALUE, 0x11
    .set FPU_VALUE, 0x12
    .set DEBUG_CONSOLE, 0xe9
    .set EXIT_PORT, 0xf4

    .code32
    .section .text
    .globl _start, fault_here, recovered, fpu_init, fpu_done, marker
_start:
    mov $starting, %esi
    call puts
    mov $FAULT_EAX, %eax
    lidt empty_idt
fault_here:
    ud2

recovered:
    mov $recovered_text, %esi
    call puts
    mov $RECOVERED_VALUE, %al
    jmp exit_to_host

fpu_init:
    finit
fpu_done:
    mov $fpu_text, %esi
    call puts
    mov $FPU_VALUE, %al

exit_to_host:
    out %al, $EXIT_PORT
1:  hlt
    jmp 1b

/* Prints the NUL-terminated string at ESI to the debug console.  Clobbers AL, DX, ESI;
 * keeps EAX's upper bytes. */
puts:
    push %eax
    mov $DEBUG_CONSOLE, %dx
2:  lodsb
    test %al, %al
    jz 3f
    out %al, %dx
    jmp 2b
3:  pop %eax
    ret

    .section .rodata
    .balign 8
empty_idt:
    .word 0                         /* limit 0: no gate at all */
    .long 0
marker:
    .asciz "FAULTMARK"
starting:       .asciz "fault: loading an empty IDT\n"
recovered_text: .asciz "fault: recovered by the debugger\n"
fpu_text:       .asciz "fault: finit ran\n"

    .section .note.GNU-stack, "", @progbits
