//! FP/SIMD: the CPACR_EL1.FPEN check, loads and stores of V registers as guest memory
//! accesses, and every data-processing instruction through the `arm_fpsimd` helper.

use super::ldst::{address, writeback};
use super::{BlockEnd, Ctx};
use crate::helpers;
use crate::state::off;
use arm_decode::{AddrMode, Arrangement, Insn, Reg, SimdPost};
use tcg_ir::types::MemOp;
use tcg_ir::Temp;

/// Byte `byte` of V`reg` (register numbers wrap modulo 32, as structure lists do).
fn voff(reg: u32, byte: u32) -> u32 {
    off::v_byte((reg & 31) as usize, byte as usize)
}

/// `base + k`.
fn plus(cx: &mut Ctx, base: Temp, k: u64) -> Temp {
    if k == 0 {
        return base;
    }
    let a = cx.tmp();
    let c = cx.c(k);
    cx.b.add(a, base, c);
    a
}

/// LDR of a B/H/S/D/Q register: the rest of the register is zeroed.
fn load_vreg(cx: &mut Ctx, rt: u8, size: u8, addr: Temp) {
    let mmu = cx.mmu();
    let lo = cx.tmp();
    if size >= 4 {
        let hi = cx.tmp();
        // The upper half's address first: the two loads then form a pair the back ends
        // probe the TLB for once.
        let a8 = plus(cx, addr, 8);
        cx.b.qemu_ld(lo, addr, MemOp::UQ, mmu);
        cx.b.qemu_ld(hi, a8, MemOp::UQ, mmu);
        cx.b.st_env(lo, voff(rt as u32, 0), MemOp::UQ);
        cx.b.st_env(hi, voff(rt as u32, 8), MemOp::UQ);
    } else {
        cx.b.qemu_ld(lo, addr, MemOp::size(size), mmu);
        cx.b.st_env(lo, voff(rt as u32, 0), MemOp::UQ);
        let z = cx.c(0);
        cx.b.st_env(z, voff(rt as u32, 8), MemOp::UQ);
    }
}

/// STR of a B/H/S/D/Q register.
fn store_vreg(cx: &mut Ctx, rt: u8, size: u8, addr: Temp) {
    let mmu = cx.mmu();
    let lo = cx.tmp();
    if size >= 4 {
        let hi = cx.tmp();
        cx.b.ld_env(lo, voff(rt as u32, 0), MemOp::UQ);
        cx.b.ld_env(hi, voff(rt as u32, 8), MemOp::UQ);
        // As in `load_vreg`: a pair of stores.
        let a8 = plus(cx, addr, 8);
        cx.b.qemu_st(lo, addr, MemOp::UQ, mmu);
        cx.b.qemu_st(hi, a8, MemOp::UQ, mmu);
    } else {
        cx.b.ld_env(lo, voff(rt as u32, 0), MemOp::size(size));
        cx.b.qemu_st(lo, addr, MemOp::size(size), mmu);
    }
}

/// One element of `1 << size` bytes between memory and byte `byte` of V`reg`.
fn element(cx: &mut Ctx, load: bool, reg: u32, byte: u32, size: u8, addr: Temp) {
    let mmu = cx.mmu();
    let v = cx.tmp();
    let m = MemOp::size(size);
    if load {
        cx.b.qemu_ld(v, addr, m, mmu);
        cx.b.st_env(v, voff(reg, byte), m);
    } else {
        cx.b.ld_env(v, voff(reg, byte), m);
        cx.b.qemu_st(v, addr, m, mmu);
    }
}

/// The base register of a structure access (with the SP alignment check) and, after
/// the accesses, its post-index update by `bytes` or by Rm.
fn struct_base(cx: &mut Ctx, rn: Reg) -> Temp {
    address(cx, AddrMode::Offset { rn, imm: 0 }).addr
}

