/*
 * Integer self-check: arithmetic, flags, logic, shifts, bitfields, conditional
 * select/compare, multiply/divide, bit counting, loads/stores of every size,
 * branches, and a checksum loop of mixed work. Every result is printed on its
 * own labelled line so that the output can be compared with QEMU's.
 *
 * SELFCHECK_LOOPS sets the loop's iteration count (raised for the benchmark
 * build).
 */
#include "lib.h"
#include "selfcheck_loop.h"

#ifndef SELFCHECK_LOOPS
#define SELFCHECK_LOOPS 100
#endif

#define S_(x) #x
#define S(x) S_(x)

/* Print "label: 0x... flags=NzCv" (upper case = flag set). */
static void put_flags(const char *label, u64 r, u64 nzcv)
{
    uart_puts(label);
    uart_puts(": ");
    put_hex(r);
    uart_puts(" flags=");
    uart_putc(nzcv & 8 ? 'N' : 'n');
    uart_putc(nzcv & 4 ? 'Z' : 'z');
    uart_putc(nzcv & 2 ? 'C' : 'c');
    uart_putc(nzcv & 1 ? 'V' : 'v');
    uart_putc('\n');
}

#define FLAGS_ASM                                                              \
    "\n\tcset %x[fn], mi\n\tcset %x[fz], eq\n\tcset %x[fc], cs\n\tcset %x[fv], vs"
#define FLAGS_OUT                                                              \
    [fn] "=&r"(fn_), [fz] "=&r"(fz_), [fc] "=&r"(fc_), [fv] "=&r"(fv_)
#define FLAGS_VAL (fn_ << 3 | fz_ << 2 | fc_ << 1 | fv_)

/* One instruction with operands a, b (and c) and a result, no flags. */
#define OP1(label, insn, A_)                                                    \
    do {                                                                       \
        u64 r_;                                                                \
        __asm__(insn : [r] "=&r"(r_) : [a] "r"((u64)(A_)));                     \
        put_labelled_hex(label, r_);                                           \
    } while (0)
#define OP2(label, insn, A_, B_)                                                 \
    do {                                                                       \
        u64 r_;                                                                \
        __asm__(insn : [r] "=&r"(r_) : [a] "r"((u64)(A_)), [b] "r"((u64)(B_)));  \
        put_labelled_hex(label, r_);                                           \
    } while (0)
#define OP3(label, insn, A_, B_, C_)                                              \
    do {                                                                       \
        u64 r_;                                                                \
        __asm__(insn                                                           \
                : [r] "=&r"(r_)                                                \
                : [a] "r"((u64)(A_)), [b] "r"((u64)(B_)), [c] "r"((u64)(C_))      \
                : "cc");                                                       \
        put_labelled_hex(label, r_);                                           \
    } while (0)
/* Same, and also capture NZCV after the sequence. */
#define OP2F(label, insn, A_, B_)                                                \
    do {                                                                       \
        u64 r_, fn_, fz_, fc_, fv_;                                            \
        __asm__(insn FLAGS_ASM                                                 \
                : [r] "=&r"(r_), FLAGS_OUT                                     \
                : [a] "r"((u64)(A_)), [b] "r"((u64)(B_))                         \
                : "cc");                                                       \
        put_flags(label, r_, FLAGS_VAL);                                       \
    } while (0)
#define OP4F(label, insn, A_, B_, C_, D_)                                          \
    do {                                                                       \
        u64 r_, fn_, fz_, fc_, fv_;                                            \
        __asm__(insn FLAGS_ASM                                                 \
                : [r] "=&r"(r_), FLAGS_OUT                                     \
                : [a] "r"((u64)(A_)), [b] "r"((u64)(B_)), [c] "r"((u64)(C_)),     \
                  [d] "r"((u64)(D_))                                            \
                : "cc");                                                       \
        put_flags(label, r_, FLAGS_VAL);                                       \
    } while (0)

