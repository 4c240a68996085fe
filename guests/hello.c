/* The smallest guest: print a greeting and power off. */
#include "lib.h"

int main(void)
{
    uart_puts("Hello from an AArch64 guest!\n");
    psci_system_off();
}