fn post_index(cx: &mut Ctx, rn: Reg, base: Temp, post: SimdPost) {
    let nb = match post {
        SimdPost::None => return,
        SimdPost::Imm(n) => plus(cx, base, n as u64),
        SimdPost::Reg(rm) => {
            let m = cx.rx(rm);
            let t = cx.tmp();
            cx.b.add(t, base, m);
            t
        }
    };
    cx.wr(rn, nb, true);
}

/// LD1-LD4/ST1-ST4 (multiple structures).
#[allow(clippy::too_many_arguments)]
fn multi(
    cx: &mut Ctx,
    load: bool,
    selem: u8,
    regs: u8,
    arr: Arrangement,
    rt: u8,
    rn: Reg,
    post: SimdPost,
) {
    let base = struct_base(cx, rn);
    let rbytes: u32 = if arr.q { 16 } else { 8 };
    let rt = rt as u32;
    if selem <= 1 {
        // Whole registers one after the other: 64-bit chunks are the same bytes.
        for r in 0..regs as u32 {
            for half in 0..rbytes / 8 {
                let a = plus(cx, base, (r * rbytes + half * 8) as u64);
                element(cx, load, rt + r, half * 8, 3, a);
            }
        }
    } else {
        let esize = arr.size;
        for e in 0..arr.lanes() as u32 {
            for s in 0..selem as u32 {
                let a = plus(cx, base, ((e * selem as u32 + s) << esize) as u64);
                element(cx, load, rt + s, e << esize, esize, a);
            }
        }
    }
    if load && !arr.q {
        let z = cx.c(0);
        for r in 0..regs as u32 {
            cx.b.st_env(z, voff(rt + r, 8), MemOp::UQ);
        }
    }
    post_index(cx, rn, base, post);
}

/// LDnR: one structure, each element replicated to every lane of its register.
fn replicate(cx: &mut Ctx, selem: u8, arr: Arrangement, rt: u8, rn: Reg, post: SimdPost) {
    let base = struct_base(cx, rn);
    let mmu = cx.mmu();
    let size = arr.size;
    // Multiplying by 0x0101.., 0x0001_0001.. or 0x1_0000_0001 copies a lane across 64 bits.
    let pattern = match size {
        0 => 0x0101_0101_0101_0101u64,
        1 => 0x0001_0001_0001_0001,
        2 => 0x0000_0001_0000_0001,
        _ => 1,
    };
    let mut vals = Vec::new();
    for s in 0..selem as u64 {
        let a = plus(cx, base, s << size);
        let v = cx.tmp();
        cx.b.qemu_ld(v, a, MemOp::size(size), mmu);
        vals.push(v);
    }
    let p = cx.c(pattern);
    let z = cx.c(0);
    for (s, v) in vals.into_iter().enumerate() {
        let reg = rt as u32 + s as u32;
        let rep = cx.tmp();
        cx.b.mul(rep, v, p);
        cx.b.st_env(rep, voff(reg, 0), MemOp::UQ);
        cx.b.st_env(if arr.q { rep } else { z }, voff(reg, 8), MemOp::UQ);
    }
    post_index(cx, rn, base, post);
}