static void check_add_sub(void)
{
    uart_puts("# add/sub with flags\n");
    OP2F("adds x 1+2", "adds %x[r], %x[a], %x[b]", 1, 2);
    OP2F("adds x max+1", "adds %x[r], %x[a], %x[b]", 0x7fffffffffffffffull, 1);
    OP2F("adds x -1+1", "adds %x[r], %x[a], %x[b]", -1ll, 1);
    OP2F("adds x min+min", "adds %x[r], %x[a], %x[b]", 0x8000000000000000ull,
         0x8000000000000000ull);
    OP2F("adds w max+1", "adds %w[r], %w[a], %w[b]", 0x7fffffff, 1);
    OP2F("adds w -1+2", "adds %w[r], %w[a], %w[b]", 0xffffffffffffffffull, 2);
    OP2F("subs x 1-2", "subs %x[r], %x[a], %x[b]", 1, 2);
    OP2F("subs x 5-5", "subs %x[r], %x[a], %x[b]", 5, 5);
    OP2F("subs x min-1", "subs %x[r], %x[a], %x[b]", 0x8000000000000000ull, 1);
    OP2F("subs w 0-1", "subs %w[r], %w[a], %w[b]", 0, 1);
    OP2F("subs w min-1", "subs %w[r], %w[a], %w[b]", 0x80000000u, 1);
    OP2F("adds x lsl#12 imm", "adds %x[r], %x[a], #0xfff, lsl #12", 0xfffffffffff01000ull, 0);
    OP2F("subs x imm", "subs %x[r], %x[a], #4095", 4095, 0);
    OP2F("adds x shifted asr", "adds %x[r], %x[a], %x[b], asr #4",
         0x1000, 0xfffffffffffff000ull);
    OP2F("subs x sxtw#2", "subs %x[r], %x[a], %w[b], sxtw #2", 100, 0xfffffff0u);
    OP2F("adds x uxtb", "adds %x[r], %x[a], %w[b], uxtb", 0x1000, 0x12345);
    OP2F("cmn x", "cmn %x[a], %x[b]\n\tmov %x[r], #0", -5ll, 5);
    OP2F("negs x", "negs %x[r], %x[a]", 0x8000000000000000ull, 0);
    OP2("add x sxth", "add %x[r], %x[a], %w[b], sxth #3", 0x1000, 0x18000);
    OP2("sub w lsr", "sub %w[r], %w[a], %w[b], lsr #3", 0x10, 0x80000000u);
    OP2("add/sub with sp", "mov %x[r], sp\n\tsub %x[r], sp, %x[r]\n\tadd %x[r], %x[r], %x[a]",
        0x1234, 0);

    uart_puts("# adc/sbc\n");
    OP4F("adcs x C=1", "cmp %x[c], #1\n\tadcs %x[r], %x[a], %x[b]", -1ll, 0, 1, 0);
    OP4F("adcs x C=0", "cmp %x[c], #1\n\tadcs %x[r], %x[a], %x[b]", 0x7fffffffffffffffull,
         0, 0, 0);
    OP4F("adcs w C=1", "cmp %x[c], #1\n\tadcs %w[r], %w[a], %w[b]", 0x7fffffff, 0, 1, 0);
    OP4F("sbcs x C=0", "cmp %x[c], #1\n\tsbcs %x[r], %x[a], %x[b]", 0, 0, 0, 0);
    OP4F("sbcs x C=1", "cmp %x[c], #1\n\tsbcs %x[r], %x[a], %x[b]", 10, 3, 1, 0);
    OP4F("sbcs w C=0", "cmp %x[c], #1\n\tsbcs %w[r], %w[a], %w[b]", 0x80000000u, 0, 0, 0);
    OP4F("ngcs x C=0", "cmp %x[c], #1\n\tngcs %x[r], %x[a]", 0, 0, 0, 0);
    /* 128-bit add and subtract through the carry. */
    OP4F("add128 hi", "adds %x[r], %x[a], %x[c]\n\tadc %x[r], %x[b], %x[d]",
         0xffffffffffffffffull, 1, 1, 2);
    OP4F("sub128 hi", "subs %x[r], %x[a], %x[c]\n\tsbc %x[r], %x[b], %x[d]",
         0, 5, 1, 2);
}

