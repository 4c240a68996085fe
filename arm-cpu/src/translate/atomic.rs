//! ARMv8.1 LSE atomics (LD<op>/ST<op>/SWP, CAS, CASP), the RCpc load-acquire LDAPR, and
//! the 128-bit compare-and-swap helper that CASP of an X pair and STXP/STLXP of an X pair
//! use.

use super::{BlockEnd, Ctx};
use crate::state::CpuEnv;
use arm_decode::{AtomicOp, Insn, Reg};
use softmmu::{slow, Access, EnvHead};
use std::sync::LazyLock;
use tcg_ir::types::{BarrierFlags, Cond, MemOp, RmwOp};
use tcg_ir::{ExitCode, Helper, HelperFlags, Temp};

/// Orders the access before every later access (acquire).
pub(super) const ACQUIRE: BarrierFlags = BarrierFlags::LD_LD.union(BarrierFlags::LD_ST);

/// Release ordering: every earlier access before the atomic.
const RELEASE: BarrierFlags = BarrierFlags::ALL;

/// Status the 128-bit helpers return.
const ST_OK: u64 = 0;
const ST_MISMATCH: u64 = 1;
const ST_FAULT: u64 = 2;

/// The result of a 128-bit compare-and-swap attempt: the old memory value, or a fault
/// recorded in the env.
type Old128 = Option<[u64; 2]>;

/// `lock cmpxchg16b` on host memory. (Inline assembly rather than the `cmpxchg16b`
/// intrinsic, which LLVM may lower to a libatomic call that is not linked.)
///
/// # Safety
/// `p` must be 16-byte aligned and valid for reads and writes; the CPU must support
/// CMPXCHG16B.
#[cfg(target_arch = "x86_64")]
unsafe fn host_cas16(p: *mut u8, cmp: [u64; 2], new: [u64; 2]) -> [u64; 2] {
    let (lo, hi): (u64, u64);
    // SAFETY: caller contract. RBX is reserved by LLVM, so the new low half is swapped
    // into it around the instruction and RBX is restored afterwards.
    unsafe {
        core::arch::asm!(
            "xchg {nlo}, rbx",
            "lock cmpxchg16b xmmword ptr [{p}]",
            "mov rbx, {nlo}",
            p = in(reg) p,
            nlo = inout(reg) new[0] => _,
            in("rcx") new[1],
            inout("rax") cmp[0] => lo,
            inout("rdx") cmp[1] => hi,
            options(nostack),
        );
    }
    [lo, hi]
}

/// Compares the 16 bytes at guest `addr` with `cmp` and stores `new` if equal; returns the
/// old value, or `None` after recording a guest fault (alignment, translation, bus).
///
/// Atomic against other vCPUs when the bytes are RAM and the host has CMPXCHG16B. On other
/// hosts, and for MMIO, it is a plain read-compare-write that another vCPU can interleave
/// with (the exclusive-section fallback of the design is not wired up yet).
///
/// # Safety
/// `env` must be the calling vCPU's live `CpuEnv`.
unsafe fn cas128(
    env: *mut EnvHead,
    addr: u64,
    cmp: [u64; 2],
    new: [u64; 2],
    mmu: usize,
    pc: u64,
) -> Old128 {
    // SAFETY: caller contract (env valid and ours).
    unsafe {
        if addr & 15 != 0 {
            slow::record_fault(env, softmmu::fault::ALIGNMENT, 0, addr, Access::Write, pc);
            return None;
        }
        if let Some(p) = slow::host_ptr_for_rmw(env, addr, 16, mmu, pc) {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("cmpxchg16b") && (p as usize) & 15 == 0 {
                let old = host_cas16(p, cmp, new);
                // Invalidate translated code on those bytes after the write.
                slow::rmw_write_done(env, addr, 16, mmu);
                return Some(old);
            }
            // Fallback: not atomic against other vCPUs (see above).
            let q = p as *mut u64;
            let old = [q.read_volatile(), q.add(1).read_volatile()];
            if old == cmp {
                q.write_volatile(new[0]);
                q.add(1).write_volatile(new[1]);
            }
            slow::rmw_write_done(env, addr, 16, mmu);
            return Some(old);
        }
        if (*env).fault != 0 {
            return None;
        }
        // MMIO (or not plain RAM): two 64-bit slow-path accesses, not atomic.
        let oi = slow::make_oi(MemOp::UQ, mmu as u8, None);
        let e = env as *mut u8;
        let lo = slow::helper_ld(e, addr, oi, pc);
        if (*env).fault != 0 {
            return None;
        }
        let hi = slow::helper_ld(e, addr + 8, oi, pc);
        if (*env).fault != 0 {
            return None;
        }
        if [lo, hi] == cmp {
            slow::helper_st(e, addr, new[0], oi, pc);
            if (*env).fault != 0 {
                return None;
            }
            slow::helper_st(e, addr + 8, new[1], oi, pc);
            if (*env).fault != 0 {
                return None;
            }
        }
        Some([lo, hi])
    }
}

