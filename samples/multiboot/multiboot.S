/* multiboot: a Multiboot 1 kernel (ELF32, loaded at 1 MiB) for hvgdb's end-to-end tests.
 * The header asks for page-aligned modules and memory information (flags bits 0 and 1).
 * At entry (Multiboot Specification 0.6.96, 3.2) EAX holds 0x2BADB002 and EBX the address of
 * the boot information; the kernel checks the magic value and that exactly one module came,
 * prints what it found to the debug console, and exits through port 0xf4:
 *   value 1 (exit code 3) when both hold, 2 (exit code 5) when the magic is wrong,
 *   3 (exit code 7) when the module count is wrong.
 * Labels for tests: _start, checked (both checks passed), bad_magic, bad_modules. */

    .set MULTIBOOT_MAGIC, 0x1BADB002
    .set MULTIBOOT_FLAGS, 0x3          /* bit 0: page-align modules; bit 1: memory info */
    .set BOOT_MAGIC, 0x2BADB002
    .set INFO_MODS_COUNT, 20           /* offset of mods_count in the boot information */
    .set DEBUG_CONSOLE, 0xe9
    .set EXIT_PORT, 0xf4

    .section .text.start, "ax"
    .align 4
multiboot_header:
    .long MULTIBOOT_MAGIC
    .long MULTIBOOT_FLAGS
    .long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

    .code32
    .globl _start, checked, bad_magic, bad_modules
_start:
    cmp $BOOT_MAGIC, %eax
    jne bad_magic
    cmpl $1, INFO_MODS_COUNT(%ebx)
    jne bad_modules
checked:
    mov $ok_text, %esi
    mov $1, %bl
    jmp finish
bad_magic:
    mov $bad_magic_text, %esi
    mov $2, %bl
    jmp finish
bad_modules:
    mov $bad_modules_text, %esi
    mov $3, %bl
finish:
    mov $DEBUG_CONSOLE, %dx
1:  lodsb
    test %al, %al
    jz 2f
    out %al, %dx
    jmp 1b
2:  mov %bl, %al
    out %al, $EXIT_PORT
3:  hlt
    jmp 3b

    .section .rodata
ok_text:          .asciz "multiboot: magic and one module\n"
bad_magic_text:   .asciz "multiboot: wrong magic in EAX\n"
bad_modules_text: .asciz "multiboot: expected one module\n"
