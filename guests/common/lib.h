/* Tiny support library for the bare-metal guests (UART output and PSCI). */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long s64;
typedef unsigned long usize;

#define PSCI_VERSION        0x84000000u
#define PSCI_CPU_OFF        0x84000002u
#define PSCI_CPU_ON         0xC4000003u
#define PSCI_SYSTEM_OFF     0x84000008u

#define PSCI_SUCCESS            0
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_ALREADY_ON         (-4)

/* Guests may build with more CPUs (-DMAX_CPUS=16 -DSTACK_SHIFT=13: the stack area
 * holds 8 x 16 KiB). */
#ifndef MAX_CPUS
#define MAX_CPUS 8
#endif

/* Hide a value from the optimiser so the computation on it happens at run time. */
#define OPAQUE(x) ({ __auto_type __v = (x); __asm__ volatile("" : "+r"(__v)); __v; })

void uart_putc(char c);
void uart_puts(const char *s);
void put_hex(u64 v);               /* "0x" + 16 hex digits */
void put_hexn(u64 v, int digits);  /* "0x" + `digits` hex digits */
void put_udec(u64 v);
void put_sdec(s64 v);
/* "label: 0x0123456789abcdef\n" */
void put_labelled_hex(const char *label, u64 v);
/* "label: 123\n" */
void put_labelled_dec(const char *label, s64 v);

u32 cpu_id(void);                  /* MPIDR_EL1.Aff0 */

s64 psci_call(u64 fn, u64 a1, u64 a2, u64 a3);
u32 psci_version(void);
s64 psci_cpu_on(u64 target_mpidr, void (*entry)(void), u64 context);
void psci_cpu_off(void) __attribute__((noreturn));
void psci_system_off(void) __attribute__((noreturn));

/* Entry point for CPU_ON (in start.S); calls secondary_main(context). */
void secondary_entry(void);
void secondary_main(u64 context);

void *memset(void *dst, int c, usize n);
void *memcpy(void *dst, const void *src, usize n);
void *memmove(void *dst, const void *src, usize n);
int memcmp(const void *a, const void *b, usize n);

#endif