static void check_logic_shift(void)
{
    u64 a = 0xf0f0f0f00ff00ff0ull, b = 0x123456789abcdef0ull;
    uart_puts("# logical\n");
    OP2("and x", "and %x[r], %x[a], %x[b]", a, b);
    OP2("orr x lsl", "orr %x[r], %x[a], %x[b], lsl #4", a, b);
    OP2("eor x ror", "eor %x[r], %x[a], %x[b], ror #36", a, b);
    OP2("bic x lsr", "bic %x[r], %x[a], %x[b], lsr #8", a, b);
    OP2("orn x asr", "orn %x[r], %x[a], %x[b], asr #60", a, 0x8000000000000000ull);
    OP2("eon w", "eon %w[r], %w[a], %w[b]", a, b);
    OP2("and x imm", "and %x[r], %x[a], #0x5555555555555555", a, 0);
    OP2("orr w imm", "orr %w[r], %w[a], #0xff00ff00", 0x12, 0);
    OP2("eor x imm", "eor %x[r], %x[a], #0xfffffffffffffffe", 0x8000000000000001ull, 0);
    OP2F("ands x", "ands %x[r], %x[a], %x[b]", a, 0x8000000000000000ull);
    OP2F("ands w zero", "ands %w[r], %w[a], %w[b]", 0xffffffff00000000ull, 0xffffffffull);
    OP2F("tst x imm", "tst %x[a], #0xff00\n\tmov %x[r], %x[b]", 0x100, 7);
    OP2F("bics x", "bics %x[r], %x[a], %x[b]", -1ll, 0x7fffffffffffffffull);
    OP1("mvn w", "mvn %w[r], %w[a]", 0x0f0f0f0f);

    uart_puts("# shifts\n");
    OP2("lsl x reg 68", "lsl %x[r], %x[a], %x[b]", 0x8000000000000001ull, 68);
    OP2("lsr x reg 63", "lsr %x[r], %x[a], %x[b]", 0x8000000000000001ull, 63);
    OP2("asr x reg 70", "asr %x[r], %x[a], %x[b]", 0x8000000000000010ull, 70);
    OP2("ror x reg 100", "ror %x[r], %x[a], %x[b]", 0x0123456789abcdefull, 100);
    OP2("lsl w reg 33", "lsl %w[r], %w[a], %w[b]", 0x80000001u, 33);
    OP2("asr w reg 31", "asr %w[r], %w[a], %w[b]", 0x80000000u, 31);
    OP2("ror w reg 8", "ror %w[r], %w[a], %w[b]", 0x12345678, 8);
    OP1("lsl x imm", "lsl %x[r], %x[a], #13", 0x0123456789abcdefull);
    OP1("lsr w imm", "lsr %w[r], %w[a], #7", 0xfedcba98);
    OP1("asr x imm", "asr %x[r], %x[a], #33", 0xfedcba9876543210ull);
    OP1("ror x imm", "ror %x[r], %x[a], #1", 1);

    uart_puts("# bitfield and extract\n");
    OP1("ubfx x", "ubfx %x[r], %x[a], #12, #20", 0xfedcba9876543210ull);
    OP1("sbfx x", "sbfx %x[r], %x[a], #28, #8", 0xfedcba9876543210ull);
    OP1("sbfx w", "sbfx %w[r], %w[a], #4, #12", 0x0000f800);
    OP2("bfi x", "mov %x[r], %x[b]\n\tbfi %x[r], %x[a], #40, #16", 0x1234abcd, -1ll);
    OP2("bfxil w", "mov %x[r], %x[b]\n\tbfxil %w[r], %w[a], #8, #8", 0xaabbccdd, 0x11223344);
    OP1("ubfiz x", "ubfiz %x[r], %x[a], #56, #8", 0x1ff);
    OP1("sbfiz x", "sbfiz %x[r], %x[a], #3, #5", 0x10);
    OP1("sxtb x", "sxtb %x[r], %w[a]", 0x80);
    OP1("sxth w", "sxth %w[r], %w[a]", 0x18000);
    OP1("sxtw x", "sxtw %x[r], %w[a]", 0x80000000u);
    OP1("uxtb w", "uxtb %w[r], %w[a]", 0x1ff);
    OP1("uxth w", "uxth %w[r], %w[a]", 0xfffff);
    OP2("extr x", "extr %x[r], %x[a], %x[b], #12", 0x0123456789abcdefull,
        0xfedcba9876543210ull);
    OP2("extr w", "extr %w[r], %w[a], %w[b], #31", 0x80000001u, 0x40000000u);
}

