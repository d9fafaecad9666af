/* hello32: a 32-bit protected-mode freestanding guest for hvgdb's end-to-end tests.
 * Functions with arguments and locals, a recursion, globals, serial output and an exit code.
 *
 * Exit code: kmain returns V = (counter + exit_bias) & 0x7f; start32.S writes V to port 0xf4,
 * so the run ends with exit code (V << 1) | 1.  Unchanged: counter = sum_to(5) = 15 and
 * exit_bias = 10, so V = 25 and the exit code is 51.  `set var exit_bias = 0` gives V = 15,
 * exit code 31.
 *
 * 32-bit code must not need libgcc (it is not linked): no 64-bit division here. */

#include "guest_io.h"

#define SUM_N 5
#define FIB_N 10

int counter;        /* sum_to() adds into it; 15 at the end */
int exit_bias = 10; /* added to counter to form the exit value */
char greeting[] = "hello from hello32";
int fib_result;

static void print_result(const char* what, u32 value) {
    serial_puts(what);
    serial_put_dec(value);
    serial_putc('\n');
}

int fib(int n) {
    if (n < 2) {
        return n; /* E2E: fib-base */
    }
    return fib(n - 1) + fib(n - 2);
}

int sum_to(int n) {
    for (int i = 1; i <= n; i++) {
        counter = counter + i; /* E2E: sum-body */
    }
    return counter;
}

int kmain(void) {
    serial_puts(greeting);
    serial_putc('\n');

    fib_result = fib(FIB_N); /* E2E: call-fib */
    print_result("fib(10) = ", (u32)fib_result);

    int total = sum_to(SUM_N);
    print_result("sum_to(5) = ", (u32)total);

    int value = (counter + exit_bias) & 0x7f; /* E2E: exit-value */
    print_result("exit value = ", (u32)value);
    return value;
}
