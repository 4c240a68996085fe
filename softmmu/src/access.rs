//! Guest memory accesses for Rust callers (the interpreter): the TLB hit path inline, the
//! slow paths of [`crate::slow`] otherwise. Same semantics as generated code.

use crate::env::EnvHead;
use crate::layout::NB_MMU_MODES;
use crate::slow;
use crate::tlb::compare_value;
use tcg_ir::types::{MemOp, RmwOp};

/// Reads `size` (1, 2, 4, 8) little-endian bytes at a host pointer.
///
/// # Safety
/// `p` must be valid for `size` bytes.
#[inline]
pub unsafe fn host_read(p: *const u8, size: u32) -> u64 {
    // SAFETY: caller contract; unaligned reads are allowed.
    unsafe {
        match size {
            1 => p.read() as u64,
            2 => u16::from_le((p as *const u16).read_unaligned()) as u64,
            4 => u32::from_le((p as *const u32).read_unaligned()) as u64,
            _ => u64::from_le((p as *const u64).read_unaligned()),
        }
    }
}

/// Writes the low `size` bytes of `v` little-endian at a host pointer.
///
/// # Safety
/// `p` must be valid for `size` bytes.
#[inline]
pub unsafe fn host_write(p: *mut u8, size: u32, v: u64) {
    // SAFETY: caller contract; unaligned writes are allowed.
    unsafe {
        match size {
            1 => p.write(v as u8),
            2 => (p as *mut u16).write_unaligned((v as u16).to_le()),
            4 => (p as *mut u32).write_unaligned((v as u32).to_le()),
            _ => (p as *mut u64).write_unaligned(v.to_le()),
        }
    }
}

/// Guest load; the value is extended as `memop` says. After a fault `(*env).fault != 0`.
///
/// # Safety
/// `env` must point at the calling vCPU's environment with a valid `ctx`.
#[inline]
pub unsafe fn load(env: *mut EnvHead, addr: u64, memop: MemOp, mmu: u8, pc: u64) -> u64 {
    let mmu = mmu as usize & (NB_MMU_MODES - 1);
    // SAFETY: caller contract; the entry is inside the current table.
    let e = unsafe { &*(*env).tlb_entry(mmu, addr) };
    if e.addr_read == compare_value(addr, memop.bytes(), memop.aligned()) {
        // SAFETY: a matching tag means the page is RAM at addr + addend.
        return memop
            .extend(unsafe { host_read(addr.wrapping_add(e.addend) as *const u8, memop.bytes()) });
    }
    // SAFETY: caller contract.
    unsafe {
        slow::helper_ld(
            env as *mut u8,
            addr,
            slow::make_oi(memop, mmu as u8, None),
            pc,
        )
    }
}

/// Guest store of the low `memop` bytes of `v`.
///
/// # Safety
/// As [`load`].
#[inline]
pub unsafe fn store(env: *mut EnvHead, addr: u64, v: u64, memop: MemOp, mmu: u8, pc: u64) {
    let mmu = mmu as usize & (NB_MMU_MODES - 1);
    // SAFETY: caller contract; the entry is inside the current table.
    let e = unsafe { &*(*env).tlb_entry(mmu, addr) };
    if e.addr_write == compare_value(addr, memop.bytes(), memop.aligned()) {
        // SAFETY: a matching tag means the page is RAM at addr + addend.
        unsafe { host_write(addr.wrapping_add(e.addend) as *mut u8, memop.bytes(), v) };
        return;
    }
    // SAFETY: caller contract.
    unsafe {
        slow::helper_st(
            env as *mut u8,
            addr,
            v,
            slow::make_oi(memop, mmu as u8, None),
            pc,
        )
    };
}

/// Guest compare-and-swap; returns the old value extended as `memop` says.
///
/// # Safety
/// As [`load`].
pub unsafe fn cmpxchg(
    env: *mut EnvHead,
    addr: u64,
    cmp: u64,
    new: u64,
    memop: MemOp,
    mmu: u8,
    pc: u64,
) -> u64 {
    // SAFETY: caller contract.
    unsafe {
        slow::helper_cmpxchg(
            env as *mut u8,
            addr,
            cmp,
            new,
            slow::make_oi(memop, mmu, None),
            pc,
        )
    }
}

/// Guest atomic read-modify-write; returns the old value extended as `memop` says.
///
/// # Safety
/// As [`load`].
pub unsafe fn rmw(
    env: *mut EnvHead,
    op: RmwOp,
    addr: u64,
    v: u64,
    memop: MemOp,
    mmu: u8,
    pc: u64,
) -> u64 {
    // SAFETY: caller contract.
    unsafe {
        slow::helper_rmw(
            env as *mut u8,
            addr,
            v,
            slow::make_oi(memop, mmu, Some(op)),
            pc,
        )
    }
}