/* Bit i of the mask = condition i (eq ne cs cc mi pl vs vc hi ls ge lt gt le). */
#define CB(c, i) "cset %w[t], " #c "\n\torr %w[m], %w[m], %w[t], lsl #" #i "\n\t"
#define ALL_CONDS                                                              \
    CB(eq, 0) CB(ne, 1) CB(cs, 2) CB(cc, 3) CB(mi, 4) CB(pl, 5) CB(vs, 6)     \
    CB(vc, 7) CB(hi, 8) CB(ls, 9) CB(ge, 10) CB(lt, 11) CB(gt, 12) CB(le, 13)

static u64 conds_after_cmp_x(u64 a, u64 b)
{
    u32 m = 0, t;
    __asm__("cmp %x[a], %x[b]\n\t" ALL_CONDS
            : [m] "+&r"(m), [t] "=&r"(t)
            : [a] "r"(a), [b] "r"(b)
            : "cc");
    return m;
}

static u64 conds_after_cmp_w(u64 a, u64 b)
{
    u32 m = 0, t;
    __asm__("cmp %w[a], %w[b]\n\t" ALL_CONDS
            : [m] "+&r"(m), [t] "=&r"(t)
            : [a] "r"(a), [b] "r"(b)
            : "cc");
    return m;
}

static void check_conditional(void)
{
    static const u64 pairs[][2] = {
        { 0, 0 }, { 1, 2 }, { 2, 1 }, { 0x8000000000000000ull, 1 },
        { 0x7fffffffffffffffull, 0xffffffffffffffffull }, { 0xffffffffffffffffull, 1 },
        { 0x80000000ull, 0x7fffffffull }, { 0x100000000ull, 1 },
    };
    uart_puts("# condition codes (bit i = eq ne cs cc mi pl vs vc hi ls ge lt gt le)\n");
    u64 acc = 0;
    for (unsigned i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        u64 a = OPAQUE(pairs[i][0]), b = OPAQUE(pairs[i][1]);
        u64 mx = conds_after_cmp_x(a, b), mw = conds_after_cmp_w(a, b);
        acc = acc << 4 ^ mx << 14 ^ mw;
        uart_puts("conds cmp #");
        put_udec(i);
        uart_puts(" x/w: ");
        put_hex(mx << 32 | mw);
        uart_putc('\n');
    }
    put_labelled_hex("conds accumulated", acc);

    uart_puts("# conditional select\n");
    OP4F("csel ge", "cmp %x[a], %x[b]\n\tcsel %x[r], %x[c], %x[d], ge", -3ll, 2, 111, 222);
    OP4F("csel hs", "cmp %x[a], %x[b]\n\tcsel %x[r], %x[c], %x[d], hs", -3ll, 2, 111, 222);
    OP4F("csinc ne", "cmp %x[a], %x[b]\n\tcsinc %x[r], %x[c], %x[d], ne", 7, 7, 111, 222);
    OP4F("csinv lt", "cmp %x[a], %x[b]\n\tcsinv %x[r], %x[c], %x[d], lt", 7, 7, 111, 222);
    OP4F("csneg le", "cmp %x[a], %x[b]\n\tcsneg %x[r], %x[c], %x[d], le", 8, 7, 111, 222);
    OP4F("csneg w", "cmp %w[a], %w[b]\n\tcsneg %w[r], %w[c], %w[d], gt", 1, 0x80000000u,
         111, 222);
    OP4F("cset hi", "cmp %x[a], %x[b]\n\tcset %x[r], hi", 3, 2, 0, 0);
    OP4F("csetm vs", "cmp %x[a], %x[b]\n\tcsetm %x[r], vs", 0x8000000000000000ull, 1, 0, 0);
    OP4F("cinc eq", "cmp %x[a], %x[b]\n\tcinc %x[r], %x[c], eq", 5, 5, 41, 0);
    OP4F("cneg mi", "cmp %x[a], %x[b]\n\tcneg %x[r], %x[c], mi", 1, 5, 41, 0);

    uart_puts("# conditional compare\n");
    OP4F("ccmp taken eq", "cmp %x[a], %x[b]\n\tccmp %x[c], %x[d], #0xf, eq\n\tmov %x[r], #1",
         4, 4, 1, 2);
    OP4F("ccmp not taken", "cmp %x[a], %x[b]\n\tccmp %x[c], %x[d], #0x6, eq\n\tmov %x[r], #2",
         4, 5, 1, 2);
    OP4F("ccmp imm", "cmp %x[a], %x[b]\n\tccmp %x[c], #31, #0, ne\n\tmov %x[r], #3", 1, 2,
         31, 0);
    OP4F("ccmn w", "cmp %w[a], %w[b]\n\tccmn %w[c], %w[d], #0x9, lt\n\tmov %x[r], #4", 1, 2,
         0x7fffffff, 1);
    OP4F("ccmp chain", "cmp %x[a], #10\n\tccmp %x[b], #20, #4, ne\n\tccmp %x[c], %x[d], #2, ne"
                       "\n\tcset %x[r], eq",
         11, 21, 9, 9);
}

