//! Instruction semantics through the whole front end (decode → translate → optimise) on
//! both back ends, without a scheduler. Encodings come from aarch64-linux-gnu-as; the
//! expected values are the architecture's (worked out by hand in the comments).

mod common;

use common::*;
use tcg_ir::ExitCode;

#[test]
fn adds_subs_flags_and_csel() {
    // mov x0, #-1 ; adds x1, x0, #1 ; csel x2, x0, x1, cs ; subs w3, w1, #1 ; cset x4, mi
    let code = [
        0x9280_0000,
        0xb100_0401,
        0x9a81_2002,
        0x7100_0423,
        0x9a9f_57e4,
    ];
    on_all(
        &code,
        |_| {},
        |m, be| {
            let x = &m.env.x;
            assert_eq!(x[1], 0, "{be}"); // -1 + 1 = 0 with carry out
            assert_eq!(x[2], u64::MAX, "{be}"); // C set -> x0
            assert_eq!(x[3], 0xffff_ffff, "{be}"); // w: 0 - 1
            assert_eq!(x[4], 1, "{be}"); // N set by the 32-bit result
            assert_eq!(m.env.nzcv(), 0x8000_0000, "{be}"); // N, no borrow -> C clear
        },
    );
}

#[test]
fn loads_stores_and_bitfields() {
    // movz x0, #0x8081 ; str x0, [sp, #-16]! ; ldrsb x1, [sp] ; ldrh w2, [sp] ;
    // ubfx x3, x0, #4, #8 ; ldr x4, [sp], #16
    let code = [
        0xd290_1020,
        0xf81f_0fe0,
        0x3980_03e1,
        0x7940_03e2,
        0xd344_2c03,
        0xf841_07e4,
    ];
    on_all(
        &code,
        |_| {},
        |m, be| {
            let x = &m.env.x;
            assert_eq!(x[1], 0xffff_ffff_ffff_ff81, "{be}");
            assert_eq!(x[2], 0x8081, "{be}");
            assert_eq!(x[3], 0x08, "{be}");
            assert_eq!(x[4], 0x8081, "{be}");
            assert_eq!(m.env.sp, RAM + 0x8_0000, "{be}");
        },
    );
}

#[test]
fn shifts_and_ubfiz_drop_what_they_shift_out() {
    // mov x0, #-1 ; movk x0, #0xd234, lsl #48 ; lsl x1, x0, #4 ; lsl w2, w0, #4 ;
    // ubfiz x3, x0, #8, #12 ; ubfiz w4, w0, #20, #4 ; lsl x5, x0, #63 ;
    // ubfiz x6, x0, #1, #62 ; lsr x7, x0, #12 ; lsr w8, w0, #4 ; asr x9, x0, #8 ;
    // asr w10, w0, #4 ; lsr x11, x0, #63
    let code = [
        0x9280_0000,
        0xf2fa_4680,
        0xd37c_ec01,
        0x531c_6c02,
        0xd378_2c03,
        0x530c_0c04,
        0xd341_0005,
        0xd37f_f406,
        0xd34c_fc07,
        0x5304_7c08,
        0x9348_fc09,
        0x1304_7c0a,
        0xd37f_fc0b,
    ];
    on_all(
        &code,
        |_| {},
        |m, be| {
            let x = &m.env.x;
            assert_eq!(x[0], 0xd234_ffff_ffff_ffff, "{be}");
            assert_eq!(x[1], 0x234f_ffff_ffff_fff0, "{be}");
            // 32-bit forms: the upper half of x0 never reaches the result.
            assert_eq!(x[2], 0xffff_fff0, "{be}");
            assert_eq!(x[3], 0xf_ff00, "{be}");
            assert_eq!(x[4], 0xf0_0000, "{be}");
            assert_eq!(x[5], 1 << 63, "{be}");
            // Bits 62 and 63 of x0 (both set) are outside the field.
            assert_eq!(x[6], 0x2469_ffff_ffff_fffe, "{be}");
            assert_eq!(x[7], 0x000d_234f_ffff_ffff, "{be}");
            // The upper half of x0 never shifts into a W result; W ASR copies bit 31.
            assert_eq!(x[8], 0x0fff_ffff, "{be}");
            assert_eq!(x[9], 0xffd2_34ff_ffff_ffff, "{be}");
            assert_eq!(x[10], 0xffff_ffff, "{be}");
            assert_eq!(x[11], 1, "{be}");
        },
    );
}

