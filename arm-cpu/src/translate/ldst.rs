//! Loads and stores: single registers in every addressing mode, pairs, exclusives,
//! acquire/release, prefetch and CLREX.

use super::{BlockEnd, Ctl, Ctx};
use arm_decode::{AddrMode, Insn, LsForm, LsOp, Reg, RegKind, Width};
use tcg_ir::types::{BarrierFlags, Cond, MemOp};
use tcg_ir::Temp;

/// The access address and, for writeback modes, the value to store back into rn.
pub(super) struct Addr {
    pub addr: Temp,
    pub writeback: Option<(Reg, Temp)>,
    /// The writeback adds a multiple of 16 (an aligned SP stays aligned).
    pub keeps_align: bool,
}

/// The SP alignment check (SCTLR_EL1.SA/SA0): a load or store based on a misaligned SP
/// takes an SP alignment fault (EC 0x26) before any access. Once checked, SP stays known
/// aligned in the block until an instruction may change it otherwise (`Ctx::sp_aligned`),
/// so a function's stack accesses are checked once.
fn check_sp_base(cx: &mut Ctx, rn: Reg, base: Temp) {
    if rn.kind() != RegKind::Sp || !cx.flags.ctl.contains(Ctl::SP_ALIGN) || cx.sp_aligned {
        return;
    }
    let low = cx.tmp();
    let m = cx.c(15);
    cx.b.and(low, base, m);
    let ok = cx.b.new_label();
    let zero = cx.c(0);
    cx.b.brcond(Cond::Eq, low, zero, ok);
    let esr = crate::except::esr(crate::except::ec::SP_ALIGN, 0);
    cx.exit_with(crate::exits::TRAP, cx.pc, esr);
    cx.b.set_label(ok);
    cx.sp_aligned = true;
}

pub(super) fn address(cx: &mut Ctx, mode: AddrMode) -> Addr {
    if let AddrMode::Offset { rn, .. }
    | AddrMode::PreIndex { rn, .. }
    | AddrMode::PostIndex { rn, .. }
    | AddrMode::Reg { rn, .. } = mode
    {
        let base = cx.rx(rn);
        check_sp_base(cx, rn, base);
    }
    match mode {
        AddrMode::Offset { rn, imm } => {
            let base = cx.rx(rn);
            let a = cx.tmp();
            let k = cx.c(imm as u64);
            cx.b.add(a, base, k);
            Addr {
                addr: a,
                writeback: None,
                keeps_align: true,
            }
        }
        AddrMode::PreIndex { rn, imm } => {
            let base = cx.rx(rn);
            let a = cx.tmp();
            let k = cx.c(imm as u64);
            cx.b.add(a, base, k);
            Addr {
                addr: a,
                writeback: Some((rn, a)),
                keeps_align: imm % 16 == 0,
            }
        }
        AddrMode::PostIndex { rn, imm } => {
            let base = cx.rx(rn);
            let a = cx.tmp();
            cx.b.mov(a, base);
            let nb = cx.tmp();
            let k = cx.c(imm as u64);
            cx.b.add(nb, base, k);
            Addr {
                addr: a,
                writeback: Some((rn, nb)),
                keeps_align: imm % 16 == 0,
            }
        }
        AddrMode::Reg {
            rn,
            rm,
            extend,
            shift,
            ..
        } => {
            let base = cx.rx(rn);
            let m = cx.rx(rm);
            let off = super::dp::extend_reg(cx, m, extend, shift, true);
            let a = cx.tmp();
            cx.b.add(a, base, off);
            Addr {
                addr: a,
                writeback: None,
                keeps_align: true,
            }
        }
        AddrMode::Literal { offset } => {
            let a = cx.vpc(cx.pc.wrapping_add(offset as u64));
            Addr {
                addr: a,
                writeback: None,
                keeps_align: true,
            }
        }
    }
}

pub(super) fn writeback(cx: &mut Ctx, a: &Addr) {
    if let Some((rn, v)) = a.writeback {
        let keep = cx.sp_aligned && a.keeps_align;
        cx.wr(rn, v, true);
        cx.sp_aligned |= keep;
    }
}

/// The MemOp of a load of `1 << size` bytes that is sign-extended when `signed`.
fn memop(size: u8, signed: bool) -> MemOp {
    let m = MemOp::size(size);
    if signed {
        m.with_sign()
    } else {
        m
    }
}