static void check_mul_div(void)
{
    uart_puts("# multiply\n");
    OP2("mul x", "mul %x[r], %x[a], %x[b]", 0x123456789abcdefull, 0xfedcba987654321ull);
    OP2("mul w", "mul %w[r], %w[a], %w[b]", 0xffffffff, 0xffffffff);
    OP3("madd x", "madd %x[r], %x[a], %x[b], %x[c]", 1000003, 999983, 0xffffffffffffff00ull);
    OP3("msub x", "msub %x[r], %x[a], %x[b], %x[c]", 12345, 6789, 7);
    OP3("madd w", "madd %w[r], %w[a], %w[b], %w[c]", 0x10000, 0x10000, 5);
    OP2("mneg x", "mneg %x[r], %x[a], %x[b]", 3, 5);
    OP3("smaddl", "smaddl %x[r], %w[a], %w[b], %x[c]", 0xffffffff, 0x7fffffff, 10);
    OP3("umaddl", "umaddl %x[r], %w[a], %w[b], %x[c]", 0xffffffff, 0xffffffff, 10);
    OP3("smsubl", "smsubl %x[r], %w[a], %w[b], %x[c]", 0x80000000u, 0x80000000u, 0);
    OP3("umsubl", "umsubl %x[r], %w[a], %w[b], %x[c]", 2, 3, 100);
    OP2("smull", "smull %x[r], %w[a], %w[b]", 0xfffffffe, 0x40000000);
    OP2("smulh", "smulh %x[r], %x[a], %x[b]", 0x8000000000000000ull, 0x8000000000000000ull);
    OP2("smulh neg", "smulh %x[r], %x[a], %x[b]", -3ll, 0x7fffffffffffffffull);
    OP2("umulh", "umulh %x[r], %x[a], %x[b]", 0xffffffffffffffffull, 0xffffffffffffffffull);
    OP2("umulh 2", "umulh %x[r], %x[a], %x[b]", 0x123456789abcdefull, 0xfedcba987654321ull);

    uart_puts("# divide\n");
    OP2("udiv x", "udiv %x[r], %x[a], %x[b]", 0xffffffffffffffffull, 3);
    OP2("udiv x by 0", "udiv %x[r], %x[a], %x[b]", 12345, 0);
    OP2("udiv w", "udiv %w[r], %w[a], %w[b]", 0xfffffff0, 0x10);
    OP2("udiv w by 0", "udiv %w[r], %w[a], %w[b]", 7, 0xffffffff00000000ull);
    OP2("sdiv x", "sdiv %x[r], %x[a], %x[b]", -7ll, 2);
    OP2("sdiv x neg/neg", "sdiv %x[r], %x[a], %x[b]", -100ll, -7ll);
    OP2("sdiv x by 0", "sdiv %x[r], %x[a], %x[b]", -1ll, 0);
    OP2("sdiv x min/-1", "sdiv %x[r], %x[a], %x[b]", 0x8000000000000000ull, -1ll);
    OP2("sdiv w", "sdiv %w[r], %w[a], %w[b]", 0xfffffff9, 2);
    OP2("sdiv w min/-1", "sdiv %w[r], %w[a], %w[b]", 0x80000000u, 0xffffffffu);
    OP2("sdiv w by 0", "sdiv %w[r], %w[a], %w[b]", 0x80000000u, 0);

    /* The same through C, with run-time values. */
    s64 n = OPAQUE((s64)-1000000007), d = OPAQUE((s64)97);
    put_labelled_hex("c sdiv", (u64)(n / d));
    put_labelled_hex("c smod", (u64)(n % d));
    u64 un = OPAQUE(0xfedcba9876543210ull), ud = OPAQUE(0x1234567ull);
    put_labelled_hex("c udiv", un / ud);
    put_labelled_hex("c umod", un % ud);
    unsigned __int128 wide = (unsigned __int128)un * OPAQUE(0xabcdef0123456789ull);
    put_labelled_hex("c u128 mul lo", (u64)wide);
    put_labelled_hex("c u128 mul hi", (u64)(wide >> 64));
}

