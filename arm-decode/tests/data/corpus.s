add x0, x1, #0x10
add x0, x1, #1, lsl #12
add sp, x1, #0
add x0, sp, #0
adds xzr, x1, #4
subs xzr, x1, #4
subs x0, xzr, x1
subs xzr, xzr, x1
sub x0, xzr, x1, lsl #3
add x0, x1, x2, asr #3
add x0, sp, w1, uxtw #2
add x0, x1, w2, uxtb
add sp, sp, x1
add x0, sp, x1, lsl #2
add w0, wsp, w1
add w0, w1, w2, uxtw
adds xzr, sp, x1
and x0, x1, #0xff
orr x0, xzr, #0xff00ff00ff00ff00
orr x0, xzr, #0xffff
ands xzr, x1, #1
orr x0, xzr, x1
orr w0, wzr, w1, lsl #2
orn x0, xzr, x1
movz x0, #0
movz x0, #0, lsl #16
movz x0, #1, lsl #16
movn x0, #0
movn w0, #0
movn w0, #0xffff
movn x0, #0x1, lsl #32
movk x0, #0x1234, lsl #16
movk x0, #0x1234
adr x0, .+16
adrp x0, .+0x2000
sbfm x0, x1, #3, #63
sbfm x0, x1, #0, #7
sbfm x0, x1, #0, #31
sbfm w0, w1, #0, #15
sbfm x0, x1, #10, #3
sbfm x0, x1, #3, #10
ubfm x0, x1, #60, #59
ubfm x0, x1, #3, #63
ubfm w0, w1, #0, #7
ubfm x0, x1, #0, #7
ubfm x0, x1, #10, #3
ubfm x0, x1, #3, #10
bfm x0, x1, #10, #3
bfm x0, x1, #3, #10
bfm x0, xzr, #10, #3
extr x0, x1, x1, #3
extr x0, x1, x2, #3
sbc x0, xzr, x1
sbcs x0, xzr, x1
csinc x0, xzr, xzr, eq
csinc x0, x1, x1, eq
csinv x0, xzr, xzr, ne
csinv x0, x1, x1, ne
csneg x0, x1, x1, lt
csneg x0, xzr, xzr, lt
csinc x0, x1, x1, al
csel x0, x1, x2, hi
ccmp x0, x1, #4, ne
ccmn w0, #31, #15, eq
madd x0, x1, x2, xzr
msub x0, x1, x2, xzr
smaddl x0, w1, w2, xzr
umsubl x0, w1, w2, xzr
smulh x0, x1, x2
lslv x0, x1, x2
rorv w0, w1, w2
rev x0, x1
rev w0, w1
rev32 x0, x1
rev16 w0, w1
clz x0, x1
b .+8
bl .-8
b.ne .+8
cbz x0, .+8
tbz w0, #3, .+8
tbnz x0, #40, .+8
br x1
blr x1
ret
ret x1
eret
ldr x0, [x1]
ldr x0, [x1, #8]
ldr x0, [x1, #8]!
ldr x0, [x1], #8
ldr x0, [x1, x2]
ldr x0, [x1, x2, lsl #3]
ldr w0, [x1, w2, uxtw]
ldr w0, [x1, w2, sxtw #2]
ldrb w0, [x1, x2, lsl #0]
ldrb w0, [x1, x2]
ldrb w0, [x1, w2, uxtw #0]
ldrsb x0, [x1, #-1]!
ldur x0, [x1, #-8]
ldtr x0, [x1, #8]
prfm pldl1keep, [x1]
prfm #0x1f, [x1]
prfum pstl2strm, [x1, #3]
ldr x0, .+8
ldrsw x0, .+8
prfm plil3keep, .+8
stp x29, x30, [sp, #-16]!
ldp x29, x30, [sp], #16
ldnp w0, w1, [x2, #8]
ldpsw x0, x1, [x2]
ldxr x0, [x1]
stxr w2, x0, [x1]
ldaxrb w0, [x1]
stlxrh w3, w0, [x1]
ldxp x0, x1, [x2]
stlxp w3, x0, x1, [x2]
ldar x0, [x1]
stlrb w0, [x1]
clrex
clrex #3
nop
yield
hint #0x22
hint #0x7f
hint #0x15
hint #0x6
dmb ish
dsb sy
dsb #0
dmb #0
isb
isb #3
svc #0
brk #1000
hlt #3
hvc #1
smc #2
mrs x0, midr_el1
mrs x0, currentel
mrs x0, s3_0_c15_c2_0
msr nzcv, x0
mrs x0, s3_3_c4_c2_0
msr daifset, #2
msr spsel, #1
msr daifclr, #15
dc civac, x0
ic iallu
tlbi vmalle1is
tlbi vae1is, x0
at s1e1r, x0
sys #0, c7, c5, #0, x3
sysl x0, #0, c7, c5, #0
sys #1, c1, c2, #3
ldrsh w0, [x1, #2]
hint #0
hint #1
hint #2
hint #3
hint #4
hint #5
hint #6
hint #7
hint #8
hint #9
hint #10
hint #11
hint #12
hint #13
hint #14
hint #15
hint #16
hint #17
hint #18
hint #19
hint #20
hint #21
hint #22
hint #23
hint #24
hint #25
hint #26
hint #27
hint #28
hint #29
hint #30
hint #31
hint #32
hint #33
hint #34
hint #35
hint #36
hint #37
hint #38
hint #39
hint #40
hint #41
hint #42
hint #43
hint #44
hint #45
dsb ish
dmb oshld
ldr w0, [x1, w2, sxtw]
ldrh w0, [x1, x2, lsl #1]
strb w0, [x1, #4095]
sttrb w0, [x1, #-3]
ldursw x0, [x1, #5]
add x0, x1, x2, lsl #0
ands xzr, x1, x2, ror #3
bics x0, x1, x2
eon w0, w1, w2
mvn w0, w1, ror #4
mov x0, #0x7fffffffffffffff
mov w0, #0x55555555
mov w0,#0x10000
movn x0, #0, lsl #16
ccmn x0, x1, #0, nv
b.al .+8
b.nv .+8
brk #0xffff
adds x0, x1, w2, sxth #4
sub sp, sp, x2
subs x0, sp, x1, uxtx #0
sub w0, w1, #0
mov x0, sp
cmp sp, x1
cmp w0, w1, uxtb
sxtw x0, w1
ubfm w0, w1, #0, #15
msr sctlr_el1, x0
mrs x1, tpidrro_el0
mrs x1, dczid_el0
mrs x1, sp_el0
mrs x1, spsel
mrs x1, s2_0_c0_c2_2
mrs x1, id_aa64pfr0_el1
mrs x0, cntv_cval_el0
mrs x0, ctr_el0
mrs x0, daif
tlbi vmalle1
dc zva, x0
ic ivau, x0
at s1e0w, x1
tlbi aside1, x1
dc cvau, x1
tlbi vaale1is, x2
dc ivac, x0
dc cisw, x0
ic ialluis
orr x0, xzr, #0xffffffffffff0000
orr x0, xzr, #0xffffffffffff8000
orr x0, xzr, #0xffffffffffffc000
orr x0, xzr, #0xffff0000ffffffff
orr w0, wzr, #0xffff0000
orr w0, wzr, #0xfffe0000
ldr x0, [x1, #0]!
ldr x0, [x1], #0
ldp x0, x1, [x2, #0]!
ldp x0, x1, [x2], #0
dsb #8
stp w0, w1, [sp, #-8]
add x0, x1, x2, asr #0
strb w3, [sp, #2]
strb w3, [x4, #4]!
strb w3, [x4], #-4
strb w3, [x4, x5]
strb w3, [x4, w5, sxtw]
ldrb w3, [sp, #2]
ldrb w3, [x4, #4]!
ldrb w3, [x4], #-4
ldrb w3, [x4, x5]
ldrb w3, [x4, w5, sxtw]
ldrsb x3, [x4, #1]
ldrsb w3, [sp, #2]
ldrsb w3, [x4, #4]!
ldrsb w3, [x4], #-4
ldrsb w3, [x4, x5]
ldrsb w3, [x4, w5, sxtw]
strh w3, [sp, #2]
strh w3, [x4, #4]!
strh w3, [x4], #-4
strh w3, [x4, x5]
strh w3, [x4, w5, sxtw]
ldrh w3, [sp, #2]
ldrh w3, [x4, #4]!
ldrh w3, [x4], #-4
ldrh w3, [x4, x5]
ldrh w3, [x4, w5, sxtw]
ldrsh x3, [x4, #1]
ldrsh w3, [sp, #2]
ldrsh w3, [x4, #4]!
ldrsh w3, [x4], #-4
ldrsh w3, [x4, x5]
ldrsh w3, [x4, w5, sxtw]
str w7, [x8, #16]
str w7, [x8, #-256]!
str w7, [x8], #255
str w7, [x8, x9, sxtx]
str w7, [x8, w9, uxtw #2]
str x7, [x8, #16]
str x7, [x8, #-256]!
str x7, [x8], #255
str x7, [x8, x9, sxtx]
str x7, [x8, w9, uxtw #3]
ldr w7, [x8, #16]
ldr w7, [x8, #-256]!
ldr w7, [x8], #255
ldr w7, [x8, x9, sxtx]
ldr w7, [x8, w9, uxtw #2]
ldr x7, [x8, #16]
ldr x7, [x8, #-256]!
ldr x7, [x8], #255
ldr x7, [x8, x9, sxtx]
ldr x7, [x8, w9, uxtw #3]
ldrsw x1, [x2, #4]
ldrsw x1, [x2, #4]!
ldrsw x1, [x2], #4
ldrsw x1, [x2, x3, lsl #2]
sturb w1, [x2, #-1]
ldurb w1, [x2, #-1]
ldursb w1, [x2, #-1]
sturh w1, [x2, #-1]
ldurh w1, [x2, #-1]
ldursh w1, [x2, #-1]
ldursb x1, [x2, #7]
ldursh x1, [x2]
stur w1, [x2, #3]
stur x1, [sp, #-256]
ldur w1, [x2, #255]
sttrb w1, [x2, #-1]
ldtrb w1, [x2, #-1]
ldtrsb w1, [x2, #-1]
sttrh w1, [x2, #-1]
ldtrh w1, [x2, #-1]
ldtrsh w1, [x2, #-1]
sttr w1, [x2, #-1]
ldtr w1, [x2, #-1]
ldtrsw x1, [x2, #8]
sttr x1, [x2]
prfm pstl1keep, [x1, x2, lsl #3]
prfm plil2strm, [x1, w2, uxtw]
prfm pldl3strm, [sp, #32760]
stp w1, w2, [x3, #-64]
stp x1, x2, [x3, #-64]
ldp w1, w2, [x3, #-64]
ldp x1, x2, [x3, #-64]
stnp w1, w2, [x3, #-64]
stnp x1, x2, [x3, #-64]
ldnp w1, w2, [x3, #-64]
ldnp x1, x2, [x3, #-64]
stp w1, w2, [x3], #-256
ldp w1, w2, [x3, #252]!
ldpsw x1, x2, [x3, #-8]!
ldpsw x1, x2, [x3], #8
ldxrb w1, [x2]
stxrb w3, w1, [x2]
ldaxrb w1, [sp]
stlxrb w3, w1, [x2]
ldarb w1, [x2]
stlrb w1, [x2]
ldxrh w1, [x2]
stxrh w3, w1, [x2]
ldaxrh w1, [sp]
stlxrh w3, w1, [x2]
ldarh w1, [x2]
stlrh w1, [x2]
ldxr w1, [x2]
stxr w3, w1, [x2]
ldaxr w1, [sp]
stlxr w3, w1, [x2]
ldar w1, [x2]
stlr w1, [x2]
ldaxr x1, [x2]
stlxr w4, x1, [x2]
stlr x1, [sp]
ldxp w1, w2, [x3]
stxp w4, w1, w2, [x3]
ldaxp x1, x2, [x3]
stxp w4, x1, x2, [x3]
csel w1, w2, w3, eq
b.eq .+0x100
csel w1, w2, w3, ne
b.ne .+0x100
csel w1, w2, w3, cs
b.cs .+0x100
csel w1, w2, w3, cc
b.cc .+0x100
csel w1, w2, w3, mi
b.mi .+0x100
csel w1, w2, w3, pl
b.pl .+0x100
csel w1, w2, w3, vs
b.vs .+0x100
csel w1, w2, w3, vc
b.vc .+0x100
csel w1, w2, w3, hi
b.hi .+0x100
csel w1, w2, w3, ls
b.ls .+0x100
csel w1, w2, w3, ge
b.ge .+0x100
csel w1, w2, w3, lt
b.lt .+0x100
csel w1, w2, w3, gt
b.gt .+0x100
csel w1, w2, w3, le
b.le .+0x100
adcs w0, w1, w2
adc x0, x1, x2
sbcs x0, x1, x2
sbc w0, w1, w2
madd w0, w1, w2, w3
msub x0, x1, x2, x3
smaddl x0, w1, w2, x3
smsubl x0, w1, w2, x3
umaddl x0, w1, w2, x3
umull x0, w1, w2
smnegl x0, w1, w2
umulh x0, x1, x2
udiv w0, w1, w2
sdiv x0, x1, x2
lsr w0, w1, w2
asr x0, x1, x2
ror x0, x1, x2
rbit w0, w1
rbit x0, x1
rev16 x0, x1
clz w0, w1
cls x0, x1
cls w0, w1
crc32b w0, w1, w2
crc32h w0, w1, w2
crc32w w0, w1, w2
crc32cb w0, w1, w2
crc32ch w0, w1, w2
crc32cw w0, w1, w2
and w0, w1, w2, lsr #31
bic x0, x1, x2, asr #63
orn w0, w1, w2
eor x0, x1, x2, ror #5
ands w0, w1, w2
bics w0, w1, w2, lsl #1
eor w0, w1, #0x80000001
ands x0, x1, #0x3333333333333333
and sp, x1, #0xfffffffffffffff0
orr w0, w1, #0x1
eor x0, x1, #0x5555555555555555
adds w0, w1, #0xfff
subs w0, wsp, #1, lsl #12
sub sp, sp, #0x10
add w0, w1, #4095
sub x0, x1, x2, lsr #63
adds w0, w1, w2, asr #31
cmn w1, w2
neg w0, w1
negs w0, w1, asr #3
sub x0, x1, w2, sxtb #1
subs x0, x1, x2, sxtx #3
add x0, x1, w2, uxth #4
cmn x1, w2, sxtw
adds w0, wsp, w1, uxtw #1
movz w0, #0x1234, lsl #16
movk w0, #0xffff
movn x0, #0x1234, lsl #48
mov x0, #0x12340000
asr w0, w1, #31
lsl w0, w1, #31
lsr w0, w1, #1
sbfx w0, w1, #4, #8
ubfiz w0, w1, #2, #3
bfi w0, w1, #8, #8
bfxil w0, w1, #0, #1
sxtb w0, w1
sxth x0, w1
uxth w0, w1
sbfiz w0, w1, #1, #1
extr w0, w1, w2, #31
ror w0, w1, #7
cinc w0, w1, hi
cinv x0, x1, lt
cneg w0, w1, mi
cset w0, cc
csetm w0, vs
csinv w0, w1, w2, pl
csneg x0, x1, x2, gt
ccmp w1, #0, #0, le
ccmn x1, x2, #15, cs
ccmp x1, #31, #8, vc
cbnz w0, .-0x100
cbz x30, .+0xffffc
tbz x30, #63, .+0x7ffc
tbnz w1, #0, .-0x8000
b .+0x7fffffc
bl .-0x8000000
blr x30
br x16
adr x30, .-0x100000
adrp x1, .+0x12345000
ldr w3, .-0x100000
ldrsw x3, .+0xffffc
wfi
wfe
sev
sevl
hint #0x8
paciasp
autiasp
dmb oshld
dsb oshld
dmb oshst
dsb oshst
dmb osh
dsb osh
dmb nshld
dsb nshld
dmb nshst
dsb nshst
dmb nsh
dsb nsh
dmb ishld
dsb ishld
dmb ishst
dsb ishst
dmb ld
dsb ld
dmb st
dsb st
svc #0xffff
hvc #0x1234
smc #0x0
hlt #0xf000
brk #0x1
mrs x5, mpidr_el1
mrs x5, midr_el1
mrs x5, currentel
mrs x5, nzcv
msr nzcv, x6
mrs x5, daif
msr daif, x6
mrs x5, spsel
msr spsel, x6
mrs x5, tpidr_el0
msr tpidr_el0, x6
mrs x5, tpidr_el1
msr tpidr_el1, x6
mrs x5, tpidrro_el0
msr tpidrro_el0, x6
mrs x5, cntvct_el0
mrs x5, cntpct_el0
mrs x5, cntfrq_el0
msr cntfrq_el0, x6
mrs x5, cpacr_el1
msr cpacr_el1, x6
mrs x5, sctlr_el1
msr sctlr_el1, x6
mrs x5, vbar_el1
msr vbar_el1, x6
mrs x5, elr_el1
msr elr_el1, x6
mrs x5, spsr_el1
msr spsr_el1, x6
mrs x5, sp_el0
msr sp_el0, x6
mrs x5, esr_el1
msr esr_el1, x6
mrs x5, far_el1
msr far_el1, x6
mrs x5, tcr_el1
msr tcr_el1, x6
mrs x5, ttbr0_el1
msr ttbr0_el1, x6
mrs x5, ttbr1_el1
msr ttbr1_el1, x6
mrs x5, mair_el1
msr mair_el1, x6
mrs x5, cntv_ctl_el0
msr cntv_ctl_el0, x6
mrs x5, cntv_cval_el0
msr cntv_cval_el0, x6
mrs x5, cntkctl_el1
msr cntkctl_el1, x6
mrs x5, ctr_el0
mrs x5, dczid_el0
mrs x5, fpcr
msr fpcr, x6
mrs x5, fpsr
msr fpsr, x6
mrs x5, id_aa64pfr0_el1
mrs x5, id_aa64isar0_el1
mrs x5, id_aa64mmfr0_el1
mrs x5, cntp_ctl_el0
msr cntp_ctl_el0, x6
mrs x5, cntp_cval_el0
msr cntp_cval_el0, x6
mrs x5, cntp_tval_el0
msr cntp_tval_el0, x6
mrs x5, cntv_tval_el0
msr cntv_tval_el0, x6
mrs x5, par_el1
msr par_el1, x6
mrs x5, contextidr_el1
msr contextidr_el1, x6
mrs x5, mdscr_el1
msr mdscr_el1, x6
mrs x5, clidr_el1
mrs x5, csselr_el1
msr csselr_el1, x6
mrs x5, ccsidr_el1
msr daifclr, #2
msr spsel, #0
dc zva, x1
dc cvac, x1
dc csw, x2
dc isw, x2
ic ivau, x3
at s1e1w, x1
at s1e0r, x1
tlbi vale1is, x1
tlbi vaae1is, x1
tlbi aside1is, x1
tlbi vmalle1
tlbi vae1, x2
tlbi vale1, x2
tlbi vaae1, x2
tlbi vaale1, x2
ldadd w0, w1, [x2]
ldadda w0, w1, [x2]
ldaddl w0, w1, [x2]
ldaddal w0, w1, [x2]
ldaddb w0, w1, [x2]
ldaddab w0, w1, [x2]
ldaddlb w0, w1, [x2]
ldaddalb w0, w1, [x2]
ldaddh w0, w1, [x2]
ldaddah w0, w1, [x2]
ldaddlh w0, w1, [x2]
ldaddalh w0, w1, [x2]
ldadd x0, x1, [sp]
ldaddal x3, x4, [x5]
ldclr w0, w1, [x2]
ldclral x0, x1, [x2]
ldclrb w0, w1, [x2]
ldclrh w0, w1, [x2]
ldeor w0, w1, [x2]
ldeora x0, x1, [x2]
ldeorlb w0, w1, [x2]
ldeorah w0, w1, [x2]
ldset w0, w1, [x2]
ldsetl x0, x1, [x2]
ldsetalb w0, w1, [x2]
ldseth w0, w1, [x2]
ldsmax w0, w1, [x2]
ldsmaxa x0, x1, [x2]
ldsmaxb w0, w1, [x2]
ldsmaxlh w0, w1, [x2]
ldsmin w0, w1, [x2]
ldsminal x0, x1, [x2]
ldsminab w0, w1, [x2]
ldsminh w0, w1, [x2]
ldumax w0, w1, [x2]
ldumaxl x0, x1, [x2]
ldumaxb w0, w1, [x2]
ldumaxalh w0, w1, [x2]
ldumin w0, w1, [x2]
ldumina x0, x1, [x2]
lduminlb w0, w1, [x2]
lduminh w0, w1, [x2]
ldadda w0, wzr, [x2]
ldaddal x0, xzr, [x2]
swp w0, w1, [x2]
swpa w0, w1, [x2]
swpl x0, x1, [x2]
swpal x0, x1, [sp]
swpb w0, w1, [x2]
swpalb w0, w1, [x2]
swph w0, w1, [x2]
swplh w0, w1, [x2]
swp w0, wzr, [x2]
stadd w0, [x2]
staddl x0, [x2]
staddb w0, [x2]
staddlh w0, [x2]
stclr w0, [x2]
stclrl x0, [sp]
steor w0, [x2]
steorlb w0, [x2]
stset x0, [x2]
stsetlh w0, [x2]
stsmax w0, [x2]
stsmaxl x0, [x2]
stsmin w0, [x2]
stsminb w0, [x2]
stumax w0, [x2]
stumaxlh w0, [x2]
stumin x0, [x2]
stuminl w0, [x2]
cas w0, w1, [x2]
casa w0, w1, [x2]
casl w0, w1, [x2]
casal w0, w1, [x2]
cas x0, x1, [sp]
casal x3, x4, [x5]
casb w0, w1, [x2]
casab w0, w1, [x2]
caslb w0, w1, [x2]
casalb w0, w1, [x2]
cash w0, w1, [x2]
casah w0, w1, [x2]
caslh w0, w1, [x2]
casalh w0, w1, [x2]
cas wzr, wzr, [x2]
casp w0, w1, w2, w3, [x4]
caspa w0, w1, w2, w3, [x4]
caspl w0, w1, w2, w3, [x4]
caspal w0, w1, w2, w3, [x4]
casp x0, x1, x2, x3, [x4]
caspa x2, x3, x4, x5, [sp]
caspl x0, x1, x2, x3, [x4]
caspal x28, x29, x30, xzr, [x4]
ldapr w0, [x1]
ldapr x0, [sp]
ldaprb w0, [x1]
ldaprh w0, [x1]
xpaclri
pacia1716
pacib1716
autia1716
autib1716
paciaz
paciasp
pacibz
pacibsp
autiaz
autiasp
autibz
autibsp
esb
psb csync
tsb csync
csdb
bti
bti c
bti j
bti jc
sb
msr s0_1_c4_c0_2, xzr
msr s0_3_c4_c1_3, xzr
ldr b1, [x2, #4095]
ldr h1, [x2, #2]
ldr s1, [sp, #4]
ldr d1, [x2, #8]
ldr q1, [x2, #65520]
str b1, [x2]
str q31, [sp, #16]
ldr q0, [x1, #16]!
str d3, [sp, #-8]!
ldr s2, [x3], #-256
str h2, [x3], #255
ldur q3, [x1, #-3]
stur b0, [sp]
ldur d7, [x9, #8]
ldr b0, [x1, x2, lsl #0]
ldr b0, [x1, x2]
ldr b0, [x1, w2, uxtw]
str b0, [x1, w2, sxtw #0]
ldr q3, [x1, x2, lsl #4]
str q3, [x1, x2, sxtx]
ldr h3, [x1, w2, sxtw #1]
ldr s3, [x1, w2, uxtw #2]
ldr d3, [sp, xzr, lsl #3]
ldr s0, .
ldr d0, .+8
ldr q0, .-4
ldp q0, q1, [sp, #-32]!
stp d8, d9, [sp, #16]
ldp s0, s1, [x0], #-256
stp q30, q31, [x29, #1008]
ldnp s0, s1, [x0, #4]
stnp q0, q1, [x0]
ldnp d0, d1, [x0, #-512]
ld1 {v0.16b}, [x0]
st1 {v0.1d}, [sp]
ld1 {v0.16b, v1.16b}, [x0], #32
ld1 {v0.16b, v1.16b, v2.16b}, [x0], x3
ld1 {v30.2d, v31.2d, v0.2d, v1.2d}, [x0]
st1 {v1.8h, v2.8h, v3.8h, v4.8h}, [x1], #64
ld2 {v0.4h, v1.4h}, [x1], #16
st2 {v31.2s, v0.2s}, [x1]
ld3 {v5.8b, v6.8b, v7.8b}, [x1], #24
st3 {v5.4s, v6.4s, v7.4s}, [x1], x9
ld4 {v0.4s, v1.4s, v2.4s, v3.4s}, [x0], #64
st4 {v0.2d, v1.2d, v2.2d, v3.2d}, [x0]
ld1 {v0.b}[3], [x0]
st1 {v0.b}[15], [x0], #1
ld1 {v0.h}[7], [x0], x2
st1 {v0.s}[3], [x0], #4
ld1 {v0.d}[1], [x0]
ld2 {v0.s, v1.s}[1], [x0], x2
st2 {v0.b, v1.b}[9], [x0], #2
ld3 {v0.h, v1.h, v2.h}[2], [x0], #6
st3 {v31.h, v0.h, v1.h}[7], [sp]
ld4 {v0.d, v1.d, v2.d, v3.d}[1], [x0], #32
st4 {v0.s, v1.s, v2.s, v3.s}[2], [x0]
ld1r {v0.8b}, [x0], #1
ld1r {v0.2d}, [x0]
ld2r {v0.4h, v1.4h}, [x0], x5
ld3r {v0.4s, v1.4s, v2.4s}, [x0], #12
ld4r {v0.1d, v1.1d, v2.1d, v3.1d}, [x0], #32
fmov s0, #1.0
fmov d0, #-0.125
fmov h0, #31.0
fmov d31, #0.1875
fmov s0, w1
fmov w1, s0
fmov d2, x3
fmov x3, d2
fmov h0, x1
fmov w1, h0
fmov x0, v1.d[1]
fmov v1.d[1], xzr
fmov s1, s2
fabs d1, d2
fneg h1, h2
fsqrt s1, s2
fcvt h0, d1
fcvt d0, s1
fcvt s0, h1
frintn s0, s1
frintp d0, d1
frintm h0, h1
frintz s0, s1
frinta d0, d1
frintx d0, d1
frinti s0, s1
fadd s0, s1, s2
fsub d0, d1, d2
fmul h0, h1, h2
fdiv s0, s1, s2
fmax d0, d1, d2
fmin s0, s1, s2
fmaxnm d0, d1, d2
fminnm h0, h1, h2
fnmul s0, s1, s2
fmadd h0, h1, h2, h3
fmsub d0, d1, d2, d3
fnmadd s0, s1, s2, s3
fnmsub d0, d1, d2, d31
fcmp s0, #0.0
fcmpe d1, #0.0
fcmp h1, h2
fcmpe d1, d2
fccmp s0, s1, #4, ne
fccmpe d0, d1, #15, al
fcsel h0, h1, h2, eq
fcsel d0, d1, d2, lt
fcvtns w0, s1
fcvtnu x0, d1
fcvtps w0, h1
fcvtpu x0, s1
fcvtms w0, d1
fcvtmu x0, h1
fcvtzs w0, s1
fcvtzu xzr, d1
fcvtas w0, d1
fcvtau x0, h1
scvtf s0, w1
ucvtf d0, x1
scvtf h0, wzr
fcvtzs w0, s1, #3
fcvtzu x0, d1, #64
fcvtzs w0, h1, #32
scvtf d0, x1, #64
ucvtf s0, w1, #1
ucvtf h0, x1, #17
add v0.4s, v1.4s, v2.4s
sub v0.2d, v1.2d, v2.2d
shadd v0.8b, v1.8b, v2.8b
sqadd v0.16b, v1.16b, v2.16b
cmgt v0.8h, v1.8h, v2.8h
cmtst v0.2d, v1.2d, v2.2d
mul v0.4h, v1.4h, v2.4h
pmul v0.16b, v1.16b, v2.16b
sqrdmulh v0.4s, v1.4s, v2.4s
addp v0.2d, v1.2d, v2.2d
uminp v0.2s, v1.2s, v2.2s
and v0.16b, v1.16b, v2.16b
bic v0.8b, v1.8b, v2.8b
orr v0.16b, v1.16b, v2.16b
mov v0.16b, v1.16b
orn v0.8b, v1.8b, v2.8b
eor v0.16b, v1.16b, v2.16b
bsl v0.8b, v1.8b, v2.8b
bit v0.16b, v1.16b, v2.16b
bif v0.16b, v1.16b, v2.16b
fadd v0.4s, v1.4s, v2.4s
fsub v0.2d, v1.2d, v2.2d
fmla v0.2s, v1.2s, v2.2s
fmaxnmp v0.4s, v1.4s, v2.4s
fabd v0.2d, v1.2d, v2.2d
fdiv v0.4s, v1.4s, v2.4s
facgt v0.2s, v1.2s, v2.2s
frsqrts v0.2d, v1.2d, v2.2d
sqadd b0, b1, b2
add d0, d1, d2
sqdmulh s0, s1, s2
fabd d0, d1, d2
fcmeq s0, s1, s2
saddl v0.8h, v1.8b, v2.8b
saddl2 v0.4s, v1.8h, v2.8h
uaddw v0.2d, v1.2d, v2.2s
addhn v0.8b, v1.8h, v2.8h
rsubhn2 v0.4s, v1.2d, v2.2d
sqdmull v0.4s, v1.4h, v2.4h
pmull v0.8h, v1.8b, v2.8b
pmull v0.1q, v1.1d, v2.1d
pmull2 v0.1q, v1.2d, v2.2d
umlsl2 v0.2d, v1.4s, v2.4s
sqdmlal s0, h1, h2
sqdmull d0, s1, s2
rev64 v0.4s, v1.4s
rev16 v0.16b, v1.16b
rev32 v0.8h, v1.8h
saddlp v0.4h, v1.8b
uadalp v0.2d, v1.4s
cls v0.4s, v1.4s
cnt v0.8b, v1.8b
clz v0.16b, v1.16b
not v0.16b, v1.16b
rbit v0.8b, v1.8b
abs v0.2d, v1.2d
neg v0.4s, v1.4s
cmgt v0.4s, v1.4s, #0
cmle v0.8b, v1.8b, #0
fcmgt v0.4s, v1.4s, #0.0
fcmlt v0.2d, v1.2d, #0.0
xtn v0.8b, v1.8h
xtn2 v0.16b, v1.8h
sqxtun2 v0.4s, v1.2d
shll v0.8h, v1.8b, #8
shll2 v0.2d, v1.4s, #32
fcvtn v0.4h, v1.4s
fcvtn2 v0.4s, v1.2d
fcvtxn v0.2s, v1.2d
fcvtl v0.4s, v1.4h
fcvtl2 v0.2d, v1.4s
frintn v0.4s, v1.4s
frinti v0.2d, v1.2d
fcvtzs v0.4s, v1.4s
ucvtf v0.2d, v1.2d
urecpe v0.2s, v1.2s
frsqrte v0.4s, v1.4s
fsqrt v0.2d, v1.2d
fneg v0.4s, v1.4s
sqabs b0, b1
cmgt d0, d1, #0
neg d0, d1
sqxtn b0, h1
uqxtn s0, d1
fcvtxn s0, d1
fcmle d0, d1, #0.0
frecpx s0, s1
scvtf d0, d1
addv b0, v1.16b
saddlv h0, v1.16b
uaddlv d0, v1.4s
umaxv s0, v1.4s
fmaxnmv s0, v1.4s
fminv s0, v1.4s
fmaxv h0, v1.8h
addp d0, v1.2d
faddp s0, v1.2s
fminnmp d0, v1.2d
fmaxp h0, v1.2h
dup v0.4s, v1.s[2]
dup v0.2d, v1.d[1]
dup v0.8b, w1
dup v0.2d, x1
mov w0, v1.s[1]
mov x0, v1.d[1]
umov w0, v1.b[1]
umov w0, v1.h[7]
smov x0, v1.s[1]
smov w0, v1.b[15]
mov v0.s[1], w1
mov v0.d[1], x1
mov v0.s[1], v1.s[0]
mov v0.b[15], v1.b[3]
mov b0, v1.b[3]
mov d0, v1.d[1]
movi v0.4s, #0x12
movi v0.2s, #0x12, lsl #8
movi v0.4s, #0x12, msl #8
movi v0.2s, #0xff, msl #16
movi v0.8h, #0x12, lsl #8
movi v0.16b, #0x12
movi d0, #0xff00ff00ff00ff00
movi v0.2d, #0xff00ff00ff00ff00
movi v0.2d, #0
mvni v0.4s, #0x12, lsl #24
mvni v0.4h, #0x12
orr v0.4s, #0x12, lsl #8
bic v0.8h, #0x12
fmov v0.4s, #1.0
fmov v0.2d, #-2.0
fmov v0.8h, #0.5
sshr v0.4s, v1.4s, #3
ushr d0, d1, #64
ssra v0.2d, v1.2d, #1
shl v0.16b, v1.16b, #7
sli v0.8h, v1.8h, #0
sri v0.4h, v1.4h, #16
sqshlu v0.4s, v1.4s, #31
uqshl b0, b1, #3
shrn v0.8b, v1.8h, #3
rshrn2 v0.16b, v1.8h, #8
sqrshrun2 v0.4s, v1.2d, #32
sshll v0.8h, v1.8b, #3
sxtl v0.8h, v1.8b
uxtl2 v0.4s, v1.8h
ushll2 v0.2d, v1.4s, #31
scvtf v0.4s, v1.4s, #3
fcvtzu v0.2d, v1.2d, #64
scvtf v0.8h, v1.8h, #16
sqshrn b0, h1, #3
uqrshrn s0, d1, #32
fcvtzs d0, d1, #1
ucvtf h0, h1, #16
mla v0.4s, v1.4s, v2.s[3]
mul v0.8h, v1.8h, v2.h[7]
mls v0.4h, v1.4h, v15.h[0]
smlal v0.4s, v1.4h, v2.h[3]
umull2 v0.2d, v1.4s, v31.s[1]
sqdmulh v0.2s, v1.2s, v2.s[1]
fmla v0.4s, v1.4s, v2.s[3]
fmla d0, d1, v2.d[1]
fmul v0.2d, v1.2d, v2.d[1]
fmulx v0.4h, v1.4h, v2.h[7]
sqdmlal s0, h1, v2.h[1]
sqrdmulh s0, s1, v31.s[3]
fmul h0, h1, v15.h[7]
zip1 v0.4s, v1.4s, v2.4s
zip2 v0.8b, v1.8b, v2.8b
uzp1 v0.2d, v1.2d, v2.2d
uzp2 v0.8h, v1.8h, v2.8h
trn1 v0.16b, v1.16b, v2.16b
trn2 v0.2s, v1.2s, v2.2s
ext v0.16b, v1.16b, v2.16b, #3
ext v0.8b, v1.8b, v2.8b, #7
tbl v0.16b, {v1.16b, v2.16b}, v3.16b
tbl v0.8b, {v31.16b}, v3.8b
tbx v0.8b, {v1.16b-v4.16b}, v3.8b
tbx v0.16b, {v30.16b, v31.16b, v0.16b}, v3.16b
aese v0.16b, v1.16b
aesd v0.16b, v1.16b
aesmc v0.16b, v1.16b
aesimc v0.16b, v1.16b
sha1c q0, s1, v2.4s
sha1p q0, s1, v2.4s
sha1m q0, s1, v2.4s
sha1su0 v0.4s, v1.4s, v2.4s
sha256h q0, q1, v2.4s
sha256h2 q0, q1, v2.4s
sha256su1 v0.4s, v1.4s, v2.4s
sha1h s0, s1
sha1su1 v0.4s, v1.4s
sha256su0 v0.4s, v1.4s
fadd v0.8h, v1.8h, v2.8h
fminnmp v0.4h, v1.4h, v2.4h
facgt v0.8h, v1.8h, v2.8h
fdiv v0.4h, v1.4h, v2.4h
fmulx h0, h1, h2
fabd h0, h1, h2
frecps h0, h1, h2
fabs v0.8h, v1.8h
fcmle v0.4h, v1.4h, #0.0
fcvtzu v0.8h, v1.8h
frintx v0.4h, v1.4h
fsqrt v0.8h, v1.8h
fcvtas h0, h1
frecpx h0, h1
fcmeq h0, h1, #0.0
ucvtf h0, h1