#[test]
fn movz_movk_runs_write_constants() {
    // movz x2, #0x7c15 ; movz x3, #0x8ccd ; movk x2, #0x7f4a, lsl #16 ;
    // movk x3, #0xed55, lsl #16 ; movk x2, #0x79b9, lsl #32 ; movk x3, #0xafd7, lsl #32 ;
    // movk x2, #0x9e37, lsl #48 ; add x5, x2, #1 ; movk x3, #0xff51, lsl #48 ;
    // movn x4, #1 ; movk w4, #0x1234, lsl #16
    let code = [
        0xd28f_82a2,
        0xd291_99a3,
        0xf2af_e942,
        0xf2bd_aaa3,
        0xf2cf_3722,
        0xf2d5_fae3,
        0xf2f3_c6e2,
        0x9100_0445,
        0xf2ff_ea23,
        0x9280_0024,
        0x72a2_4684,
    ];
    on_all(
        &code,
        |m| m.env.x[4] = u64::MAX,
        |m, be| {
            let x = &m.env.x;
            assert_eq!(x[2], 0x9e37_79b9_7f4a_7c15, "{be}");
            assert_eq!(x[5], 0x9e37_79b9_7f4a_7c16, "{be}");
            assert_eq!(x[3], 0xff51_afd7_ed55_8ccd, "{be}");
            // A W MOVK zero-extends (over a 64-bit MOVN).
            assert_eq!(x[4], 0x1234_fffe, "{be}");
        },
    );
    // Only the MOVK after the ADD (which ends the run) is a deposit.
    let m = common::Machine::new(&code);
    let page = m
        .phys
        .ram_ptr(softmmu::PhysAddr(common::RAM), 4096)
        .unwrap();
    // SAFETY: `page` is the host view of the RAM page holding the code.
    let (f, _, _) = unsafe { arm_cpu::translate::translate_block(page, common::RAM, m.flags) };
    let deposits = f
        .ops
        .iter()
        .filter(|o| o.opc == tcg_ir::Opc::Deposit)
        .count();
    assert_eq!(deposits, 1, "{f}");
}

#[test]
fn exclusive_pair_succeeds_then_fails_without_monitor() {
    // mov x1, sp ; ldxr x2, [x1] ; add x2, x2, #5 ; stxr w3, x2, [x1] ; stxr w4, x2, [x1]
    let code = [
        0x9100_03e1,
        0xc85f_7c22,
        0x9100_1442,
        0xc803_7c22,
        0xc804_7c22,
    ];
    on_all(
        &code,
        |_| {},
        |m, be| {
            assert_eq!(m.env.x[3], 0, "{be}: first store-exclusive succeeds");
            assert_eq!(m.env.x[4], 1, "{be}: second fails: the monitor was cleared");
            assert_eq!(m.get(m.env.sp), 5, "{be}");
        },
    );
}

#[test]
fn unmapped_access_is_a_fault_exit() {
    // mov x0, #0x1000 ; ldr x1, [x0]
    for be in backends() {
        let mut m = Machine::new(&[0xd282_0000, 0xf940_0001]);
        assert_eq!(m.run(&*be), ExitCode::FAULT, "{}", be.name());
        assert_eq!(m.env.head.fault_pc, RAM + 4);
        assert_eq!(m.env.head.fault_addr, 0x1000);
    }
}

/// MIDR_EL1 reads the CPU's own value (the board sets it per `-cpu` model), not a
/// constant baked into the translation.
#[test]
fn midr_reads_the_per_cpu_value() {
    for midr in [0x411f_d070u64, 0x410f_d034] {
        common::on_all(
            &[0xd538_0000], // mrs x0, midr_el1
            |m| m.env.sysregs[arm_cpu::sysregs::slot::MIDR] = midr,
            |m, be| assert_eq!(m.env.x[0], midr, "{be}"),
        );
    }
}

/// The architecture's ConditionHolds for `cond` (0 = EQ .. 13 = LE) and flags N, Z, C, V.
fn cond_holds(n: bool, z: bool, c: bool, v: bool, cond: u32) -> bool {
    let base = match cond >> 1 {
        0 => z,
        1 => c,
        2 => n,
        3 => v,
        4 => c && !z,
        5 => n == v,
        6 => !z && n == v,
        _ => true,
    };
    if cond & 1 == 1 && cond != 15 {
        !base
    } else {
        base
    }
}

/// Whether `cond` holds after `a - b` at the width (the AArch64 pseudocode's NZCV).
fn holds_after_sub(a: u64, b: u64, is64: bool, cond: u32) -> bool {
    let (n, z, c, v) = if is64 {
        let r = a.wrapping_sub(b);
        (r >> 63 == 1, r == 0, a >= b, ((a ^ b) & (a ^ r)) >> 63 == 1)
    } else {
        let (a, b) = (a as u32, b as u32);
        let r = a.wrapping_sub(b);
        (r >> 31 == 1, r == 0, a >= b, ((a ^ b) & (a ^ r)) >> 31 == 1)
    };
    cond_holds(n, z, c, v, cond)
}