static void check_bits(void)
{
    uart_puts("# bit counting and reversal\n");
    OP1("clz x", "clz %x[r], %x[a]", 0x0000100000000000ull);
    OP1("clz x 0", "clz %x[r], %x[a]", 0);
    OP1("clz w", "clz %w[r], %w[a]", 0x00008000);
    OP1("clz w 0", "clz %w[r], %w[a]", 0xffffffff00000000ull);
    OP1("cls x", "cls %x[r], %x[a]", 0xfff0000000000000ull);
    OP1("cls x 0", "cls %x[r], %x[a]", 0);
    OP1("cls w", "cls %w[r], %w[a]", 0x0000ffff);
    OP1("rbit x", "rbit %x[r], %x[a]", 0x0123456789abcdefull);
    OP1("rbit w", "rbit %w[r], %w[a]", 0x00000001);
    OP1("rev x", "rev %x[r], %x[a]", 0x0123456789abcdefull);
    OP1("rev w", "rev %w[r], %w[a]", 0x0123456789abcdefull);
    OP1("rev16 x", "rev16 %x[r], %x[a]", 0x0123456789abcdefull);
    OP1("rev32 x", "rev32 %x[r], %x[a]", 0x0123456789abcdefull);
    OP1("rev16 w", "rev16 %w[r], %w[a]", 0x0123456789abcdefull);
    u64 v = OPAQUE(0x00f0000000000100ull);
    put_labelled_hex("c ctz", (u64)__builtin_ctzll(v));
    put_labelled_hex("c clz", (u64)__builtin_clzll(v));
    put_labelled_hex("c bswap32", __builtin_bswap32((u32)OPAQUE(0xdeadbeefu)));
}

static u8 mem[64] __attribute__((aligned(16)));

static void fill_mem(void)
{
    for (int i = 0; i < 64; i++)
        mem[i] = (u8)(i * 0x25 + 0x71);
}

/* A load with register writeback: prints the loaded value and the base change. */
#define LDWB(label, insn, BASE_)                                                \
    do {                                                                       \
        u64 r_, b_ = (u64)(BASE_);                                              \
        __asm__(insn : [r] "=&r"(r_), [b] "+r"(b_) : : "memory");               \
        put_labelled_hex(label, r_);                                           \
        put_labelled_hex(label " wb", b_ - (u64)(BASE_));                       \
    } while (0)
#define LD(label, insn, BASE_, IDX_)                                             \
    do {                                                                       \
        u64 r_;                                                                \
        __asm__(insn                                                           \
                : [r] "=&r"(r_)                                                \
                : [b] "r"((u64)(BASE_)), [i] "r"((u64)(IDX_))                    \
                : "memory");                                                   \
        put_labelled_hex(label, r_);                                           \
    } while (0)