/// Everything that is not a load or store: one helper call running `arm_fpsimd`, with
/// general-register and NZCV plumbing around it.
fn data_processing(cx: &mut Ctx, insn: Insn) -> BlockEnd {
    if !arm_fpsimd::supported(&insn) {
        return cx.undef();
    }
    if super::simd_native::emit(cx, &insn) {
        return BlockEnd::Next;
    }
    let gpr = match insn {
        Insn::IntToFp { rn, .. }
        | Insn::FpMovGeneral {
            to_fp: true,
            gpr: rn,
            ..
        }
        | Insn::SimdDupGeneral { rn, .. }
        | Insn::SimdInsGeneral { rn, .. } => cx.rx(rn),
        Insn::FpCondSelect { cond, .. } | Insn::FpCondCompare { cond, .. } => {
            let t = cx.cond_test(cond);
            let r = cx.tmp();
            cx.b.setcond(t.cond, r, t.a, t.b);
            r
        }
        _ => cx.c(0),
    };
    let ret = cx.tmp();
    if let Some(p) = helpers::interned_plan(cx.word, &insn) {
        let w = cx.c(p as *const arm_fpsimd::plan::Plan as usize as u64);
        cx.b.call(&helpers::FP_PLAN, Some(ret), &[w, gpr]);
    } else {
        let Some(helper) = helpers::fpsimd_helper(arm_fpsimd::part(&insn)) else {
            return cx.undef();
        };
        let decoded = helpers::interned_insn(cx.word, insn);
        let w = cx.c(decoded as *const Insn as usize as u64);
        cx.b.call(helper, Some(ret), &[w, gpr]);
    }
    match insn {
        Insn::FpToInt { rd, .. }
        | Insn::FpMovGeneral {
            to_fp: false,
            gpr: rd,
            ..
        }
        | Insn::SimdMovToGeneral { rd, .. } => cx.wr(rd, ret, true),
        Insn::FpCompare { .. } | Insn::FpCondCompare { .. } => cx.set_nzcv(ret),
        _ => {}
    }
    BlockEnd::Next
}

pub(super) fn translate(cx: &mut Ctx, insn: Insn) -> BlockEnd {
    if let Some(end) = cx.fp_trapped() {
        return end;
    }
    match insn {
        Insn::FpLoadStore {
            load,
            size,
            rt,
            addr,
            ..
        } => {
            let a = address(cx, addr);
            if load {
                load_vreg(cx, rt, size, a.addr);
            } else {
                store_vreg(cx, rt, size, a.addr);
            }
            writeback(cx, &a);
        }
        Insn::FpLoadStorePair {
            load,
            size,
            rt,
            rt2,
            addr,
            ..
        } => {
            let a = address(cx, addr);
            let a2 = plus(cx, a.addr, 1 << size);
            if load {
                // Both loads before any register write: a fault on the second leaves
                // the first register unchanged.
                let mmu = cx.mmu();
                let words = if size >= 4 { 2 } else { 1 };
                let mut vals = Vec::new();
                for (i, base) in [a.addr, a2].into_iter().enumerate() {
                    // Both halves' addresses first (see `load_vreg`).
                    let ats = if words == 2 {
                        vec![base, plus(cx, base, 8)]
                    } else {
                        vec![base]
                    };
                    for (h, at) in ats.into_iter().enumerate() {
                        let v = cx.tmp();
                        cx.b.qemu_ld(v, at, MemOp::size(size.min(3)), mmu);
                        vals.push((i, h as u64, v));
                    }
                }
                let z = cx.c(0);
                for (i, h, v) in vals {
                    let reg = if i == 0 { rt } else { rt2 } as u32;
                    cx.b.st_env(v, voff(reg, 8 * h as u32), MemOp::UQ);
                    if words == 1 {
                        cx.b.st_env(z, voff(reg, 8), MemOp::UQ);
                    }
                }
            } else {
                store_vreg(cx, rt, size, a.addr);
                store_vreg(cx, rt2, size, a2);
            }
            writeback(cx, &a);
        }
        Insn::SimdLoadStoreMulti {
            load,
            selem,
            regs,
            arr,
            rt,
            rn,
            post,
        } => multi(cx, load, selem, regs, arr, rt, rn, post),
        Insn::SimdLoadStoreLane {
            load,
            selem,
            size,
            index,
            rt,
            rn,
            post,
        } => {
            let base = struct_base(cx, rn);
            for s in 0..selem as u32 {
                let a = plus(cx, base, (s << size) as u64);
                element(cx, load, rt as u32 + s, (index as u32) << size, size, a);
            }
            post_index(cx, rn, base, post);
        }
        Insn::SimdLoadReplicate {
            selem,
            arr,
            rt,
            rn,
            post,
        } => replicate(cx, selem, arr, rt, rn, post),
        _ => return data_processing(cx, insn),
    }
    BlockEnd::Next
}