/// How an executor reaches guest memory: [`Direct`] (the functions above, what generated
/// code does) or [`crate::shadow::Shadow`] (the lockstep checker's write log). The
/// interpreter is generic over it, so the direct path costs nothing extra.
pub trait GuestMem {
    /// As [`load`].
    ///
    /// # Safety
    /// As [`load`].
    unsafe fn load(env: *mut EnvHead, addr: u64, memop: MemOp, mmu: u8, pc: u64) -> u64;
    /// As [`store`].
    ///
    /// # Safety
    /// As [`load`].
    unsafe fn store(env: *mut EnvHead, addr: u64, v: u64, memop: MemOp, mmu: u8, pc: u64);
    /// As [`cmpxchg`].
    ///
    /// # Safety
    /// As [`load`].
    #[allow(clippy::too_many_arguments)]
    unsafe fn cmpxchg(
        env: *mut EnvHead,
        addr: u64,
        cmp: u64,
        new: u64,
        memop: MemOp,
        mmu: u8,
        pc: u64,
    ) -> u64;
    /// As [`rmw`].
    ///
    /// # Safety
    /// As [`load`].
    #[allow(clippy::too_many_arguments)]
    unsafe fn rmw(
        env: *mut EnvHead,
        op: RmwOp,
        addr: u64,
        v: u64,
        memop: MemOp,
        mmu: u8,
        pc: u64,
    ) -> u64;
}

/// Guest memory as generated code sees it.
pub struct Direct;