static void check_load_store(void)
{
    u8 *m = OPAQUE(mem);
    u8 *mid = OPAQUE(mem + 32);
    fill_mem();
    uart_puts("# loads\n");
    LD("ldrb", "ldrb %w[r], [%x[b], #5]", m, 0);
    LD("ldrsb w", "ldrsb %w[r], [%x[b], #1]", m, 0);
    LD("ldrsb x", "ldrsb %x[r], [%x[b], #1]", m, 0);
    LD("ldrh", "ldrh %w[r], [%x[b], #6]", m, 0);
    LD("ldrsh w", "ldrsh %w[r], [%x[b], #2]", m, 0);
    LD("ldrsh x", "ldrsh %x[r], [%x[b], #2]", m, 0);
    LD("ldr w", "ldr %w[r], [%x[b], #12]", m, 0);
    LD("ldrsw", "ldrsw %x[r], [%x[b], #8]", m, 0);
    LD("ldr x", "ldr %x[r], [%x[b], #16]", m, 0);
    LD("ldur x neg", "ldur %x[r], [%x[b], #-9]", mid, 0);
    LD("ldursh", "ldursh %x[r], [%x[b], #-3]", mid, 0);
    LD("ldr x reg lsl", "ldr %x[r], [%x[b], %x[i], lsl #3]", m, 5);
    LD("ldr w reg sxtw neg", "ldr %w[r], [%x[b], %w[i], sxtw #2]", mid, 0xfffffffdu);
    LD("ldrsb reg uxtw", "ldrsb %x[r], [%x[b], %w[i], uxtw]", m, 0x100000007ull);
    LD("ldrh reg", "ldrh %w[r], [%x[b], %x[i]]", m, 3);
    LDWB("ldr x pre", "ldr %x[r], [%x[b], #8]!", mid);
    LDWB("ldr w post", "ldr %w[r], [%x[b]], #-4", mid);
    LDWB("ldrsb x post", "ldrsb %x[r], [%x[b]], #1", mid);
    LDWB("ldrsh w pre", "ldrsh %w[r], [%x[b], #-2]!", mid);

    uart_puts("# stores\n");
    u64 *q = OPAQUE((u64 *)(mem + 48));
    q[0] = 0;
    q[1] = 0;
    __asm__ volatile("strb %w[v], [%x[b], #1]\n\t"
                     "strh %w[v], [%x[b], #2]\n\t"
                     "str %w[v], [%x[b], #4]\n\t"
                     "str %x[v], [%x[b], #8]"
                     :
                     : [v] "r"(OPAQUE(0x8899aabbccddeeffull)), [b] "r"(q)
                     : "memory");
    put_labelled_hex("store mix 0", q[0]);
    put_labelled_hex("store mix 1", q[1]);
    u64 b = (u64)(mem + 48);
    __asm__ volatile("sturb %w[v], [%x[b], #-1]\n\t"
                     "strh %w[v], [%x[b], #4]!\n\t"
                     "str %w[v], [%x[b]], #4"
                     : [b] "+r"(b)
                     : [v] "r"(OPAQUE(0x11223344u))
                     : "memory");
    put_labelled_hex("store wb base", b - (u64)mem);
    put_labelled_hex("store wb 0", *(volatile u64 *)(mem + 40));
    put_labelled_hex("store wb 1", *(volatile u64 *)(mem + 48));

    uart_puts("# load/store pair\n");
    u64 p0, p1;
    __asm__ volatile("ldp %x[p0], %x[p1], [%x[b], #16]" : [p0] "=&r"(p0), [p1] "=&r"(p1)
                     : [b] "r"(m) : "memory");
    put_labelled_hex("ldp x 0", p0);
    put_labelled_hex("ldp x 1", p1);
    __asm__ volatile("ldp %w[p0], %w[p1], [%x[b], #-8]" : [p0] "=&r"(p0), [p1] "=&r"(p1)
                     : [b] "r"(mid) : "memory");
    put_labelled_hex("ldp w 0", p0);
    put_labelled_hex("ldp w 1", p1);
    __asm__ volatile("ldpsw %x[p0], %x[p1], [%x[b], #4]" : [p0] "=&r"(p0), [p1] "=&r"(p1)
                     : [b] "r"(m) : "memory");
    put_labelled_hex("ldpsw 0", p0);
    put_labelled_hex("ldpsw 1", p1);
    b = (u64)(mem + 32);
    __asm__ volatile("stp %x[v], %x[w], [%x[b], #-16]!\n\t"
                     "stp %w[w], %w[v], [%x[b]], #32"
                     : [b] "+r"(b)
                     : [v] "r"(OPAQUE(0x0102030405060708ull)),
                       [w] "r"(OPAQUE(0xa0b0c0d0e0f00010ull))
                     : "memory");
    put_labelled_hex("stp wb base", b - (u64)mem);
    for (int i = 0; i < 4; i++) {
        uart_puts("stp mem ");
        put_udec((u64)i);
        uart_puts(": ");
        put_hex(((volatile u64 *)mem)[2 + i]);
        uart_putc('\n');
    }

    uart_puts("# exclusive (single CPU)\n");
    u64 status = 9, old = 0;
    __asm__ volatile("ldxr %x[o], [%x[b]]\n\t"
                     "add %x[o], %x[o], #1\n\t"
                     "stxr %w[s], %x[o], [%x[b]]"
                     : [o] "=&r"(old), [s] "=&r"(status)
                     : [b] "r"(m)
                     : "memory");
    put_labelled_hex("ldxr/stxr status", status);
    put_labelled_hex("ldxr/stxr value", *(volatile u64 *)m);
    __asm__ volatile("ldaxr %w[o], [%x[b]]\n\t"
                     "sub %w[o], %w[o], #2\n\t"
                     "stlxr %w[s], %w[o], [%x[b]]"
                     : [o] "=&r"(old), [s] "=&r"(status)
                     : [b] "r"(m + 8)
                     : "memory");
    put_labelled_hex("ldaxr/stlxr status", status);
    put_labelled_hex("ldaxr/stlxr value", *(volatile u64 *)(m + 8));
}

