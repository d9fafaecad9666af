/* smp: the processor list from the ACPI tables (ACPI 6.5, chapter 5.2): the RSDP, then the
 * RSDT, then the MADT and its Processor Local APIC entries.  Every table's checksum is checked.
 * Paging is off, so a table's physical address is its address. */

#include "smp.h"

#define RSDP_CHECKSUM_LENGTH 20 /* the ACPI 1.0 part of the RSDP (5.2.5.3) */
#define RSDP_RSDT_ADDRESS 16
#define SDT_HEADER_LENGTH 36 /* signature, length, revision, checksum, OEM fields (5.2.6) */
#define SDT_LENGTH 4
#define MADT_LAPIC_ADDRESS 36 /* the MADT's fields after the header (5.2.12) */
#define MADT_ENTRIES 44
#define MADT_PROCESSOR_LOCAL_APIC 0
#define LAPIC_ENTRY_APIC_ID 3
#define LAPIC_ENTRY_FLAGS 4
#define LAPIC_ENABLED 1u
#define MAX_TABLE_LENGTH 0x10000 /* a bound against a corrupt length field */
#define BDA_EBDA_SEGMENT 0x40e

/* A pointer to physical address `address`, laundered through an empty asm statement: GCC
 * treats constant addresses below 4 KiB as offsets from a null pointer and warns about them. */
static const u8* phys(u32 address) {
    const u8* p;
    __asm__("" : "=r"(p) : "0"(address));
    return p;
}

static u32 read_u32(const u8* p) {
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static int bytes_equal(const u8* p, const char* text, u32 n) {
    for (u32 i = 0; i < n; i++) {
        if (p[i] != (u8)text[i]) {
            return 0;
        }
    }
    return 1;
}

/* ACPI checksums: all bytes of the structure add up to 0 modulo 256. */
static int checksum_ok(const u8* p, u32 length) {
    u8 sum = 0;
    for (u32 i = 0; i < length; i++) {
        sum = (u8)(sum + p[i]);
    }
    return sum == 0;
}

/* The RSDP lies on a 16-byte boundary in [start, start + length) (5.2.5.1). */
static const u8* scan_for_rsdp(u32 start, u32 length) {
    for (u32 address = start; address + RSDP_CHECKSUM_LENGTH <= start + length; address += 16) {
        const u8* p = phys(address);
        if (bytes_equal(p, "RSD PTR ", 8) && checksum_ok(p, RSDP_CHECKSUM_LENGTH)) {
            return p;
        }
    }
    return 0;
}

/* First the first KiB of the Extended BIOS Data Area (its segment is the word at 0x40E), then
 * the BIOS read-only area 0xE0000-0xFFFFF. */
static const u8* find_rsdp(void) {
    const u8* bda = phys(BDA_EBDA_SEGMENT);
    u32 ebda = ((u32)bda[0] | (u32)bda[1] << 8) << 4;
    const u8* rsdp = ebda != 0 ? scan_for_rsdp(ebda, 1024) : 0;
    return rsdp != 0 ? rsdp : scan_for_rsdp(0xe0000, 0x20000);
}

/* The system description table at `address` if it has this signature, a sane length and a
 * good checksum; else 0. */
static const u8* checked_table(u32 address, const char* signature, u32* length) {
    const u8* table = phys(address);
    if (!bytes_equal(table, signature, 4)) {
        return 0;
    }
    *length = read_u32(table + SDT_LENGTH);
    if (*length < SDT_HEADER_LENGTH || *length > MAX_TABLE_LENGTH || !checksum_ok(table, *length)) {
        return 0;
    }
    return table;
}

static void add_processors(const u8* madt, u32 length, struct cpu_list* cpus) {
    for (u32 at = MADT_ENTRIES; at + 2 <= length;) {
        u8 type = madt[at];
        u8 entry_length = madt[at + 1];
        if (entry_length < 2 || at + entry_length > length) {
            break; /* a corrupt entry: the rest cannot be parsed */
        }
        if (type == MADT_PROCESSOR_LOCAL_APIC && entry_length >= 8 &&
            (read_u32(madt + at + LAPIC_ENTRY_FLAGS) & LAPIC_ENABLED) != 0) {
            u8 apic_id = madt[at + LAPIC_ENTRY_APIC_ID];
            if (apic_id < MAX_CPUS && cpus->count < MAX_CPUS) {
                cpus->apic_ids[cpus->count++] = apic_id;
            } else {
                cpus->skipped++;
            }
        }
        at += entry_length;
    }
}

const char* read_madt(struct cpu_list* cpus) {
    cpus->lapic_base = LAPIC_DEFAULT_BASE;
    cpus->count = 0;
    cpus->skipped = 0;

    const u8* rsdp = find_rsdp();
    if (rsdp == 0) {
        return "no RSDP";
    }
    u32 rsdt_length;
    const u8* rsdt = checked_table(read_u32(rsdp + RSDP_RSDT_ADDRESS), "RSDT", &rsdt_length);
    if (rsdt == 0) {
        return "bad RSDT";
    }
    for (u32 at = SDT_HEADER_LENGTH; at + 4 <= rsdt_length; at += 4) {
        u32 length;
        const u8* madt = checked_table(read_u32(rsdt + at), "APIC", &length);
        if (madt == 0 || length < MADT_ENTRIES) {
            continue;
        }
        cpus->lapic_base = read_u32(madt + MADT_LAPIC_ADDRESS);
        add_processors(madt, length, cpus);
        return cpus->count != 0 ? 0 : "no usable processor in the MADT";
    }
    return "no MADT";
}
