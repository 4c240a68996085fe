//! Data processing: add/sub, logical, moves, bitfields, conditional ops, multiply/divide,
//! shifts and bit manipulation.

use super::{BlockEnd, Ctx};
use crate::helpers;
use arm_decode::{
    BitfieldOp, CcmpOperand, CondSelOp, DataProc1Op, DataProc2Op, DataProc3Op, Extend, Insn,
    LogicOp, MoveWideOp, RegKind, Shift,
};
use tcg_ir::types::Type;
use tcg_ir::Temp;

fn mask(is64: bool) -> u64 {
    if is64 {
        u64::MAX
    } else {
        0xffff_ffff
    }
}

/// `v` (zero-extended at the width) shifted by a constant amount.
pub(crate) fn shift_const(cx: &mut Ctx, v: Temp, shift: Shift, amount: u8, is64: bool) -> Temp {
    let width: u32 = if is64 { 64 } else { 32 };
    let amount = amount as u32 % width;
    if amount == 0 {
        return v;
    }
    let t = cx.tmp();
    let n = cx.c(amount as u64);
    match shift {
        Shift::Lsl => cx.b.shl(t, v, n),
        Shift::Lsr => cx.b.shr(t, v, n),
        Shift::Asr => {
            if is64 {
                cx.b.sar(t, v, n)
            } else {
                cx.b.ext32s(t, v);
                cx.b.sar(t, t, n);
            }
        }
        Shift::Ror => {
            if is64 {
                cx.b.rotr(t, v, n)
            } else {
                let l = cx.tmp();
                let ln = cx.c((32 - amount) as u64);
                cx.b.shr(t, v, n);
                cx.b.shl(l, v, ln);
                cx.b.or(t, t, l);
            }
        }
    }
    if !is64 {
        cx.b.ext32u(t, t);
    }
    t
}

/// The extended-register operand: `rm` extended, then shifted left by `amount`.
pub(crate) fn extend_reg(cx: &mut Ctx, v: Temp, extend: Extend, amount: u8, is64: bool) -> Temp {
    let t = cx.tmp();
    match extend {
        Extend::Uxtb => cx.b.ext8u(t, v),
        Extend::Uxth => cx.b.ext16u(t, v),
        Extend::Uxtw => cx.b.ext32u(t, v),
        Extend::Uxtx | Extend::Sxtx => cx.b.mov(t, v),
        Extend::Sxtb => cx.b.ext8s(t, v),
        Extend::Sxth => cx.b.ext16s(t, v),
        Extend::Sxtw => cx.b.ext32s(t, v),
    }
    if amount != 0 {
        let n = cx.c(amount as u64);
        cx.b.shl(t, t, n);
    }
    if !is64 {
        cx.b.ext32u(t, t);
    }
    t
}

fn add_sub(cx: &mut Ctx, is64: bool, sub: bool, set_flags: bool, a: Temp, b: Temp) -> Temp {
    if set_flags {
        if sub {
            cx.compare(a, b, is64)
        } else {
            cx.add_with_flags(a, b, None, is64)
        }
    } else {
        let r = cx.tmp();
        if sub {
            cx.b.sub(r, a, b)
        } else {
            cx.b.add(r, a, b)
        }
        r
    }
}

fn logic(cx: &mut Ctx, op: LogicOp, is64: bool, a: Temp, b: Temp) -> Temp {
    let r = cx.tmp();
    match op {
        LogicOp::And | LogicOp::Ands => cx.b.and(r, a, b),
        LogicOp::Orr => cx.b.or(r, a, b),
        LogicOp::Eor => cx.b.xor(r, a, b),
    }
    if op == LogicOp::Ands {
        cx.set_logic_flags(r, is64);
    }
    r
}