/// A general register by its 5-bit number as the helpers see it (31 = XZR).
fn xreg(env: &CpuEnv, n: u64) -> u64 {
    env.x.get(n as usize).copied().unwrap_or(0)
}

/// CASP of an X pair: `spec` = rs | rt << 8 | mmu << 16. Compares (Xs, Xs+1) with the 16
/// bytes at `addr`, stores (Xt, Xt+1) if equal, writes the old pair to (Xs, Xs+1).
/// Returns [`ST_OK`] or [`ST_FAULT`] (fault recorded in the env, registers untouched).
extern "C" fn helper_casp128(env: *mut u8, addr: u64, spec: u64, pc: u64) -> u64 {
    let (rs, rt, mmu) = (spec & 31, (spec >> 8) & 31, ((spec >> 16) & 3) as usize);
    // SAFETY: generated code passes its own env, which is a CpuEnv.
    let e = unsafe { &mut *(env as *mut CpuEnv) };
    let cmp = [xreg(e, rs), xreg(e, rs + 1)];
    let new = [xreg(e, rt), xreg(e, rt + 1)];
    // SAFETY: as above; CpuEnv starts with its EnvHead (repr(C)).
    let Some(old) = (unsafe { cas128(env as *mut EnvHead, addr, cmp, new, mmu, pc) }) else {
        return ST_FAULT;
    };
    // SAFETY: as above (re-borrow after the raw-pointer use).
    let e = unsafe { &mut *(env as *mut CpuEnv) };
    for (i, v) in old.into_iter().enumerate() {
        if let Some(r) = e.x.get_mut(rs as usize + i) {
            *r = v;
        }
    }
    ST_OK
}

/// STXP/STLXP of an X pair: stores (`lo`, `hi`) at `addr` if memory still holds the
/// pair the monitor recorded (`excl_val`, `excl_val2`). `mmu_pc` = pc | mmu (pc is
/// 4-aligned). Returns [`ST_OK`], [`ST_MISMATCH`] or [`ST_FAULT`].
extern "C" fn helper_stxp128(env: *mut u8, addr: u64, lo: u64, hi: u64, mmu_pc: u64) -> u64 {
    let (mmu, pc) = ((mmu_pc & 3) as usize, mmu_pc & !3);
    // SAFETY: generated code passes its own env, which is a CpuEnv.
    let cmp = unsafe {
        let e = &*(env as *const CpuEnv);
        [e.excl_val, e.excl_val2]
    };
    // SAFETY: as above.
    match unsafe { cas128(env as *mut EnvHead, addr, cmp, [lo, hi], mmu, pc) } {
        None => ST_FAULT,
        Some(old) if old == cmp => ST_OK,
        Some(_) => ST_MISMATCH,
    }
}

pub(crate) static CASP128: LazyLock<Helper> = LazyLock::new(|| Helper {
    name: "casp128",
    addr: helper_casp128 as *const () as usize,
    nargs: 3,
    has_ret: true,
    // Reads and writes X registers in the env: globals are synced around the call.
    flags: HelperFlags::empty(),
});

pub(crate) static STXP128: LazyLock<Helper> = LazyLock::new(|| Helper {
    name: "stxp128",
    addr: helper_stxp128 as *const () as usize,
    nargs: 4,
    has_ret: true,
    // Reads the monitor globals.
    flags: HelperFlags::NO_WRITE_GLOBALS,
});

/// Leaves the TB with the fault exit when `status == fault_code`.
fn exit_on_fault(cx: &mut Ctx, status: Temp) {
    let ok = cx.b.new_label();
    let f = cx.c(ST_FAULT);
    cx.b.brcond(Cond::Ne, status, f, ok);
    cx.b.exit_tb(ExitCode::FAULT);
    cx.b.set_label(ok);
}

/// STXP/STLXP of an X pair through the 128-bit helper; returns the 0/1 status temp.
/// The caller has checked the monitor address.
pub(super) fn store_exclusive_pair128(cx: &mut Ctx, addr: Temp, rt: Reg, rt2: Reg) -> Temp {
    let (lo, hi) = (cx.rx(rt), cx.rx(rt2));
    let mmu_pc = cx.c((cx.pc & !3) | (cx.mmu().0 as u64 & 3));
    let st = cx.tmp();
    cx.b.call(&STXP128, Some(st), &[addr, lo, hi, mmu_pc]);
    exit_on_fault(cx, st);
    st
}

fn rmw_op(op: AtomicOp) -> RmwOp {
    match op {
        AtomicOp::Add => RmwOp::Add,
        // LDCLR is an AND with the complemented operand (done by the caller).
        AtomicOp::Clr => RmwOp::And,
        AtomicOp::Eor => RmwOp::Xor,
        AtomicOp::Set => RmwOp::Or,
        AtomicOp::Smax => RmwOp::Smax,
        AtomicOp::Smin => RmwOp::Smin,
        AtomicOp::Umax => RmwOp::Umax,
        AtomicOp::Umin => RmwOp::Umin,
        AtomicOp::Swp => RmwOp::Xchg,
    }
}