/// NZCV (bits 31..28) after `a - b` at the width.
fn nzcv_after_sub(a: u64, b: u64, is64: bool) -> u64 {
    (0..4u32).fold(0, |acc, i| {
        // Conditions 0, 2, 4, 6 hold for exactly Z, C, N, V.
        let bit = holds_after_sub(a, b, is64, 2 * i) as u64;
        acc | bit << [30, 29, 31, 28][i as usize]
    })
}

/// A condition read after CMP/SUBS is compared on the operands (the translator's fused
/// test) while no other instruction wrote the flags; otherwise it is read from NZCV, which
/// the CMP deferred (`CpuEnv::cc_pending`): in the same block the translator computes them
/// first, in a later block (after a `b` to the next instruction) generated code does when
/// the deferral is still pending, and `CpuEnv::nzcv` does for the run time. Every way must
/// give what the architecture says, for every condition, both widths, operands at the
/// signed and unsigned boundaries, a SUBS that overwrites its own first operand, and
/// instructions between that change the operand, write the flags or end the block.
#[test]
fn conditions_after_a_compare() {
    const NOP: u32 = 0xd503_201f;
    const ADD_X0_1: u32 = 0x9100_0400;
    const TST_X1: u32 = 0xea01_003f;
    const B_NEXT: u32 = 0x1400_0001;
    let betweens: [&[u32]; 7] = [
        &[],
        &[NOP],
        &[ADD_X0_1],
        &[TST_X1],
        &[B_NEXT],
        &[TST_X1, B_NEXT],
        &[B_NEXT, TST_X1],
    ];
    let vals = [
        0,
        1,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        0x8000_0000_0000_0000,
        u64::MAX,
    ];
    for is64 in [false, true] {
        for overwrite in [false, true] {
            for between in betweens {
                // For each condition k: cmp x0, x1 (or subs x0, x0, x1 with x0 reloaded
                // from x20 first), [between], csel x(5 + k), x3, x4, k.
                let mut code = Vec::new();
                for k in 0..14u32 {
                    let sf = if is64 { 0xeb00_0000 } else { 0x6b00_0000 };
                    if overwrite {
                        code.push(0xaa14_03e0); // mov x0, x20
                        code.push(sf | 1 << 16); // subs x0, x0, x1
                    } else {
                        code.push(0xaa14_03e0); // mov x0, x20
                        code.push(sf | 1 << 16 | 0x1f); // cmp x0, x1
                    }
                    code.extend_from_slice(between);
                    code.push(0x9a80_0000 | 4 << 16 | k << 12 | 3 << 5 | (5 + k));
                    // csel
                }
                // cmp x1, x20 last: deferred flags other than any computed before.
                let sf = if is64 { 0xeb00_0000 } else { 0x6b00_0000 };
                code.push(sf | 20 << 16 | 1 << 5 | 0x1f);
                let backends = common::backends();
                for &a in &vals {
                    for &b in &vals {
                        for be in &backends {
                            let mut m = Machine::new(&code);
                            m.env.x[20] = a;
                            m.env.x[1] = b;
                            m.env.x[3] = 1;
                            m.env.x[4] = 2;
                            assert_eq!(m.run(&**be), arm_cpu::exits::HVC);
                            let tst = between.contains(&TST_X1);
                            for k in 0..14u32 {
                                let holds = if tst {
                                    // N, Z from x1; C = V = 0: x1 against 0 as a signed
                                    // compare gives the same N, Z, and C, V are clear.
                                    holds_after_logic(b, k)
                                } else {
                                    holds_after_sub(a, b, is64, k)
                                };
                                let want = if holds { 1 } else { 2 };
                                assert_eq!(
                                    m.env.x[5 + k as usize],
                                    want,
                                    "{} cond {k} a {a:#x} b {b:#x} 64-bit {is64} subs {overwrite} between {between:x?}",
                                    be.name()
                                );
                            }
                            let want = nzcv_after_sub(b, a, is64);
                            assert_eq!(
                                m.env.nzcv(),
                                want,
                                "{} NZCV a {a:#x} b {b:#x} 64-bit {is64} between {between:x?}",
                                be.name()
                            );
                        }
                    }
                }
            }
        }
    }
}

/// The condition `cond` after `tst x1, x1` with x1 = `v`: N, Z from `v`, C = V = 0.
fn holds_after_logic(v: u64, cond: u32) -> bool {
    cond_holds(v >> 63 == 1, v == 0, false, false, cond)
}
