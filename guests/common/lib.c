/* Tiny support library for the bare-metal guests (UART output and PSCI). */
#include "lib.h"

#define UART_BASE   0x09000000ul
#define UART_DR     0x00
#define UART_FR     0x18
#define UART_FR_TXFF (1u << 5)

static inline void mmio_write32(u64 addr, u32 v)
{
    *(volatile u32 *)addr = v;
}

static inline u32 mmio_read32(u64 addr)
{
    return *(volatile u32 *)addr;
}

void uart_putc(char c)
{
    while (mmio_read32(UART_BASE + UART_FR) & UART_FR_TXFF)
        ;
    mmio_write32(UART_BASE + UART_DR, (u8)c);
}

void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

void put_hex(u64 v)
{
    static const char digits[] = "0123456789abcdef";
    uart_putc('0');
    uart_putc('x');
    for (int shift = 60; shift >= 0; shift -= 4)
        uart_putc(digits[(v >> shift) & 0xf]);
}

void put_hexn(u64 v, int digits)
{
    static const char hexdigits[] = "0123456789abcdef";
    uart_putc('0');
    uart_putc('x');
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4)
        uart_putc(hexdigits[(v >> shift) & 0xf]);
}

void put_udec(u64 v)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        uart_putc(buf[--n]);
}

void put_sdec(s64 v)
{
    if (v < 0) {
        uart_putc('-');
        put_udec(-(u64)v);
    } else {
        put_udec((u64)v);
    }
}

void put_labelled_hex(const char *label, u64 v)
{
    uart_puts(label);
    uart_puts(": ");
    put_hex(v);
    uart_putc('\n');
}

void put_labelled_dec(const char *label, s64 v)
{
    uart_puts(label);
    uart_puts(": ");
    put_sdec(v);
    uart_putc('\n');
}

u32 cpu_id(void)
{
    u64 mpidr;
    __asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
    return (u32)(mpidr & 0xff);
}

s64 psci_call(u64 fn, u64 a1, u64 a2, u64 a3)
{
    register u64 x0 __asm__("x0") = fn;
    register u64 x1 __asm__("x1") = a1;
    register u64 x2 __asm__("x2") = a2;
    register u64 x3 __asm__("x3") = a3;
    /* SMCCC: x4-x17 may be clobbered by the callee. */
    __asm__ volatile("hvc #0"
                     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                     :
                     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
                       "x13", "x14", "x15", "x16", "x17", "memory");
    return (s64)x0;
}

u32 psci_version(void)
{
    return (u32)psci_call(PSCI_VERSION, 0, 0, 0);
}

s64 psci_cpu_on(u64 target_mpidr, void (*entry)(void), u64 context)
{
    return psci_call(PSCI_CPU_ON, target_mpidr, (u64)entry, context);
}

void psci_cpu_off(void)
{
    psci_call(PSCI_CPU_OFF, 0, 0, 0);
    for (;;)
        ;
}

void psci_system_off(void)
{
    psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    for (;;)
        ;
}

/* The compiler may emit calls to these; build with
 * -fno-tree-loop-distribute-patterns so they do not call themselves. */
void *memset(void *dst, int c, usize n)
{
    u8 *d = dst;
    while (n--)
        *d++ = (u8)c;
    return dst;
}

void *memcpy(void *dst, const void *src, usize n)
{
    u8 *d = dst;
    const u8 *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, usize n)
{
    u8 *d = dst;
    const u8 *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        d += n;
        s += n;
        while (n--)
            *--d = *--s;
    }
    return dst;
}

int memcmp(const void *a, const void *b, usize n)
{
    const u8 *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y)
            return *x < *y ? -1 : 1;
    }
    return 0;
}