impl GuestMem for Direct {
    #[inline(always)]
    unsafe fn load(env: *mut EnvHead, addr: u64, memop: MemOp, mmu: u8, pc: u64) -> u64 {
        // SAFETY: caller contract.
        unsafe { load(env, addr, memop, mmu, pc) }
    }
    #[inline(always)]
    unsafe fn store(env: *mut EnvHead, addr: u64, v: u64, memop: MemOp, mmu: u8, pc: u64) {
        // SAFETY: caller contract.
        unsafe { store(env, addr, v, memop, mmu, pc) }
    }
    #[inline(always)]
    unsafe fn cmpxchg(
        env: *mut EnvHead,
        addr: u64,
        cmp: u64,
        new: u64,
        memop: MemOp,
        mmu: u8,
        pc: u64,
    ) -> u64 {
        // SAFETY: caller contract.
        unsafe { cmpxchg(env, addr, cmp, new, memop, mmu, pc) }
    }
    #[inline(always)]
    unsafe fn rmw(
        env: *mut EnvHead,
        op: RmwOp,
        addr: u64,
        v: u64,
        memop: MemOp,
        mmu: u8,
        pc: u64,
    ) -> u64 {
        // SAFETY: caller contract.
        unsafe { rmw(env, op, addr, v, memop, mmu, pc) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phys::{MmioDevice, PhysAddr, PhysMap};
    use crate::tlb::IdentityWalker;
    use crate::{fault, MemCtx};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    struct Counter(AtomicU64);
    impl MmioDevice for Counter {
        fn read(&self, off: u64, _s: u32) -> u64 {
            self.0.load(Ordering::SeqCst) + off
        }
        fn write(&self, _o: u64, _s: u32, v: u64) {
            self.0.store(v, Ordering::SeqCst);
        }
    }

    fn setup() -> (Box<MemCtx>, Box<EnvHead>) {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(0x4000_0000), 0x10_0000).unwrap();
        m.add_mmio(
            "ctr",
            PhysAddr(0x900_0000),
            0x1000,
            Arc::new(Counter(AtomicU64::new(0))),
        )
        .unwrap();
        let ctx = Box::new(MemCtx {
            phys: Arc::new(m),
            walker: Box::new(IdentityWalker),
        });
        let env = Box::new(EnvHead::new(&*ctx));
        (ctx, env)
    }

    #[test]
    fn ram_roundtrip_miss_then_hit() {
        let (_ctx, mut env) = setup();
        let e: *mut EnvHead = &mut *env;
        // SAFETY: env and ctx live for the whole test; one thread.
        unsafe {
            store(e, 0x4000_1000, 0x8877_6655_4433_2211, MemOp::UQ, 0, 0);
            assert_eq!((*e).fault, 0);
            assert_eq!(load(e, 0x4000_1000, MemOp::UQ, 0, 0), 0x8877_6655_4433_2211);
            assert_eq!(load(e, 0x4000_1007, MemOp::SB, 0, 0), 0xffff_ffff_ffff_ff88);
            assert_eq!(load(e, 0x4000_1004, MemOp::UL, 0, 0), 0x8877_6655);
        }
    }

    #[test]
    fn page_crossing_and_alignment() {
        let (_ctx, mut env) = setup();
        let e: *mut EnvHead = &mut *env;
        // SAFETY: env and ctx live for the whole test; one thread.
        unsafe {
            store(e, 0x4000_0ffd, 0x0102_0304_0506_0708, MemOp::UQ, 0, 0);
            assert_eq!(load(e, 0x4000_0ffd, MemOp::UQ, 0, 0), 0x0102_0304_0506_0708);
            assert_eq!(load(e, 0x4000_1000, MemOp::UB, 0, 0), 0x05);
            assert_eq!((*e).fault, 0);
            load(e, 0x4000_0ffd, MemOp::UQ.with_align(), 0, 0x1234);
            assert_eq!((*e).fault, fault::ALIGNMENT);
            assert_eq!((*e).fault_pc, 0x1234);
        }
    }

    #[test]
    fn mmio_dispatch_and_bus_fault() {
        let (_ctx, mut env) = setup();
        let e: *mut EnvHead = &mut *env;
        // SAFETY: env and ctx live for the whole test; one thread.
        unsafe {
            store(e, 0x900_0000, 40, MemOp::UL, 0, 0);
            assert_eq!(load(e, 0x900_0002, MemOp::UL, 0, 0), 42);
            assert_eq!((*e).fault, 0);
            load(e, 0x100, MemOp::UL, 0, 8);
            assert_eq!((*e).fault, fault::BUS);
            assert_eq!((*e).fault_addr, 0x100);
        }
    }

    #[test]
    fn watchpoints_stop_accesses_before_they_happen() {
        use crate::watch::{WatchKind, WatchList};
        let (ctx, mut env) = setup();
        let e: *mut EnvHead = &mut *env;
        let w = Arc::new(WatchList::new());
        assert!(ctx.phys.attach_watchpoints(w.clone()));
        // SAFETY: env and ctx live for the whole test; one thread.
        unsafe {
            store(e, 0x4000_3008, 7, MemOp::UQ, 1, 0);
            // Filled before the watchpoint: the debugger flushes TLBs after a change.
            assert!(w.insert(0x4000_300c, 2, WatchKind::Write));
            (*e).flush_tlb();
            store(e, 0x4000_3008, 0x1111_2222_3333_4444, MemOp::UQ, 1, 0x40);
            assert_eq!((*e).fault, fault::WATCHPOINT);
            assert_eq!((*e).fault_addr, 0x4000_300c);
            assert_eq!((*e).fault_pc, 0x40);
            assert_eq!(WatchKind::from_code((*e).fault_info), WatchKind::Write);
            (*e).clear_fault();
            // Nothing was written; reads and other bytes of the page go through.
            assert_eq!(load(e, 0x4000_3008, MemOp::UQ, 1, 0), 7);
            store(e, 0x4000_3010, 9, MemOp::UQ, 1, 0);
            assert_eq!((*e).fault, 0);
            assert_eq!(load(e, 0x4000_3010, MemOp::UQ, 1, 0), 9);
            // Atomics are writes; a page-crossing store writes nothing on a hit.
            rmw(e, RmwOp::Add, 0x4000_300c, 1, MemOp::UW, 1, 0);
            assert_eq!((*e).fault, fault::WATCHPOINT);
            (*e).clear_fault();
            assert!(w.insert(0x4000_4000, 1, WatchKind::Read));
            (*e).flush_tlb();
            store(e, 0x4000_3ffc, u64::MAX, MemOp::UQ, 1, 0);
            assert_eq!((*e).fault, 0, "a read watchpoint does not stop writes");
            load(e, 0x4000_3ffe, MemOp::UL, 1, 0);
            assert_eq!((*e).fault, fault::WATCHPOINT);
            assert_eq!((*e).fault_addr, 0x4000_4000);
            (*e).clear_fault();
            w.clear();
            (*e).flush_tlb();
            assert_eq!(load(e, 0x4000_300c, MemOp::UW, 1, 0), 0);
            assert_eq!((*e).fault, 0);
        }
    }

    #[test]
    fn atomics_on_ram() {
        let (_ctx, mut env) = setup();
        let e: *mut EnvHead = &mut *env;
        // SAFETY: env and ctx live for the whole test; one thread.
        unsafe {
            store(e, 0x4000_2000, 5, MemOp::UL, 0, 0);
            assert_eq!(cmpxchg(e, 0x4000_2000, 4, 9, MemOp::UL, 0, 0), 5);
            assert_eq!(cmpxchg(e, 0x4000_2000, 5, 9, MemOp::UL, 0, 0), 5);
            assert_eq!(rmw(e, RmwOp::Add, 0x4000_2000, 3, MemOp::UL, 0, 0), 9);
            assert_eq!(load(e, 0x4000_2000, MemOp::UL, 0, 0), 12);
        }
    }
}
