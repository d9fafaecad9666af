/* smp: constants shared by the assembly start-up code and the C code, and the C interfaces
 * between smp.c and acpi.c.  Depends on guest_io.h (C only). */
#ifndef HVGDB_SAMPLES_SMP_H
#define HVGDB_SAMPLES_SMP_H

/* CPU numbers are local APIC IDs; CPUs whose ID is MAX_CPUS or more are not started. */
#define MAX_CPUS 8
#define CPU_STACK_SHIFT 12 /* 4 KiB per application processor */
#define CPU_STACK_SIZE (1 << CPU_STACK_SHIFT)

/* Selectors of the GDT in trampoline.S, which the BSP and the APs load. */
#define CODE32_SELECTOR 0x08
#define DATA32_SELECTOR 0x10

#define LAPIC_DEFAULT_BASE 0xfee00000
#define LAPIC_ID 0x20 /* bits 31:24: the local APIC ID (SDM vol. 3A, 10.4.6) */

#ifndef __ASSEMBLER__

#include "guest_io.h"

/* What the MADT says about the processors (ACPI 6.5, 5.2.12). */
struct cpu_list {
    u32 lapic_base;        /* "Local Interrupt Controller Address" */
    u32 count;             /* enabled processors with an APIC ID below MAX_CPUS */
    u32 skipped;           /* enabled processors left out: APIC ID too large, or too many */
    u8 apic_ids[MAX_CPUS]; /* in MADT order */
};

/* Fills `cpus` from the MADT and returns 0, or returns why there is no usable MADT (no RSDP,
 * a bad checksum, no MADT in the RSDT). */
const char* read_madt(struct cpu_list* cpus);

/* Entry points called from start.S (the BSP) and trampoline.S (each AP). */
int kmain(void);
void ap_main(u32 cpu);

#endif /* __ASSEMBLER__ */
#endif /* HVGDB_SAMPLES_SMP_H */
