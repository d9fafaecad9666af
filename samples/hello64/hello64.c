/* hello64: a 64-bit freestanding guest for hvgdb's end-to-end tests (gdb drives it on KVM).
 * It has what a debugger test needs: functions with arguments and locals, a recursion for
 * backtraces, globals to print and set, a loop to break in, serial output and an exit code.
 *
 * Exit code: kmain returns V = (counter + exit_bias) & 0x7f; start64.S writes V to port 0xf4,
 * so the run ends with exit code (V << 1) | 1.  Unchanged: counter = LOOP_COUNT = 10 and
 * exit_bias = 11, so V = 21 and the exit code is 43.  `set var exit_bias = 1` gives V = 11,
 * exit code 23.
 *
 * hold_at_end: when a debugger sets it non-zero, kmain spins in wait_for_debugger() before
 * exiting, so a test can detach, let the guest run, and attach again.
 *
 * The tests find source lines by the "E2E:" markers in comments; keep them unique. */

#include "guest_io.h"

#define LOOP_COUNT 10
#define FACTORIAL_N 6

struct point {
    int x;
    int y;
    const char* label;
};

/* Globals for gdb to print and set. */
int counter;                            /* ticks of the main loop, 0 at start */
int exit_bias = 11;                     /* added to counter to form the exit value */
char greeting[] = "hello from hello64"; /* writable: a test may patch it before it is printed */
struct point origin = {3, 4, "origin"};
volatile int hold_at_end; /* non-zero: spin before exiting (see above) */
int last_tick = -1;       /* argument of the latest tick() */
u64 factorial_result;

static void print_result(const char* what, u32 value) {
    serial_puts(what);
    serial_put_dec(value);
    serial_putc('\n');
}

int add(int a, int b) {
    int sum = a + b; /* E2E: add-body */
    return sum;
}

u64 factorial(u32 n) {
    if (n <= 1) {
        return 1; /* E2E: factorial-base */
    }
    u64 below = factorial(n - 1);
    return n * below;
}

int point_norm2(const struct point* p, int scale) {
    int sx = p->x * scale;
    int sy = p->y * scale;
    return sx * sx + sy * sy;
}

void tick(int i) {
    last_tick = i;
    counter = counter + 1; /* E2E: tick-body */
}

void wait_for_debugger(void) {
    while (hold_at_end) { /* E2E: spin */
    }
}

int kmain(void) {
    serial_puts(greeting); /* E2E: first-line */
    serial_putc('\n');

    int sum = add(2, 3); /* E2E: call-add */
    print_result("add(2, 3) = ", (u32)sum);

    factorial_result = factorial(FACTORIAL_N); /* E2E: call-factorial */
    print_result("factorial(6) = ", (u32)factorial_result);

    int norm2 = point_norm2(&origin, 2);
    serial_puts(origin.label);
    print_result(" norm2 x2 = ", (u32)norm2);

    for (int i = 0; i < LOOP_COUNT; i++) {
        tick(i); /* E2E: loop-body */
    }
    print_result("counter = ", (u32)counter);

    wait_for_debugger();

    int value = (counter + exit_bias) & 0x7f; /* E2E: exit-value */
    print_result("exit value = ", (u32)value);
    return value;
}
