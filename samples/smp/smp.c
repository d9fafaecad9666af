/* smp: a 32-bit protected-mode guest that starts every processor the ACPI MADT lists, for
 * hvgdb's multi-vCPU end-to-end tests (threads, all-stop, scheduler-locking, non-stop).
 *
 * The bootstrap processor (BSP) reads the processor list (acpi.c), then starts each
 * application processor (AP) with INIT, a wait, and two Startup IPIs through its local xAPIC
 * (SDM vol. 3A, 8.4.4.1 and 10.6.1).  An AP enters protected mode in trampoline.S and calls
 * ap_main(), checks in and waits.  Once every AP has checked in, all CPUs, the BSP too, run
 * cpu_work() together: `iterations` times, each adds one to its own per_cpu_counter[] and, in
 * bump_shared() under a spinlock, one to shared_counter.
 * The BSP waits for every started CPU to finish, checks shared_counter == the sum of the
 * per-CPU counters == CPUs * iterations, prints a summary on the serial port and returns the
 * exit value.  CPU numbers are local APIC IDs.  With one CPU in the MADT, or without usable
 * ACPI tables, the BSP works alone and never touches the local APIC.
 *
 * Exit code: kmain returns V = 0x30 + CPUs on success and V = 0x70 + CPUs on failure (CPUs:
 * the processors that ran cpu_work); the run ends with exit code (V << 1) | 1, so success is
 * 97 + 2 * CPUs: 99 with one CPU, 101 with two, 103 with three.
 *
 * No libgcc: 32-bit arithmetic only. */

#include "smp.h"

#define EXIT_OK_BASE 0x30
#define EXIT_FAILED_BASE 0x70

#define LAPIC_ICR_LOW 0x300 /* writing it sends the IPI (SDM vol. 3A, 10.6.1) */
#define LAPIC_ICR_HIGH 0x310
#define ICR_DESTINATION_SHIFT 24
#define ICR_INIT 0x500    /* delivery mode 101 */
#define ICR_STARTUP 0x600 /* delivery mode 110; the vector is the start page number */
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_LEVEL_ASSERT (1u << 14)
#define AP_START_VECTOR 0x08 /* trampoline.S at 0x8000 */

/* Busy waits in turns of a pause loop, as there is no timer.  The SDM asks for 10 ms after
 * INIT and 200 us after a Startup IPI; the counts below give that and more where the loop runs
 * in emulation (about 6 us a turn under a nested hypervisor), less where it runs at native
 * speed.  An AP that has not checked in after AP_CHECK_IN_TURNS counts as not started; an
 * IPI still pending after DELIVERY_WAIT_TURNS is left to the waits that follow it. */
#define INIT_WAIT_TURNS 20000
#define STARTUP_WAIT_TURNS 2000
#define DELIVERY_WAIT_TURNS 2000
#define AP_CHECK_IN_TURNS 1000000

/* Turns of cpu_work()'s loop per CPU: about 3 s where guest code runs in emulation. */
volatile u32 iterations = 50000;

volatile u32 per_cpu_counter[MAX_CPUS]; /* each written by its own CPU only */
volatile u32 shared_counter;            /* written under shared_lock only */
volatile u32 shared_lock;               /* 0 free, 1 held */
volatile u32 cpu_started[MAX_CPUS];     /* set by each CPU as it checks in */
volatile u32 cpus_go;                   /* set by the BSP when every AP has checked in */
volatile u32 cpu_done[MAX_CPUS];        /* set by each CPU when it leaves cpu_work */

u32 lapic_base = LAPIC_DEFAULT_BASE; /* read by trampoline.S: each AP's APIC ID */
struct cpu_list cpus;                /* from the MADT */

static void cpu_relax(void) {
    __asm__ volatile("pause" ::: "memory");
}

static void spin(u32 turns) {
    for (volatile u32 i = 0; i < turns; i++) {
        cpu_relax();
    }
}

static void spin_lock(volatile u32* lock) {
    for (;;) {
        u32 was = 1;
        __asm__ volatile("lock xchg %0, %1" : "+r"(was), "+m"(*lock) : : "memory");
        if (was == 0) {
            return;
        }
        while (*lock != 0) {
            cpu_relax();
        }
    }
}

static void spin_unlock(volatile u32* lock) {
    /* x86 stores are not reordered with older loads and stores (SDM vol. 3A, 8.2.2): a plain
     * store releases, once the compiler is kept from moving accesses past it. */
    __asm__ volatile("" ::: "memory");
    *lock = 0;
}

void bump_shared(void) {
    spin_lock(&shared_lock);
    shared_counter = shared_counter + 1;
    spin_unlock(&shared_lock);
}

/* `iterations` is read on every turn, so a debugger may raise it while the CPUs run, or lower
 * it to no less than the largest per_cpu_counter[] so that every CPU ends on the same count. */
void cpu_work(u32 cpu) {
    while (per_cpu_counter[cpu] < iterations) {
        per_cpu_counter[cpu] = per_cpu_counter[cpu] + 1; /* E2E: per-cpu-bump */
        bump_shared();
    }
    cpu_done[cpu] = 1; /* E2E: cpu-done */
}

void ap_main(u32 cpu) {
    cpu_started[cpu] = 1;
    while (!cpus_go) {
        cpu_relax();
    }
    cpu_work(cpu);
}