/* Branch-heavy C: a jump table, recursion, indirect calls, test-bit branches. */
static __attribute__((noinline)) u64 classify(u64 x)
{
    switch (x & 15) {
    case 0: return x * 3;
    case 1: return x ^ 0x55;
    case 2: return x + 100;
    case 3: return x >> 2;
    case 4: return ~x;
    case 5: return x * x;
    case 6: return x - 7;
    case 7: return x << 5;
    case 8: return x | 0x8000;
    case 9: return x & 0xff;
    case 10: return x + x;
    case 11: return 11;
    default: return x / 3;
    }
}

static __attribute__((noinline)) u64 fib(u64 n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static u64 op_add(u64 a, u64 b) { return a + b; }
static u64 op_xor(u64 a, u64 b) { return a ^ (b << 7); }
static u64 op_mul(u64 a, u64 b) { return a * b + 1; }

static void check_branches(void)
{
    uart_puts("# branches\n");
    u64 acc = 0;
    for (u64 i = 0; i < OPAQUE(64ull); i++)
        acc = acc * 31 + classify(i * 0x9e3779b9ull);
    put_labelled_hex("jump table", acc);
    put_labelled_dec("fib(20)", (s64)fib(OPAQUE(20ull)));

    u64 (*ops[3])(u64, u64) = { op_add, op_xor, op_mul };
    acc = 12345;
    for (u64 i = 0; i < OPAQUE(30ull); i++) {
        u64 (*f)(u64, u64) = OPAQUE(ops[i % 3]);
        acc = f(acc, i + 3);
    }
    put_labelled_hex("indirect calls", acc);

    /* cbz/cbnz/tbz/tbnz in a bit-walking loop. */
    u64 bits = 0, x = OPAQUE(0xa5a5000012345678ull), n = 0;
    __asm__("1:\n\t"
            "cbz %x[x], 3f\n\t"
            "tbz %x[x], #0, 2f\n\t"
            "add %x[bits], %x[bits], %x[n]\n\t"
            "2:\n\t"
            "tbz %x[n], #4, 4f\n\t"
            "add %x[bits], %x[bits], #1000\n\t"
            "4:\n\t"
            "lsr %x[x], %x[x], #1\n\t"
            "add %x[n], %x[n], #1\n\t"
            "cbnz %x[x], 1b\n\t"
            "3:"
            : [x] "+r"(x), [bits] "+r"(bits), [n] "+r"(n));
    put_labelled_hex("test-bit loop", bits << 8 | n);
}

int main(void)
{
    uart_puts("selfcheck: start\n");
    check_add_sub();
    check_logic_shift();
    check_conditional();
    check_mul_div();
    check_bits();
    check_load_store();
    check_branches();

    uart_puts("# loop\n");
    u64 iterations = OPAQUE((u64)SELFCHECK_LOOPS);
    struct loop_result res = selfcheck_loop(iterations, OPAQUE(0x0123456789abcdefull));
    put_labelled_dec("loop iterations", (s64)iterations);
    put_labelled_hex("loop checksum", res.checksum);
    put_labelled_dec("sort violations", (s64)res.sort_violations);
    put_labelled_dec("primes below " S(SIEVE_N), (s64)res.primes);
    uart_puts("selfcheck: done\n");
    psci_system_off();
}