pub(super) fn translate(cx: &mut Ctx, insn: Insn) -> BlockEnd {
    match insn {
        Insn::AddSubImm {
            is64,
            sub,
            set_flags,
            rd,
            rn,
            imm,
            ..
        } => {
            let a = cx.rw(rn, is64);
            let b = cx.c(imm as u64);
            let r = add_sub(cx, is64, sub, set_flags, a, b);
            // `add/sub sp, sp, #16n` keeps a checked SP aligned.
            let keep = cx.sp_aligned
                && is64
                && rd.kind() == arm_decode::RegKind::Sp
                && rn.kind() == arm_decode::RegKind::Sp
                && imm % 16 == 0;
            cx.wr(rd, r, is64);
            cx.sp_aligned |= keep;
        }
        Insn::AddSubShifted {
            is64,
            sub,
            set_flags,
            rd,
            rn,
            rm,
            shift,
            amount,
        } => {
            let a = cx.rw(rn, is64);
            let m = cx.rw(rm, is64);
            let b = shift_const(cx, m, shift, amount, is64);
            let r = add_sub(cx, is64, sub, set_flags, a, b);
            cx.wr(rd, r, is64);
        }
        Insn::AddSubExtended {
            is64,
            sub,
            set_flags,
            rd,
            rn,
            rm,
            extend,
            amount,
        } => {
            let a = cx.rw(rn, is64);
            let m = cx.rx(rm);
            let b = extend_reg(cx, m, extend, amount, is64);
            let r = add_sub(cx, is64, sub, set_flags, a, b);
            cx.wr(rd, r, is64);
        }
        Insn::LogicalImm {
            is64,
            op,
            rd,
            rn,
            imm,
        } => {
            let a = cx.rw(rn, is64);
            let b = cx.c(imm & mask(is64));
            let r = logic(cx, op, is64, a, b);
            cx.wr(rd, r, is64);
        }
        Insn::LogicalShifted {
            is64,
            op,
            invert,
            rd,
            rn,
            rm,
            shift,
            amount,
        } => {
            let a = cx.rw(rn, is64);
            let m = cx.rw(rm, is64);
            let mut b = shift_const(cx, m, shift, amount, is64);
            if invert {
                let t = cx.tmp();
                let k = cx.c(mask(is64));
                cx.b.xor(t, b, k);
                b = t;
            }
            let r = logic(cx, op, is64, a, b);
            cx.wr(rd, r, is64);
        }
        Insn::MoveWide {
            is64,
            op,
            rd,
            imm16,
            shift,
        } => {
            let v = (imm16 as u64) << shift;
            // The register's value if an earlier MOVZ/MOVN/MOVK of this run set it.
            let n = match rd.kind() {
                RegKind::Gpr(n) if n < 31 => Some(n as usize),
                _ => None,
            };
            let known = n
                .filter(|&n| cx.wide_known & 1 << n != 0)
                .map(|n| cx.wide[n]);
            let value = match (op, known) {
                (MoveWideOp::Z, _) => Some(v),
                (MoveWideOp::N, _) => Some(!v & mask(is64)),
                (MoveWideOp::K, Some(old)) => Some((old & !(0xffff << shift) | v) & mask(is64)),
                (MoveWideOp::K, None) => None,
            };
            match value {
                Some(value) => {
                    let c = cx.c(value);
                    cx.wr(rd, c, true);
                }
                None => {
                    let old = cx.rx(rd);
                    let c = cx.c(imm16 as u64);
                    let t = cx.tmp();
                    cx.b.deposit(t, old, c, shift as u32, 16);
                    cx.wr(rd, t, is64);
                }
            }
            if let Some(n) = n {
                match value {
                    Some(value) => {
                        cx.wide[n] = value;
                        cx.wide_known |= 1 << n;
                    }
                    None => cx.wide_known &= !(1 << n),
                }
            }
        }
        Insn::Adr { rd, page, offset } => {
            let v = if page {
                // The block's page is the instruction's page.
                let p = cx.tmp();
                let m = cx.c(!0xfff);
                cx.b.and(p, cx.g.pc, m);
                let off = cx.c(offset as u64);
                let v = cx.tmp();
                cx.b.add(v, p, off);
                v
            } else {
                cx.vpc(cx.pc.wrapping_add(offset as u64))
            };
            cx.wr(rd, v, true);
        }
        Insn::Bitfield {
            is64,
            op,
            rd,
            rn,
            immr,
            imms,
        } => bitfield(cx, is64, op, rd, rn, immr as u32, imms as u32),
        Insn::Extr {
            is64,
            rd,
            rn,
            rm,
            lsb,
        } => {
            let hi = cx.rw(rn, is64);
            let lo = cx.rw(rm, is64);
            let r = cx.tmp();
            if is64 {
                if lsb == 0 {
                    cx.b.mov(r, lo);
                } else {
                    let t = cx.tmp();
                    let a = cx.c(lsb as u64);
                    let b = cx.c(64 - lsb as u64);
                    cx.b.shr(r, lo, a);
                    cx.b.shl(t, hi, b);
                    cx.b.or(r, r, t);
                }
            } else {
                let s = cx.c(32);
                cx.b.shl(r, hi, s);
                cx.b.or(r, r, lo);
                let a = cx.c(lsb as u64 & 31);
                cx.b.shr(r, r, a);
            }
            cx.wr(rd, r, is64);
        }
        Insn::AddSubCarry {
            is64,
            sub,
            set_flags,
            rd,
            rn,
            rm,
        } => {
            let a = cx.rw(rn, is64);
            let mut b = cx.rw(rm, is64);
            if sub {
                let t = cx.tmp();
                let k = cx.c(mask(is64));
                cx.b.xor(t, b, k);
                b = t;
            }
            cx.flags_for_read();
            let cf = cx.g.cf;
            let r = if set_flags {
                cx.add_with_flags(a, b, Some(cf), is64)
            } else {
                let r = cx.tmp();
                cx.b.add(r, a, b);
                cx.b.add(r, r, cf);
                r
            };
            cx.wr(rd, r, is64);
        }
        Insn::CondSelect {
            is64,
            op,
            rd,
            rn,
            rm,
            cond,
        } => {
            let n = cx.rw(rn, is64);
            let m = cx.rw(rm, is64);
            let alt = match op {
                CondSelOp::Csel => m,
                CondSelOp::Csinc => {
                    let t = cx.tmp();
                    let one = cx.c(1);
                    cx.b.add(t, m, one);
                    t
                }
                CondSelOp::Csinv => {
                    let t = cx.tmp();
                    cx.b.not(t, m);
                    t
                }
                CondSelOp::Csneg => {
                    let t = cx.tmp();
                    cx.b.neg(t, m);
                    t
                }
            };
            let test = cx.cond_test(cond);
            let r = cx.tmp();
            cx.b.movcond(test.cond, r, test.a, test.b, n, alt);
            cx.wr(rd, r, is64);
        }
        Insn::CondCompare {
            is64,
            sub,
            rn,
            operand,
            nzcv,
            cond,
        } => {
            let skip = cx.b.new_label();
            let done = cx.b.new_label();
            let test = cx.cond_test(cond);
            // Both paths below write all four flags.
            cx.flags_overwritten();
            cx.b.brcond(test.cond.invert(), test.a, test.b, skip);
            let a = cx.rw(rn, is64);
            let b = match operand {
                CcmpOperand::Reg(r) => cx.rw(r, is64),
                CcmpOperand::Imm(i) => cx.c(i as u64),
            };
            if sub {
                cx.sub_with_flags(a, b, is64);
            } else {
                cx.add_with_flags(a, b, None, is64);
            }
            cx.b.br(done);
            cx.b.set_label(skip);
            set_nzcv_const(cx, nzcv);
            cx.b.set_label(done);
        }
        Insn::DataProc3 {
            is64,
            op,
            sub,
            rd,
            rn,
            rm,
            ra,
        } => {
            let r = cx.tmp();
            match op {
                DataProc3Op::Madd | DataProc3Op::Smaddl | DataProc3Op::Umaddl => {
                    let (n, m) = match op {
                        DataProc3Op::Madd => (cx.rw(rn, is64), cx.rw(rm, is64)),
                        _ => {
                            let (n0, m0) = (cx.rx(rn), cx.rx(rm));
                            let (n, m) = (cx.tmp(), cx.tmp());
                            if op == DataProc3Op::Smaddl {
                                cx.b.ext32s(n, n0);
                                cx.b.ext32s(m, m0);
                            } else {
                                cx.b.ext32u(n, n0);
                                cx.b.ext32u(m, m0);
                            }
                            (n, m)
                        }
                    };
                    let wide = op != DataProc3Op::Madd || is64;
                    let a = cx.rw(ra, wide);
                    let p = cx.tmp();
                    cx.b.mul(p, n, m);
                    if sub {
                        cx.b.sub(r, a, p);
                    } else {
                        cx.b.add(r, a, p);
                    }
                    cx.wr(rd, r, wide);
                }
                DataProc3Op::Smulh | DataProc3Op::Umulh => {
                    let n = cx.rx(rn);
                    let m = cx.rx(rm);
                    let lo = cx.tmp();
                    if op == DataProc3Op::Smulh {
                        cx.b.muls2(lo, r, n, m);
                    } else {
                        cx.b.mulu2(lo, r, n, m);
                    }
                    cx.wr(rd, r, true);
                }
            }
        }
        Insn::DataProc2 {
            is64,
            op,
            rd,
            rn,
            rm,
        } => {
            let r = cx.tmp();
            match op {
                DataProc2Op::Udiv => {
                    let (n, m) = (cx.rw(rn, is64), cx.rw(rm, is64));
                    cx.b.divu(r, n, m);
                }
                DataProc2Op::Sdiv => {
                    let (n, m) = (cx.rw(rn, is64), cx.rw(rm, is64));
                    if is64 {
                        cx.b.div(r, n, m);
                    } else {
                        let (sn, sm) = (cx.tmp(), cx.tmp());
                        cx.b.ext32s(sn, n);
                        cx.b.ext32s(sm, m);
                        cx.b.div(r, sn, sm);
                    }
                }
                DataProc2Op::Lslv | DataProc2Op::Lsrv | DataProc2Op::Asrv | DataProc2Op::Rorv => {
                    let n = cx.rw(rn, is64);
                    let m = cx.rx(rm);
                    let amt = cx.tmp();
                    let k = cx.c(if is64 { 63 } else { 31 });
                    cx.b.and(amt, m, k);
                    match (op, is64) {
                        (DataProc2Op::Lslv, _) => cx.b.shl(r, n, amt),
                        (DataProc2Op::Lsrv, _) => cx.b.shr(r, n, amt),
                        (DataProc2Op::Asrv, true) => cx.b.sar(r, n, amt),
                        (DataProc2Op::Asrv, false) => {
                            cx.b.ext32s(r, n);
                            cx.b.sar(r, r, amt);
                        }
                        (_, true) => cx.b.rotr(r, n, amt),
                        (_, false) => {
                            let (v32, a32, r32) = (
                                cx.b.temp(Type::I32),
                                cx.b.temp(Type::I32),
                                cx.b.temp(Type::I32),
                            );
                            cx.b.extrl_i64_i32(v32, n);
                            cx.b.extrl_i64_i32(a32, amt);
                            cx.b.rotr(r32, v32, a32);
                            cx.b.extu_i32_i64(r, r32);
                        }
                    }
                }
                DataProc2Op::Crc32 { c, size } => {
                    let acc = cx.rw(rn, false);
                    let v = cx.rx(rm);
                    let k = cx.c((1u64 << size) | if c { 0x100 } else { 0 });
                    cx.b.call(&helpers::CRC32, Some(r), &[acc, v, k]);
                    cx.wr(rd, r, false);
                    return BlockEnd::Next;
                }
            }
            cx.wr(rd, r, is64);
        }
        Insn::DataProc1 { is64, op, rd, rn } => {
            let n = cx.rw(rn, is64);
            let r = cx.tmp();
            match op {
                DataProc1Op::Rbit => {
                    cx.b.call(&helpers::RBIT64, Some(r), &[n]);
                    if !is64 {
                        let s = cx.c(32);
                        cx.b.shr(r, r, s);
                    }
                }
                DataProc1Op::Rev16 => {
                    let m = cx.c(0x00ff_00ff_00ff_00ff & mask(is64));
                    let (a, b) = (cx.tmp(), cx.tmp());
                    let s = cx.c(8);
                    cx.b.shr(a, n, s);
                    cx.b.and(a, a, m);
                    cx.b.and(b, n, m);
                    cx.b.shl(b, b, s);
                    cx.b.or(r, a, b);
                }
                DataProc1Op::Rev32 => {
                    if is64 {
                        let s = cx.c(32);
                        cx.b.bswap64(r, n);
                        cx.b.rotr(r, r, s);
                    } else {
                        cx.b.bswap32(r, n);
                    }
                }
                DataProc1Op::Rev => {
                    if is64 {
                        cx.b.bswap64(r, n)
                    } else {
                        cx.b.bswap32(r, n)
                    }
                }
                DataProc1Op::Clz => {
                    if is64 {
                        cx.b.clz(r, n);
                    } else {
                        let (v32, r32) = (cx.b.temp(Type::I32), cx.b.temp(Type::I32));
                        cx.b.extrl_i64_i32(v32, n);
                        cx.b.clz(r32, v32);
                        cx.b.extu_i32_i64(r, r32);
                    }
                }
                DataProc1Op::Cls => {
                    let sv = cx.tmp();
                    if is64 {
                        cx.b.mov(sv, n);
                    } else {
                        cx.b.ext32s(sv, n);
                    }
                    let t = cx.tmp();
                    let one = cx.c(1);
                    cx.b.sar(t, sv, one);
                    cx.b.xor(t, t, sv);
                    cx.b.clz(r, t);
                    let k = cx.c(if is64 { 1 } else { 33 });
                    cx.b.sub(r, r, k);
                }
            }
            cx.wr(rd, r, is64);
        }
        _ => return cx.undef(),
    }
    BlockEnd::Next
}