fn load_store(cx: &mut Ctx, op: LsOp, size: u8, rt: Reg, mode: AddrMode, form: LsForm) {
    let a = address(cx, mode);
    // LDTR/STTR at EL1 access memory with EL0's permissions.
    let mmu = if form == LsForm::Unprivileged {
        tcg_ir::MmuIdx(0)
    } else {
        cx.mmu()
    };
    match op {
        LsOp::Store => {
            let v = cx.rx(rt);
            cx.b.qemu_st(v, a.addr, MemOp::size(size), mmu);
        }
        LsOp::Load | LsOp::LoadSigned(_) => {
            let signed = matches!(op, LsOp::LoadSigned(_));
            let v = cx.tmp();
            cx.b.qemu_ld(v, a.addr, memop(size, signed), mmu);
            // Loads into W registers zero-extend the (possibly sign-extended) value; an
            // unsigned load is zero-extended already.
            let is64 = size == 3 || !signed || op == LsOp::LoadSigned(Width::X);
            // Write back first: if rt == rn the loaded value wins (the architecture
            // calls this UNPREDICTABLE; this matches the common hardware choice).
            writeback(cx, &a);
            cx.wr(rt, v, is64);
            return;
        }
    }
    writeback(cx, &a);
}

fn pair(cx: &mut Ctx, load: bool, size: u8, signed: bool, rt: Reg, rt2: Reg, mode: AddrMode) {
    let a = address(cx, mode);
    let mmu = cx.mmu();
    let bytes = 1u64 << size;
    let a2 = cx.tmp();
    let k = cx.c(bytes);
    cx.b.add(a2, a.addr, k);
    if load {
        let (v1, v2) = (cx.tmp(), cx.tmp());
        cx.b.qemu_ld(v1, a.addr, memop(size, signed), mmu);
        cx.b.qemu_ld(v2, a2, memop(size, signed), mmu);
        writeback(cx, &a);
        // Unsigned loads are zero-extended already; LDPSW's results are 64 bits.
        cx.wr(rt, v1, true);
        cx.wr(rt2, v2, true);
    } else {
        let (v1, v2) = (cx.rx(rt), cx.rx(rt2));
        // Copy before writeback in case rt/rt2 is the base register.
        let (s1, s2) = (cx.tmp(), cx.tmp());
        cx.b.mov(s1, v1);
        cx.b.mov(s2, v2);
        cx.b.qemu_st(s1, a.addr, MemOp::size(size), mmu);
        cx.b.qemu_st(s2, a2, MemOp::size(size), mmu);
        writeback(cx, &a);
    }
}

const ACQUIRE: BarrierFlags = BarrierFlags::LD_LD.union(BarrierFlags::LD_ST);
/// Release ordering of a store: earlier loads and stores before it.
const RELEASE: BarrierFlags = BarrierFlags::LD_ST.union(BarrierFlags::ST_ST);

