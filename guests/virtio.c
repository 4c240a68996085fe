/*
 * A bare-metal virtio-mmio driver for the entropy device (-device virtio-rng-device):
 * finds it in the transport bank, negotiates VERSION_1, sets up queue 0, gets 16
 * random bytes, then hands the device a descriptor chain that loops (0 -> 1 -> 0).
 * The device must answer that with DEVICE_NEEDS_RESET and a configuration interrupt,
 * not by hanging or crashing the machine; after a reset the guest goes on.
 */
#include "lib.h"

#define BANK 0x0a000000ul
#define WINDOW 0x200ul
#define TRANSPORTS 32

/* Register offsets (virtio 1.x, 4.2.2). */
#define MAGIC 0x000
#define VERSION 0x004
#define DEVICE_ID 0x008
#define DEVICE_FEATURES 0x010
#define DEVICE_FEATURES_SEL 0x014
#define DRIVER_FEATURES 0x020
#define DRIVER_FEATURES_SEL 0x024
#define QUEUE_SEL 0x030
#define QUEUE_NUM_MAX 0x034
#define QUEUE_NUM 0x038
#define QUEUE_READY 0x044
#define QUEUE_NOTIFY 0x050
#define INTERRUPT_STATUS 0x060
#define INTERRUPT_ACK 0x064
#define STATUS 0x070
#define QUEUE_DESC_LOW 0x080
#define QUEUE_DESC_HIGH 0x084
#define QUEUE_DRIVER_LOW 0x090
#define QUEUE_DRIVER_HIGH 0x094
#define QUEUE_DEVICE_LOW 0x0a0
#define QUEUE_DEVICE_HIGH 0x0a4

#define S_ACKNOWLEDGE 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2

#define QSIZE 8

struct desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};

static struct desc descs[QSIZE] __attribute__((aligned(16)));
static struct {
    u16 flags;
    u16 idx;
    u16 ring[QSIZE];
    u16 used_event;
} avail __attribute__((aligned(4)));
static struct {
    u16 flags;
    u16 idx;
    struct {
        u32 id;
        u32 len;
    } ring[QSIZE];
    u16 avail_event;
} used __attribute__((aligned(4)));
static u8 buf[64] __attribute__((aligned(16)));

static u64 base;

static u32 rd(u32 off)
{
    return *(volatile u32 *)(base + off);
}

static void wr(u32 off, u32 v)
{
    *(volatile u32 *)(base + off) = v;
}

static u64 now(void)
{
    u64 t;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(t));
    return t;
}

static u64 freq(void)
{
    u64 f;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
    return f;
}

/* Waits up to a second for `*p` (16-bit, written by the device) to become `want`. */
static int wait_u16(volatile u16 *p, u16 want)
{
    u64 end = now() + freq();
    while (now() < end) {
        if (*p == want)
            return 1;
    }
    return 0;
}

/* Waits up to a second for status bit `bit`. */
static int wait_status(u32 bit)
{
    u64 end = now() + freq();
    while (now() < end) {
        if (rd(STATUS) & bit)
            return 1;
    }
    return 0;
}

static void publish(u16 head)
{
    avail.ring[avail.idx % QSIZE] = head;
    __asm__ volatile("dmb ishst" ::: "memory");
    avail.idx = avail.idx + 1;
    __asm__ volatile("dsb sy" ::: "memory");
    wr(QUEUE_NOTIFY, 0);
}

static void setup(void)
{
    wr(STATUS, 0);
    wr(STATUS, S_ACKNOWLEDGE);
    wr(STATUS, S_ACKNOWLEDGE | S_DRIVER);
    wr(DEVICE_FEATURES_SEL, 1);
    put_labelled_dec("VERSION_1 offered", rd(DEVICE_FEATURES) & 1);
    wr(DRIVER_FEATURES_SEL, 0);
    wr(DRIVER_FEATURES, 0);
    wr(DRIVER_FEATURES_SEL, 1);
    wr(DRIVER_FEATURES, 1);
    wr(STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
    put_labelled_hex("status after FEATURES_OK", rd(STATUS));
    memset(descs, 0, sizeof(descs));
    memset(&avail, 0, sizeof(avail));
    memset(&used, 0, sizeof(used));
    wr(QUEUE_SEL, 0);
    put_labelled_dec("queue 0 max >= 8", rd(QUEUE_NUM_MAX) >= QSIZE);
    wr(QUEUE_NUM, QSIZE);
    wr(QUEUE_DESC_LOW, (u32)(u64)descs);
    wr(QUEUE_DESC_HIGH, (u32)((u64)descs >> 32));
    wr(QUEUE_DRIVER_LOW, (u32)(u64)&avail);
    wr(QUEUE_DRIVER_HIGH, (u32)((u64)&avail >> 32));
    wr(QUEUE_DEVICE_LOW, (u32)(u64)&used);
    wr(QUEUE_DEVICE_HIGH, (u32)((u64)&used >> 32));
    wr(QUEUE_READY, 1);
    put_labelled_dec("queue ready", rd(QUEUE_READY));
    wr(STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

int main(void)
{
    base = 0;
    for (int n = 0; n < TRANSPORTS; n++) {
        u64 b = BANK + n * WINDOW;
        volatile u32 *r = (volatile u32 *)b;
        if (r[MAGIC / 4] != 0x74726976 || r[VERSION / 4] != 2) {
            uart_puts("transport without magic or version 2\n");
            continue;
        }
        if (r[DEVICE_ID / 4] != 0) {
            put_labelled_hex("device at", b);
            put_labelled_dec("  id", r[DEVICE_ID / 4]);
            if (r[DEVICE_ID / 4] == 4)
                base = b;
        }
    }
    if (!base) {
        uart_puts("no virtio-rng device\n");
        psci_system_off();
    }

    setup();
    /* A good request: one 16-byte device-writable buffer. */
    descs[0] = (struct desc){ (u64)buf, 16, DESC_F_WRITE, 0 };
    publish(0);
    if (!wait_u16(&used.idx, 1)) {
        uart_puts("no used buffer\n");
        psci_system_off();
    }
    put_labelled_dec("used id", used.ring[0].id);
    put_labelled_dec("used len", used.ring[0].len);
    int nonzero = 0;
    for (int i = 0; i < 16; i++)
        nonzero |= buf[i];
    put_labelled_dec("random bytes non-zero", nonzero != 0);
    put_labelled_hex("interrupt status", rd(INTERRUPT_STATUS) & 1);
    wr(INTERRUPT_ACK, rd(INTERRUPT_STATUS));

    /* A hostile chain: 1 -> 2 -> 1 -> ... */
    descs[1] = (struct desc){ (u64)buf, 8, DESC_F_WRITE | DESC_F_NEXT, 2 };
    descs[2] = (struct desc){ (u64)buf + 8, 8, DESC_F_WRITE | DESC_F_NEXT, 1 };
    publish(1);
    put_labelled_dec("NEEDS_RESET set", wait_status(S_NEEDS_RESET));
    put_labelled_hex("status", rd(STATUS));
    put_labelled_hex("config interrupt", rd(INTERRUPT_STATUS) & 2);

    /* Reset and use the device again. */
    wr(STATUS, 0);
    put_labelled_hex("status after reset", rd(STATUS));
    setup();
    memset(buf, 0, sizeof(buf));
    descs[0] = (struct desc){ (u64)buf, 32, DESC_F_WRITE, 0 };
    publish(0);
    put_labelled_dec("served after reset", wait_u16(&used.idx, 1));
    put_labelled_dec("used len", used.ring[0].len);
    uart_puts("machine still running\n");
    psci_system_off();
}
