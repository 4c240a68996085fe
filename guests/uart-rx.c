/*
 * PL011 receive. The test harness feeds a fixed text on the UART's input
 * (standard input of QEMU and of our emulator): two lines. The first is read
 * by polling FR.RXFE, the second with the RX interrupt (UARTIMSC.RXIM and
 * RTIM, SPI 1 = INTID 33 through the GICv2) while the CPU waits with WFI.
 * Each line is echoed transformed (reversed, then ROT13) with its length and
 * a checksum. The FIFOs stay disabled (LCR_H.FEN = 0), so there is a
 * one-character holding register and an RX interrupt per character; the
 * number of interrupts depends on timing and is not printed.
 */
#include "sys.h"

#define UART_BASE   0x09000000ul
#define UART_DR     0x000
#define UART_FR     0x018
#define UART_LCR_H  0x02c
#define UART_CR     0x030
#define UART_IMSC   0x038
#define UART_RIS    0x03c
#define UART_MIS    0x040

#define FR_RXFE     (1u << 4)
#define INT_RX      (1u << 4)
#define INT_RT      (1u << 6)
#define UART_INTID  33

#define LINE_MAX    200

static inline u32 uart_r(u32 off) { return mmio_r32(UART_BASE + off); }
static inline void uart_w(u32 off, u32 v) { mmio_w32(UART_BASE + off, v); }

static char irq_line[LINE_MAX];
static volatile u32 irq_len;
static volatile u32 irq_line_done;
static volatile u32 irq_count;
static volatile u32 rx_errors;

/* Takes one received character (DR bits 11:8 are error flags). */
static void rx_char(u32 dr)
{
    if (dr & 0xf00)
        rx_errors++;
    char c = (char)(dr & 0xff);
    if (irq_line_done)
        return;
    if (c == '\n') {
        irq_line_done = 1;
    } else if (irq_len < LINE_MAX) {
        irq_line[irq_len] = c;
        irq_len = irq_len + 1;
    }
}

void exception_handler(struct exc_frame *f, u64 vector)
{
    if ((vector & 3) != VEC_IRQ) {
        fatal_exception("unexpected exception", f, vector);
    }
    u32 iar = gic_ack();
    u32 id = iar & 0x3ff;
    if (id == GIC_SPURIOUS)
        return;
    if (id == UART_INTID) {
        irq_count++;
        /* Drain the receiver; reading DR clears the RX interrupt. */
        while (!(uart_r(UART_FR) & FR_RXFE) && !irq_line_done)
            rx_char(uart_r(UART_DR));
        if (irq_line_done)
            uart_w(UART_IMSC, 0);       /* the rest is read by polling */
    } else {
        uart_puts("unexpected interrupt ");
        put_udec(id);
        uart_putc('\n');
    }
    gic_eoi(iar);
}

static u32 poll_getc(void)
{
    while (uart_r(UART_FR) & FR_RXFE)
        ;
    return uart_r(UART_DR);
}

static char rot13(char c)
{
    if (c >= 'a' && c <= 'z')
        return (char)('a' + (c - 'a' + 13) % 26);
    if (c >= 'A' && c <= 'Z')
        return (char)('A' + (c - 'A' + 13) % 26);
    return c;
}

static void echo(const char *how, const char *line, u32 len)
{
    u32 sum = 0;
    for (u32 i = 0; i < len; i++)
        sum = sum * 31 + (u8)line[i];
    uart_puts(how);
    uart_puts(": ");
    put_udec(len);
    uart_puts(" chars, checksum ");
    put_hexn(sum, 8);
    uart_puts(", reversed rot13: \"");
    for (u32 i = len; i > 0; i--)
        uart_putc(rot13(line[i - 1]));
    uart_puts("\"\n");
}

int main(void)
{
    static char line[LINE_MAX];
    install_vectors();
    uart_puts("uart-rx: start\n");

    /* 8 bits, FIFOs off; UART, transmitter and receiver on. */
    uart_w(UART_LCR_H, 3u << 5);
    uart_w(UART_CR, (1u << 0) | (1u << 8) | (1u << 9));
    uart_w(UART_IMSC, 0);

    /* Line 1: polling */
    u32 len = 0;
    for (;;) {
        u32 dr = poll_getc();
        if (dr & 0xf00)
            rx_errors++;
        char c = (char)(dr & 0xff);
        if (c == '\n')
            break;
        if (len < LINE_MAX)
            line[len++] = c;
    }
    echo("polled", line, len);

    /* Line 2: interrupts */
    gic_dist_enable();
    gic_cpu_enable();
    gic_enable_irq(UART_INTID, 0xa0, 1);
    /* No UARTICR write: a character may already be waiting, and clearing
     * its RX interrupt would leave it unsignalled. */
    uart_w(UART_IMSC, INT_RX | INT_RT);
    irq_disable();
    while (!irq_line_done) {
        wfi();
        irq_enable();
        isb();
        irq_disable();
    }
    echo("interrupt", irq_line, irq_len);
    uart_puts(irq_count ? "received with interrupts: yes\n" : "received with interrupts: no\n");
    uart_puts("imsc after: ");
    put_hexn(uart_r(UART_IMSC), 2);
    uart_puts(", mis after: ");
    put_hexn(uart_r(UART_MIS) & (INT_RX | INT_RT), 2);
    uart_putc('\n');

    /* The rest (line 3, "end"), by polling again. */
    len = 0;
    for (;;) {
        char c = (char)(poll_getc() & 0xff);
        if (c == '\n')
            break;
        if (len < LINE_MAX)
            line[len++] = c;
    }
    echo("polled", line, len);
    uart_puts(uart_r(UART_FR) & FR_RXFE ? "receiver empty at the end\n" : "receiver not empty\n");
    put_labelled_dec("receive errors", rx_errors);
    uart_puts("uart-rx: done\n");
    return 0;
}
