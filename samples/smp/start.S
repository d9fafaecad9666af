/* smp entry point for the bootstrap processor: hello32's, which the loader starts in 32-bit
 * protected mode; it takes a stack in .bss, calls kmain() and hands kmain's return value V to
 * the exit port (exit code (V << 1) | 1).  kmain first loads the GDT the APs share. */
#include "../hello32/start32.S"
