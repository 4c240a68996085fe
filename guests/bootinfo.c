/*
 * What the board hands a guest at entry: x0-x3, MIDR_EL1, where the device
 * tree is and what its /chosen and /memory nodes say. Run as an ELF (bare
 * metal: the tree at the start of RAM, x0 = 0) and as a raw binary (entered
 * like a Linux Image: x0 = the tree's address, after the image).
 *
 * Built with -DRESET_TEST it is the reboot probe instead: it prints one line
 * with a value from .data (which a reboot reloads), changes that value,
 * starts CPU 1 (a reboot must stop it), and asks PSCI for SYSTEM_RESET.
 */
#include "lib.h"

#define PSCI_AFFINITY_INFO 0xC4000004u
#define PSCI_SYSTEM_RESET  0x84000009u
#define RAM_BASE 0x40000000ul

extern char _start[];
extern char __stack_top[];

static u32 be32(const void *p)
{
    const u8 *b = p;
    return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3];
}

static usize slen(const char *s)
{
    usize n = 0;
    while (s[n])
        n++;
    return n;
}

static int streq(const char *a, const char *b)
{
    return slen(a) == slen(b) && memcmp(a, b, slen(a)) == 0;
}

static u64 cells(const u8 *p, u32 len)
{
    return len == 8 ? (u64)be32(p) << 32 | be32(p + 4) : be32(p);
}

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

/* Prints the properties of the top-level nodes named "chosen" and "memory...". */
static __attribute__((unused)) void walk(const u8 *fdt)
{
    const u8 *p = fdt + be32(fdt + 8);
    const char *strings = (const char *)fdt + be32(fdt + 12);
    int depth = 0;
    int chosen = 0, memory = 0;
    for (;;) {
        u32 tok = be32(p);
        p += 4;
        if (tok == FDT_BEGIN_NODE) {
            const char *name = (const char *)p;
            depth++;
            if (depth == 2) {
                chosen = streq(name, "chosen");
                memory = memcmp(name, "memory", 6) == 0;
            }
            p += (slen(name) + 4) & ~3ul;
        } else if (tok == FDT_END_NODE) {
            depth--;
        } else if (tok == FDT_PROP) {
            u32 len = be32(p);
            const char *name = strings + be32(p + 4);
            const u8 *val = p + 8;
            p += 8 + ((len + 3) & ~3u);
            if (depth != 2)
                continue;
            if (memory && streq(name, "reg")) {
                put_labelled_hex("memory base", cells(val, 8));
                put_labelled_hex("memory size", cells(val + 8, 8));
            }
            if (!chosen)
                continue;
            if (streq(name, "bootargs") || streq(name, "stdout-path")) {
                uart_puts("chosen ");
                uart_puts(name);
                uart_puts(": \"");
                uart_puts((const char *)val);
                uart_puts("\"\n");
            } else if (streq(name, "rng-seed") || streq(name, "kaslr-seed")) {
                /* Random: only the size is comparable. */
                uart_puts("chosen ");
                uart_puts(name);
                put_labelled_dec(" bytes", len);
            } else if (streq(name, "linux,initrd-start") || streq(name, "linux,initrd-end")) {
                uart_puts("chosen ");
                put_labelled_hex(name, cells(val, len));
            }
        } else if (tok == FDT_NOP) {
            continue;
        } else {
            break;
        }
    }
}

#ifdef RESET_TEST
static volatile u64 generation = 1;

void secondary_main(u64 context)
{
    (void)context;
    for (;;)
        __asm__ volatile("wfi");
}

int main(void)
{
    put_labelled_dec("reset probe: generation", generation);
    put_labelled_dec("cpu 1 affinity state", psci_call(PSCI_AFFINITY_INFO, 1, 0, 0));
    generation = generation + 1;
    if (psci_cpu_on(1, secondary_entry, 0) != PSCI_SUCCESS)
        uart_puts("CPU_ON failed\n");
    while (psci_call(PSCI_AFFINITY_INFO, 1, 0, 0) != 0)
        ;
    uart_puts("system reset\n");
    psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
    uart_puts("SYSTEM_RESET returned\n");
    return 0;
}
#else
int main(u64 x0, u64 x1, u64 x2, u64 x3)
{
    u64 midr, el;
    __asm__ volatile("mrs %0, midr_el1" : "=r"(midr));
    __asm__ volatile("mrs %0, currentel" : "=r"(el));
    put_labelled_hex("x0", x0);
    put_labelled_hex("x1", x1);
    put_labelled_hex("x2", x2);
    put_labelled_hex("x3", x3);
    put_labelled_hex("midr", midr);
    put_labelled_dec("el", el >> 2);
    const u8 *fdt = (const u8 *)(x0 ? x0 : RAM_BASE);
    if (be32(fdt) != FDT_MAGIC) {
        uart_puts(x0 ? "no device tree at x0\n" : "no device tree at the start of RAM\n");
        return 0;
    }
    put_labelled_dec("dtb 2 MiB aligned", ((u64)fdt & 0x1fffff) == 0);
    put_labelled_dec("dtb clear of the image",
                     (u64)fdt + be32(fdt + 4) <= (u64)_start || (u64)fdt >= (u64)__stack_top);
    walk(fdt);
    return 0;
}
#endif