fn set_nzcv_const(cx: &mut Ctx, nzcv: u8) {
    cx.flags_overwritten();
    let n = cx.c(if nzcv & 8 != 0 { u64::MAX } else { 0 });
    let z = cx.c(if nzcv & 4 != 0 { 0 } else { 1 });
    let c = cx.c(((nzcv >> 1) & 1) as u64);
    let v = cx.c(if nzcv & 1 != 0 { 1 << 63 } else { 0 });
    cx.b.mov(cx.g.nf, n);
    cx.b.mov(cx.g.zf, z);
    cx.b.mov(cx.g.cf, c);
    cx.b.mov(cx.g.vf, v);
}

fn bitfield(
    cx: &mut Ctx,
    is64: bool,
    op: BitfieldOp,
    rd: arm_decode::Reg,
    rn: arm_decode::Reg,
    immr: u32,
    imms: u32,
) {
    let width = if is64 { 64 } else { 32 };
    let src = cx.rw(rn, is64);
    let r = cx.tmp();
    if imms >= immr {
        // Extract bits imms..immr of src to the bottom (UBFX/SBFX/BFXIL, LSR/ASR).
        let len = imms - immr + 1;
        match op {
            // LSR (the 32-bit source is zero-extended) and 64-bit ASR: one shift.
            BitfieldOp::Ubfm if imms == width - 1 => {
                let s = cx.c(immr as u64);
                cx.b.shr(r, src, s);
            }
            BitfieldOp::Sbfm if imms == 63 => {
                let s = cx.c(immr as u64);
                cx.b.sar(r, src, s);
            }
            BitfieldOp::Ubfm => cx.b.extract(r, src, immr, len),
            BitfieldOp::Sbfm => cx.b.sextract(r, src, immr, len),
            BitfieldOp::Bfm => {
                let dst = cx.rw(rd, is64);
                let f = cx.tmp();
                cx.b.extract(f, src, immr, len);
                cx.b.deposit(r, dst, f, 0, len);
            }
        }
    } else {
        // Insert the low imms+1 bits of src at width-immr (UBFIZ/SBFIZ/BFI, LSL).
        let len = imms + 1;
        let pos = width - immr;
        match op {
            // As shifts, which every back end does in one or two instructions (a
            // deposit into zero is a shift, a mask and a merge with the zero).
            BitfieldOp::Ubfm if pos + len == width => {
                // LSL: the bits shifted out at the top are the ones not kept.
                let s = cx.c(pos as u64);
                cx.b.shl(r, src, s);
            }
            BitfieldOp::Ubfm => {
                cx.b.extract(r, src, 0, len);
                let s = cx.c(pos as u64);
                cx.b.shl(r, r, s);
            }
            BitfieldOp::Sbfm => {
                cx.b.sextract(r, src, 0, len);
                let s = cx.c(pos as u64);
                cx.b.shl(r, r, s);
            }
            BitfieldOp::Bfm => {
                let dst = cx.rw(rd, is64);
                cx.b.deposit(r, dst, src, pos, len);
            }
        }
    }
    cx.wr(rd, r, is64);
}