/// The base address in a fresh temp (rn may be overwritten by the result).
fn base(cx: &mut Ctx, rn: Reg) -> Temp {
    let r = cx.rx(rn);
    let a = cx.tmp();
    cx.b.mov(a, r);
    a
}

/// LSE atomics fault on a misaligned address whatever SCTLR.A says.
fn atomic_memop(size: u8) -> MemOp {
    MemOp::size(size).with_align().with_atomic()
}

#[allow(clippy::too_many_arguments)]
fn atomic_mem(
    cx: &mut Ctx,
    op: AtomicOp,
    size: u8,
    acquire: bool,
    release: bool,
    rs: Reg,
    rt: Reg,
    rn: Reg,
) {
    let mmu = cx.mmu();
    let addr = base(cx, rn);
    let src = cx.rx(rs);
    let v = cx.tmp();
    if op == AtomicOp::Clr {
        cx.b.not(v, src);
    } else {
        cx.b.mov(v, src);
    }
    if release {
        cx.b.mb(RELEASE);
    }
    // The back ends compare signed min/max at the access size (RmwOp::apply and the
    // narrow host atomics), and return the old value zero-extended (unsigned MemOp).
    let old = cx.tmp();
    cx.b.atomic_rmw(rmw_op(op), old, addr, v, atomic_memop(size), mmu);
    if acquire {
        cx.b.mb(ACQUIRE);
    }
    cx.wr(rt, old, size == 3);
}

fn compare_swap(cx: &mut Ctx, size: u8, acquire: bool, release: bool, rs: Reg, rt: Reg, rn: Reg) {
    let mmu = cx.mmu();
    let addr = base(cx, rn);
    let (cmp, new) = (cx.rx(rs), cx.rx(rt));
    if release {
        cx.b.mb(RELEASE);
    }
    let old = cx.tmp();
    cx.b.atomic_cmpxchg(old, addr, cmp, new, atomic_memop(size), mmu);
    if acquire {
        cx.b.mb(ACQUIRE);
    }
    cx.wr(rs, old, size == 3);
}

/// Which registers a CASP uses.
struct CaspRegs {
    rs: Reg,
    rs2: Reg,
    rt: Reg,
    rt2: Reg,
    rn: Reg,
}

fn compare_swap_pair(cx: &mut Ctx, size: u8, acquire: bool, release: bool, r: CaspRegs) {
    let mmu = cx.mmu();
    let addr = base(cx, r.rn);
    if release {
        cx.b.mb(RELEASE);
    }
    if size == 2 {
        // A W pair is one 64-bit compare-and-swap; the first register is the lower
        // address (little-endian).
        let pack = |cx: &mut Ctx, lo: Reg, hi: Reg| {
            let (l, h) = (cx.rx(lo), cx.rx(hi));
            let v = cx.tmp();
            cx.b.ext32u(v, l);
            cx.b.deposit(v, v, h, 32, 32);
            v
        };
        let cmp = pack(cx, r.rs, r.rs2);
        let new = pack(cx, r.rt, r.rt2);
        let old = cx.tmp();
        cx.b.atomic_cmpxchg(old, addr, cmp, new, atomic_memop(3), mmu);
        let hi = cx.tmp();
        cx.b.extract(hi, old, 32, 32);
        cx.wr(r.rs, old, false);
        cx.wr(r.rs2, hi, false);
    } else {
        let spec = (r.rs.encoding() as u64)
            | (r.rt.encoding() as u64) << 8
            | (cx.mmu().0 as u64 & 3) << 16;
        let spec = cx.c(spec);
        let pc = cx.c(cx.pc);
        let st = cx.tmp();
        cx.b.call(&CASP128, Some(st), &[addr, spec, pc]);
        exit_on_fault(cx, st);
    }
    if acquire {
        cx.b.mb(ACQUIRE);
    }
}

pub(super) fn translate(cx: &mut Ctx, insn: Insn) -> BlockEnd {
    match insn {
        Insn::AtomicMem {
            op,
            size,
            acquire,
            release,
            rs,
            rt,
            rn,
        } => atomic_mem(cx, op, size, acquire, release, rs, rt, rn),
        Insn::CompareSwap {
            size,
            acquire,
            release,
            rs,
            rt,
            rn,
        } => compare_swap(cx, size, acquire, release, rs, rt, rn),
        Insn::CompareSwapPair {
            size,
            acquire,
            release,
            rs,
            rs2,
            rt,
            rt2,
            rn,
        } => compare_swap_pair(
            cx,
            size,
            acquire,
            release,
            CaspRegs {
                rs,
                rs2,
                rt,
                rt2,
                rn,
            },
        ),
        Insn::LoadAcquirePc { size, rt, rn } => {
            // RCpc: a load-acquire that earlier store-releases may pass; translated like
            // LDAR (stronger, which is allowed), alignment-checked like it.
            let mmu = cx.mmu();
            let a = cx.rx(rn);
            let v = cx.tmp();
            cx.b.qemu_ld(v, a, MemOp::size(size).with_align().with_atomic(), mmu);
            cx.b.mb(ACQUIRE);
            cx.wr(rt, v, size == 3);
        }
        _ => return cx.undef(),
    }
    BlockEnd::Next
}