static u32 lapic_read(u32 reg) {
    return *(volatile u32*)(lapic_base + reg);
}

static void lapic_write(u32 reg, u32 value) {
    *(volatile u32*)(lapic_base + reg) = value;
}

static void send_ipi(u32 apic_id, u32 command) {
    lapic_write(LAPIC_ICR_HIGH, apic_id << ICR_DESTINATION_SHIFT);
    lapic_write(LAPIC_ICR_LOW, command);
    for (u32 turns = 0; (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING) != 0; turns++) {
        if (turns == DELIVERY_WAIT_TURNS) {
            break;
        }
        cpu_relax();
    }
}

/* INIT, wait, Startup, wait, Startup, wait (SDM vol. 3A, 8.4.4.1), then up to
 * AP_CHECK_IN_TURNS for the AP to check in from ap_main.  Returns whether it did. */
static int start_ap(u32 apic_id) {
    send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
    spin(INIT_WAIT_TURNS);
    for (int i = 0; i < 2; i++) {
        send_ipi(apic_id, ICR_STARTUP | ICR_LEVEL_ASSERT | AP_START_VECTOR);
        spin(STARTUP_WAIT_TURNS);
    }
    for (u32 turns = 0; turns < AP_CHECK_IN_TURNS; turns++) {
        if (cpu_started[apic_id]) {
            return 1;
        }
        cpu_relax();
    }
    return 0;
}

static void print_u32(const char* what, u32 value) {
    serial_puts(what);
    serial_put_dec(value);
}

/* The BSP's CPU number: its APIC ID, read from the local APIC when there are other CPUs. */
static u32 find_cpus(void) {
    const char* why = read_madt(&cpus);
    if (why != 0) {
        serial_puts("smp: ");
        serial_puts(why);
        serial_puts(", so 1 CPU\n");
        cpus.count = 1;
        cpus.apic_ids[0] = 0;
        return 0;
    }
    print_u32("smp: cpus in the MADT = ", cpus.count);
    serial_puts(", local APIC at ");
    serial_put_hex(cpus.lapic_base);
    serial_putc('\n');
    if (cpus.skipped != 0) {
        print_u32("smp: left out (APIC ID of ", MAX_CPUS);
        print_u32(" or more): ", cpus.skipped);
        serial_putc('\n');
    }
    if (cpus.count == 1) {
        return cpus.apic_ids[0];
    }
    lapic_base = cpus.lapic_base;
    return lapic_read(LAPIC_ID) >> 24;
}

/* Loads the GDT that each AP loads in trampoline.S, so that all CPUs share one; the loader's
 * has other selectors. */
static void load_shared_gdt(void) {
    __asm__ volatile(
        "lgdt gdt_descriptor\n\t"
        "ljmp %0, $1f\n" /* reload CS */
        "1:\n\t"
        "mov %1, %%eax\n\t"
        "mov %%ax, %%ds\n\t"
        "mov %%ax, %%es\n\t"
        "mov %%ax, %%ss\n\t"
        "mov %%ax, %%fs\n\t"
        "mov %%ax, %%gs"
        :
        : "i"(CODE32_SELECTOR), "i"(DATA32_SELECTOR)
        : "eax", "memory");
}

int kmain(void) {
    load_shared_gdt();
    serial_puts("smp: hello from the bootstrap processor\n");
    u32 bsp = find_cpus();
    u32 running = 0;
    int ok = bsp < MAX_CPUS;
    for (u32 i = 0; ok && i < cpus.count; i++) {
        u32 id = cpus.apic_ids[i];
        if (id == bsp) {
            continue;
        }
        if (start_ap(id)) {
            running++;
        } else {
            print_u32("smp: AP with APIC ID ", id);
            serial_puts(" did not start\n");
            ok = 0;
        }
    }
    if (!ok) {
        print_u32("smp: FAILED: the BSP's APIC ID ", bsp);
        serial_puts(" is not a listed CPU, or an AP did not start\n");
    }

    cpus_go = 1; /* the APs that checked in start their work */
    if (bsp < MAX_CPUS) {
        cpu_started[bsp] = 1;
        cpu_work(bsp);
        running++;
    }
    for (u32 i = 0; i < cpus.count; i++) {
        u32 id = cpus.apic_ids[i];
        while (cpu_started[id] && !cpu_done[id]) {
            cpu_relax();
        }
    }

    u32 sum = 0;
    for (u32 i = 0; i < cpus.count; i++) {
        u32 id = cpus.apic_ids[i];
        print_u32("smp: cpu ", id);
        print_u32(" counted ", per_cpu_counter[id]);
        serial_putc('\n');
        sum += per_cpu_counter[id];
    }
    u32 expected = running * iterations;
    print_u32("smp: shared_counter = ", shared_counter);
    print_u32(", sum of the per-CPU counters = ", sum);
    print_u32(", expected ", expected);
    serial_putc('\n');
    ok = ok && running == cpus.count && shared_counter == sum && sum == expected;

    print_u32(ok ? "smp: ok, cpus = " : "smp: FAILED, cpus = ", running);
    serial_putc('\n');
    int value = (ok ? EXIT_OK_BASE : EXIT_FAILED_BASE) + (int)running;
    print_u32("exit value = ", (u32)value);
    serial_putc('\n');
    return value;
}