#[allow(clippy::too_many_arguments)]
fn exclusive(
    cx: &mut Ctx,
    load: bool,
    acq_rel: bool,
    is_pair: bool,
    size: u8,
    rs: Reg,
    rt: Reg,
    rt2: Reg,
    rn: Reg,
) {
    let mmu = cx.mmu();
    let base = cx.rx(rn);
    let addr = cx.tmp();
    cx.b.mov(addr, base);
    // A pair of W registers is one 64-bit access; a pair of X registers is two loads, and
    // one 128-bit compare-and-swap on the store.
    let (acc_size, wide_pair) = if is_pair && size == 2 {
        (3, false)
    } else {
        (size, is_pair)
    };
    let m = MemOp::size(acc_size).with_align().with_atomic();
    if load {
        let v = cx.tmp();
        cx.b.qemu_ld(v, addr, m, mmu);
        cx.b.mov(cx.g.excl_addr, addr);
        cx.b.mov(cx.g.excl_val, v);
        if wide_pair {
            let a2 = cx.tmp();
            let k = cx.c(8);
            cx.b.add(a2, addr, k);
            let v2 = cx.tmp();
            cx.b.qemu_ld(v2, a2, MemOp::UQ, mmu);
            cx.b.mov(cx.g.excl_val2, v2);
            cx.wr(rt, v, true);
            cx.wr(rt2, v2, true);
        } else if is_pair {
            let (lo, hi) = (cx.tmp(), cx.tmp());
            cx.b.ext32u(lo, v);
            let s = cx.c(32);
            cx.b.shr(hi, v, s);
            cx.wr(rt, lo, false);
            cx.wr(rt2, hi, false);
        } else {
            cx.wr(rt, v, size == 3);
        }
        if acq_rel {
            cx.b.mb(ACQUIRE);
        }
        return;
    }
    if acq_rel {
        cx.b.mb(BarrierFlags::ALL);
    }
    // Store exclusive: succeed only if the monitor holds this address and memory still
    // holds the value loaded (compare-and-swap against it).
    let status = cx.tmp();
    let fail = cx.b.new_label();
    let done = cx.b.new_label();
    cx.b.brcond(Cond::Ne, addr, cx.g.excl_addr, fail);
    if wide_pair {
        // An X pair: one 128-bit compare-and-swap against both recorded values.
        let st = super::atomic::store_exclusive_pair128(cx, addr, rt, rt2);
        cx.b.mov(status, st);
    } else {
        let new = cx.tmp();
        if is_pair {
            let (lo, hi) = (cx.rx(rt), cx.rx(rt2));
            let t = cx.tmp();
            let s = cx.c(32);
            cx.b.shl(t, hi, s);
            cx.b.ext32u(new, lo);
            cx.b.or(new, new, t);
        } else {
            let v = cx.rx(rt);
            cx.b.mov(new, v);
        }
        let old = cx.tmp();
        cx.b.atomic_cmpxchg(old, addr, cx.g.excl_val, new, m, mmu);
        let expect = cx.tmp();
        let ev = cx.g.excl_val;
        if acc_size == 3 {
            cx.b.mov(expect, ev);
        } else {
            let mask = cx.c((1u64 << (8 << acc_size)) - 1);
            cx.b.and(expect, ev, mask);
        }
        cx.b.setcond(Cond::Ne, status, old, expect);
    }
    cx.b.br(done);
    cx.b.set_label(fail);
    let one = cx.c(1);
    cx.b.mov(status, one);
    cx.b.set_label(done);
    let clear = cx.c(u64::MAX);
    cx.b.mov(cx.g.excl_addr, clear);
    cx.wr(rs, status, false);
}

pub(super) fn translate(cx: &mut Ctx, insn: Insn) -> BlockEnd {
    match insn {
        Insn::LoadStore {
            op,
            size,
            rt,
            addr,
            form,
        } => load_store(cx, op, size, rt, addr, form),
        Insn::Prefetch { .. } => {}
        Insn::LoadStorePair {
            load,
            size,
            signed,
            rt,
            rt2,
            addr,
            ..
        } => pair(cx, load, size, signed, rt, rt2, addr),
        Insn::Exclusive {
            load,
            acquire_release,
            pair,
            size,
            rs,
            rt,
            rt2,
            rn,
        } => exclusive(cx, load, acquire_release, pair, size, rs, rt, rt2, rn),
        Insn::AcquireRelease { load, size, rt, rn } => {
            let mmu = cx.mmu();
            let base = cx.rx(rn);
            // Load-acquire/store-release of a misaligned address is an alignment fault
            // whatever SCTLR.A says (no FEAT_LSE2).
            let m = MemOp::size(size).with_align().with_atomic();
            if load {
                let v = cx.tmp();
                cx.b.qemu_ld(v, base, m, mmu);
                cx.b.mb(ACQUIRE);
                cx.wr(rt, v, size == 3);
            } else {
                let v = cx.rx(rt);
                // Release: every earlier access before the store.
                cx.b.mb(RELEASE);
                cx.b.qemu_st(v, base, m, mmu);
                // ARMv8's acquire/release is RCsc: a later LDAR (or LDAXR) must not be
                // satisfied before this store is visible. Store->load is the one order an
                // x86-64 host relaxes, so it needs its own barrier here, after the store
                // (a barrier before the store, as QEMU emits, leaves STLR;LDAR
                // reorderable: SB+stlr+ldars in guests/litmus.c).
                cx.b.mb(BarrierFlags::ST_LD);
            }
        }
        Insn::Clrex { .. } => {
            let clear = cx.c(u64::MAX);
            cx.b.mov(cx.g.excl_addr, clear);
        }
        _ => return cx.undef(),
    }
    BlockEnd::Next
}
