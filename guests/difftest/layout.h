/* Fixed guest-virtual layout shared by the qemu-user harness and our side
 * (difftest/src/layout.rs must agree). */
#define DT_TRAMP_PAGE   0x10000000UL /* trampoline at its end falls into DT_SEQ */
#define DT_SEQ          0x10001000UL /* the test sequence (one page) */
#define DT_EPI          0x10003000UL /* epilogue: saves the guest state */
#define DT_SAVE         0x10004000UL /* guest state saved by the epilogue */
#define DT_HOST_SAVE    0x10004800UL /* harness callee-saved registers */
#define DT_CODE_END     0x10005000UL
#define DT_SCRATCH      0x10010000UL /* the scratch block (one page) */
#define DT_SCRATCH_SIZE 4096UL
#define DT_TRAMP_BYTES  64UL
#define DT_MAX_WORDS    1000UL
/* Case state words: x[0..30], sp, nzcv, fpcr, fpsr, then V0..V31 (lo, hi). */
#define DT_STATE_WORDS  99UL
#define DT_OFF_NZCV     256
#define DT_OFF_FPCR     264
#define DT_OFF_FPSR     272
#define DT_OFF_V        280
