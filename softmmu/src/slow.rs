//! The slow paths of guest memory accesses: TLB fill, MMIO dispatch, faults, page-crossing
//! accesses. The `helper_*` functions are what generated code calls on a TLB miss.
//!
//! `oi` packs the access: bits 0-7 the `MemOp`, bits 8-15 the MMU index, bits 16-23 the
//! `RmwOp` of an atomic read-modify-write. On a guest fault the helpers record it in the
//! `EnvHead` (`fault` becomes non-zero) and return 0; the caller must then leave the TB.
//!
//! Self-modifying code: a writable entry of a RAM page that holds translated code has
//! `TLB_NOTDIRTY` in its write tag (set at fill time, or by the sweep of
//! [`crate::PhysMap::mark_code`]), so every store, compare-and-swap and atomic RMW to it
//! ends up here. The slow path performs the write, then reports it to the physical map
//! ([`crate::PhysMap::code_written`]), whose hook invalidates the TBs on the bytes
//! written; once the page holds no code any more the entry loses `TLB_NOTDIRTY` again.

use crate::access::{host_read, host_write};
use crate::env::EnvHead;
use crate::layout::*;
use crate::phys::{PhysAddr, RegionKind};
use crate::tlb::{
    compare_value, fill_write_tag, is_ram_write_tag, tlb_unprotect, Access, Perms, TlbEntry,
    TlbFull,
};
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};
use tcg_ir::types::{MemOp, RmwOp};

pub fn make_oi(memop: MemOp, mmu: u8, rmw: Option<RmwOp>) -> u64 {
    memop.0 as u64 | (mmu as u64) << 8 | (rmw.map_or(0, |r| r as u64)) << 16
}

fn split_oi(oi: u64) -> (MemOp, usize) {
    (MemOp(oi as u8), ((oi >> 8) as usize) & (NB_MMU_MODES - 1))
}

/// Where one access goes after translation.
pub(crate) enum Target {
    Host(*mut u8),
    /// A write to RAM of a page holding translated code (`TLB_NOTDIRTY`): the host pointer
    /// and the physical address; the writer must call [`code_write_done`] afterwards.
    HostCode(*mut u8, u64),
    Mmio(u64),
}

/// Records a guest fault in the env.
///
/// # Safety
/// `env` must be a valid, exclusively used environment.
pub unsafe fn record_fault(
    env: *mut EnvHead,
    kind: u32,
    info: u64,
    addr: u64,
    access: Access,
    pc: u64,
) {
    // SAFETY: caller guarantees `env` is valid and ours.
    let e = unsafe { &mut *env };
    e.fault = kind;
    e.fault_info = info;
    e.fault_addr = addr;
    e.fault_access = access.code();
    e.fault_pc = pc;
}

fn tag_of(e: &TlbEntry, access: Access) -> u64 {
    match access {
        Access::Read => e.addr_read,
        Access::Write => e.addr_write,
        Access::Exec => e.addr_code,
    }
}

/// Fills the TLB entry for `vaddr` for `access` (from another ASID's global entry, or by
/// walking the page tables), returning false after recording a fault.
///
/// # Safety
/// `env` must be a valid, exclusively used environment whose `ctx` is valid.
pub unsafe fn tlb_fill(env: *mut EnvHead, vaddr: u64, access: Access, mmu: usize, pc: u64) -> bool {
    // SAFETY: caller guarantees `ctx` points at the live MemCtx of this vCPU.
    let ctx = unsafe { &*(*env).ctx };
    let page = vaddr & PAGE_MASK;
    let usable = |e: &TlbEntry| tag_of(e, access) & (PAGE_MASK | TLB_INVALID) == page;
    // SAFETY: as above; the env is ours.
    if unsafe { (*env).tlb.copy_global(mmu, vaddr, usable, Some(&ctx.phys)) } {
        return true;
    }
    let t = match ctx.walker.translate(env, vaddr, access, mmu) {
        Ok(t) => t,
        Err(f) => {
            // SAFETY: as above.
            unsafe { record_fault(env, f.kind, f.info, vaddr, access, pc) };
            return false;
        }
    };
    let (flags, addend, ram) = match ctx.phys.lookup(PhysAddr(t.paddr_page)) {
        Some((r, _)) => match &r.kind {
            RegionKind::Ram(b) => match ctx.phys.ram_ptr(PhysAddr(t.paddr_page), PAGE_SIZE) {
                Some(host) => (0, (host as u64).wrapping_sub(page), Some(b)),
                None => (TLB_MMIO, 0, None),
            },
            RegionKind::Mmio(_) => (TLB_MMIO, 0, None),
        },
        None => {
            // SAFETY: as above.
            unsafe { record_fault(env, crate::fault::BUS, 0, vaddr, access, pc) };
            return false;
        }
    };
    // Data accesses to a page a watchpoint overlaps take the slow path (`resolve`).
    let watch = match ctx.phys.active_watchpoints() {
        Some(w) if w.overlaps_page(vaddr) => TLB_WATCH,
        _ => 0,
    };
    let tag = |p: Perms, extra: u64| {
        if t.perms.contains(p) {
            page | flags | extra
        } else {
            TLB_INVALID
        }
    };
    let write = tag(Perms::WRITE, watch);
    // SAFETY: as above; the env is ours. `prepare_fill` returns records inside the
    // current table of `mmu`. The write tag goes in last, through `fill_write_tag`
    // (code-page protocol: it may add NOTDIRTY).
    unsafe {
        let tlb = &mut (*env).tlb;
        tlb.stats.fills += 1;
        let (e, full) = tlb.prepare_fill(mmu, vaddr, t.size_log2(), Some(&ctx.phys));
        e.write(TlbEntry {
            addr_read: tag(Perms::READ, watch),
            addr_write: TLB_EMPTY,
            addr_code: tag(Perms::EXEC, 0),
            addend,
        });
        full.write(TlbFull::new(&t, page));
        if ram.is_some() && is_ram_write_tag(write) {
            tlb.note_write_page(mmu, t.paddr_page & PAGE_MASK);
        }
        fill_write_tag(e, full, t.paddr_page & PAGE_MASK, write, ram);
    }
    true
}

/// After a write of `len` bytes at `vaddr` through a `TLB_NOTDIRTY` entry of `mmu`
/// ([`Target::HostCode`] at `paddr`): reports it to the physical map (which invalidates
/// the TBs on those bytes) and, if the page holds no code any more, lets this entry take
/// the fast path again.
///
/// # Safety
/// `env` must be the calling vCPU's valid environment with a valid `ctx`.
unsafe fn code_write_done(env: *mut EnvHead, vaddr: u64, paddr: u64, len: u32, mmu: usize) {
    // SAFETY: caller contract.
    unsafe {
        let phys = &(*(*env).ctx).phys;
        phys.code_written(paddr, len as u64);
        let (e, full) = (*env).tlb.slot_of(mmu, vaddr);
        tlb_unprotect(e, full, paddr & PAGE_MASK, phys);
    }
}

/// The TLB entry (filled if needed) allowing `access` to the page of `addr`: its tag for
/// the access and its records, or `None` after a recorded fault.
unsafe fn lookup(
    env: *mut EnvHead,
    addr: u64,
    access: Access,
    mmu: usize,
    pc: u64,
) -> Option<(u64, *mut TlbEntry, *mut TlbFull)> {
    let page = addr & PAGE_MASK;
    // SAFETY: env valid (caller); the records are those of the current table.
    let (mut e, mut full) = unsafe { (*env).tlb.slot_of(mmu, addr) };
    // SAFETY: as above.
    let mut tag = tag_of(unsafe { &*e }, access);
    if tag & (PAGE_MASK | TLB_INVALID) != page {
        // SAFETY: env valid (caller).
        if !unsafe { tlb_fill(env, addr, access, mmu, pc) } {
            return None;
        }
        // SAFETY: env valid (caller); the fill may have resized the table.
        (e, full) = unsafe { (*env).tlb.slot_of(mmu, addr) };
        // SAFETY: as above.
        tag = tag_of(unsafe { &*e }, access);
        if tag & (PAGE_MASK | TLB_INVALID) != page {
            // The walker allowed the page but not this access: it must report a fault
            // itself; treat a walker that does not as a bus error rather than loop.
            // SAFETY: env valid (caller).
            unsafe { record_fault(env, crate::fault::BUS, 0, addr, access, pc) };
            return None;
        }
    }
    Some((tag, e, full))
}

/// Translates an access of `len` bytes that stays within one page.
pub(crate) unsafe fn resolve(
    env: *mut EnvHead,
    addr: u64,
    len: u32,
    access: Access,
    mmu: usize,
    pc: u64,
) -> Option<Target> {
    // SAFETY: caller contract.
    let (tag, e, full) = unsafe { lookup(env, addr, access, mmu, pc) }?;
    if tag & TLB_WATCH != 0 {
        // SAFETY: env and ctx valid (caller).
        if unsafe { watch_hit(env, addr, len, access, pc) } {
            return None;
        }
    }
    // SAFETY: records of the current table, initialised.
    let (addend, paddr) = unsafe { ((*e).addend, (*full).paddr_page | (addr & !PAGE_MASK)) };
    if tag & TLB_MMIO != 0 {
        Some(Target::Mmio(paddr))
    } else if tag & TLB_NOTDIRTY != 0 && access == Access::Write {
        Some(Target::HostCode(
            addr.wrapping_add(addend) as *mut u8,
            paddr,
        ))
    } else {
        Some(Target::Host(addr.wrapping_add(addend) as *mut u8))
    }
}

/// Whether an access hits a debugger watchpoint; records the hit as a
/// [`crate::fault::WATCHPOINT`] fault if so (the access must then not be performed).
#[cold]
unsafe fn watch_hit(env: *mut EnvHead, addr: u64, len: u32, access: Access, pc: u64) -> bool {
    // SAFETY: env and ctx valid (caller).
    let phys = unsafe { &(*(*env).ctx).phys };
    let Some(hit) = phys
        .active_watchpoints()
        .and_then(|w| w.hit(addr, len as u64, access))
    else {
        return false;
    };
    // SAFETY: env valid (caller).
    unsafe {
        record_fault(
            env,
            crate::fault::WATCHPOINT,
            hit.kind.code(),
            hit.addr,
            access,
            pc,
        )
    };
    true
}

pub(crate) unsafe fn check_align(
    env: *mut EnvHead,
    addr: u64,
    memop: MemOp,
    access: Access,
    pc: u64,
) -> bool {
    if memop.aligned() && addr & (memop.bytes() as u64 - 1) != 0 {
        // SAFETY: env valid (caller).
        unsafe { record_fault(env, crate::fault::ALIGNMENT, 0, addr, access, pc) };
        return false;
    }
    true
}

pub(crate) fn crosses_page(addr: u64, bytes: u32) -> bool {
    (addr & !PAGE_MASK) + bytes as u64 > PAGE_SIZE
}

unsafe fn phys_read(env: *mut EnvHead, paddr: u64, bytes: u32, vaddr: u64, pc: u64) -> Option<u64> {
    // SAFETY: env and ctx valid (caller).
    let phys = unsafe { &(*(*env).ctx).phys };
    let v = phys.read(PhysAddr(paddr), bytes);
    if v.is_none() {
        // SAFETY: env valid (caller).
        unsafe { record_fault(env, crate::fault::BUS, 0, vaddr, Access::Read, pc) };
    }
    v
}

unsafe fn phys_write(
    env: *mut EnvHead,
    paddr: u64,
    bytes: u32,
    v: u64,
    vaddr: u64,
    pc: u64,
) -> bool {
    // SAFETY: env and ctx valid (caller).
    let phys = unsafe { &(*(*env).ctx).phys };
    if phys.write(PhysAddr(paddr), bytes, v).is_none() {
        // SAFETY: env valid (caller).
        unsafe { record_fault(env, crate::fault::BUS, 0, vaddr, Access::Write, pc) };
        return false;
    }
    true
}

/// Reads `bytes` raw little-endian bytes at `addr`; `None` after a recorded fault.
unsafe fn read_raw(env: *mut EnvHead, addr: u64, bytes: u32, mmu: usize, pc: u64) -> Option<u64> {
    if crosses_page(addr, bytes) {
        let mut v = 0u64;
        for k in 0..bytes {
            let a = addr.wrapping_add(k as u64);
            // SAFETY: env valid (caller).
            let b = unsafe { read_raw(env, a, 1, mmu, pc) }?;
            v |= b << (8 * k);
        }
        return Some(v);
    }
    // SAFETY: env valid (caller).
    match unsafe { resolve(env, addr, bytes, Access::Read, mmu, pc) }? {
        // SAFETY: resolve returned a RAM pointer valid for an in-page access.
        Target::Host(p) | Target::HostCode(p, _) => Some(unsafe { host_read(p, bytes) }),
        // SAFETY: env valid (caller).
        Target::Mmio(pa) => unsafe { phys_read(env, pa, bytes, addr, pc) },
    }
}

unsafe fn write_raw(env: *mut EnvHead, addr: u64, bytes: u32, v: u64, mmu: usize, pc: u64) -> bool {
    if crosses_page(addr, bytes) {
        // Translate both pages before writing anything, so a fault leaves memory untouched.
        let last = addr.wrapping_add(bytes as u64 - 1);
        // The part on each page is checked against the watchpoints here too, so a hit
        // writes nothing.
        let second = (last & !PAGE_MASK) as u32 + 1;
        for (a, n) in [(addr, bytes - second), (last & PAGE_MASK, second)] {
            // SAFETY: env valid (caller).
            if unsafe { resolve(env, a, n, Access::Write, mmu, pc) }.is_none() {
                return false;
            }
        }
        for k in 0..bytes {
            let a = addr.wrapping_add(k as u64);
            // SAFETY: env valid (caller).
            if !unsafe { write_raw(env, a, 1, v >> (8 * k), mmu, pc) } {
                return false;
            }
        }
        return true;
    }
    // SAFETY: env valid (caller).
    match unsafe { resolve(env, addr, bytes, Access::Write, mmu, pc) } {
        Some(Target::Host(p)) => {
            // SAFETY: resolve returned a RAM pointer valid for an in-page access.
            unsafe { host_write(p, bytes, v) };
            true
        }
        Some(Target::HostCode(p, paddr)) => {
            // SAFETY: as above; env valid (caller). Write first, then invalidate.
            unsafe {
                host_write(p, bytes, v);
                code_write_done(env, addr, paddr, bytes, mmu);
            }
            true
        }
        // SAFETY: env valid (caller).
        Some(Target::Mmio(pa)) => unsafe { phys_write(env, pa, bytes, v, addr, pc) },
        None => false,
    }
}

/// Slow-path load. Returns the value extended as `memop` says (to 64 bits).
///
/// # Safety
/// `env` must point at the calling vCPU's environment with a valid `ctx`.
pub unsafe extern "C" fn helper_ld(env: *mut u8, addr: u64, oi: u64, pc: u64) -> u64 {
    let env = env as *mut EnvHead;
    let (memop, mmu) = split_oi(oi);
    // SAFETY: caller contract.
    unsafe {
        if !check_align(env, addr, memop, Access::Read, pc) {
            return 0;
        }
        read_raw(env, addr, memop.bytes(), mmu, pc).map_or(0, |v| memop.extend(v))
    }
}

/// Slow-path store of the low `memop` bytes of `val`. Returns 0.
///
/// # Safety
/// As [`helper_ld`].
pub unsafe extern "C" fn helper_st(env: *mut u8, addr: u64, val: u64, oi: u64, pc: u64) -> u64 {
    let env = env as *mut EnvHead;
    let (memop, mmu) = split_oi(oi);
    // SAFETY: caller contract.
    unsafe {
        if check_align(env, addr, memop, Access::Write, pc) {
            write_raw(env, addr, memop.bytes(), val, mmu, pc);
        }
    }
    0
}

/// Atomically applies `f(old) -> Option<new>` to host memory; returns old and whether it
/// stored.
unsafe fn host_atomic(p: *mut u8, bytes: u32, f: impl Fn(u64) -> Option<u64>) -> (u64, bool) {
    macro_rules! cas_loop {
        ($at:ty, $t:ty) => {{
            // SAFETY: caller guarantees p is valid RAM and aligned for this size.
            let a = unsafe { <$at>::from_ptr(p as *mut $t) };
            let mut old = a.load(Ordering::SeqCst);
            loop {
                match f(old as u64) {
                    None => break (old as u64, false),
                    Some(n) => match a.compare_exchange_weak(
                        old,
                        n as $t,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    ) {
                        Ok(_) => break (old as u64, true),
                        Err(cur) => old = cur,
                    },
                }
            }
        }};
    }
    match bytes {
        1 => cas_loop!(AtomicU8, u8),
        2 => cas_loop!(AtomicU16, u16),
        4 => cas_loop!(AtomicU32, u32),
        _ => cas_loop!(AtomicU64, u64),
    }
}

/// Runs an atomic read-modify-write `f` at `addr`; returns the old raw value or `None`
/// after a recorded fault. Host atomics on aligned RAM; otherwise (MMIO, misaligned) a
/// plain read then write, which is not atomic against other vCPUs.
unsafe fn atomic_op(
    env: *mut EnvHead,
    addr: u64,
    memop: MemOp,
    mmu: usize,
    pc: u64,
    f: impl Fn(u64) -> Option<u64>,
) -> Option<u64> {
    let bytes = memop.bytes();
    // SAFETY: caller contract.
    unsafe {
        if !check_align(env, addr, memop, Access::Write, pc) {
            return None;
        }
        if !crosses_page(addr, bytes) {
            // Atomics need read and write permission; translate for write, then read.
            let (p, code) = match resolve(env, addr, bytes, Access::Write, mmu, pc)? {
                Target::Host(p) => (Some(p), None),
                Target::HostCode(p, pa) => (Some(p), Some(pa)),
                Target::Mmio(_) => (None, None),
            };
            if let Some(p) = p {
                resolve(env, addr, bytes, Access::Read, mmu, pc)?;
                if (p as usize).is_multiple_of(bytes as usize) {
                    let (old, wrote) = host_atomic(p, bytes, f);
                    if let (Some(pa), true) = (code, wrote) {
                        code_write_done(env, addr, pa, bytes, mmu);
                    }
                    return Some(old);
                }
            }
        }
        let old = read_raw(env, addr, bytes, mmu, pc)?;
        if let Some(n) = f(old) {
            if !write_raw(env, addr, bytes, n, mmu, pc) {
                return None;
            }
        }
        Some(old)
    }
}

/// Slow-path compare-and-swap: if memory equals `cmp` (in `memop`'s width), store `new`.
/// Returns the old value, extended as `memop` says.
///
/// # Safety
/// As [`helper_ld`].
pub unsafe extern "C" fn helper_cmpxchg(
    env: *mut u8,
    addr: u64,
    cmp: u64,
    new: u64,
    oi: u64,
    pc: u64,
) -> u64 {
    let env = env as *mut EnvHead;
    let (memop, mmu) = split_oi(oi);
    let m = MemOp::size(memop.size_log2() as u8).extend(u64::MAX);
    let f = |old: u64| (old & m == cmp & m).then_some(new & m);
    // SAFETY: caller contract.
    unsafe { atomic_op(env, addr, memop, mmu, pc, f) }.map_or(0, |v| memop.extend(v))
}

/// Slow-path atomic read-modify-write (`RmwOp` in bits 16-23 of `oi`). Returns the old
/// value, extended as `memop` says.
///
/// # Safety
/// As [`helper_ld`].
pub unsafe extern "C" fn helper_rmw(env: *mut u8, addr: u64, val: u64, oi: u64, pc: u64) -> u64 {
    let env = env as *mut EnvHead;
    let (memop, mmu) = split_oi(oi);
    let op = RmwOp::from_u64((oi >> 16) & 0xff).unwrap_or(RmwOp::Xchg);
    let bytes = memop.bytes();
    let f = |old: u64| Some(op.apply(bytes, old, val));
    // SAFETY: caller contract.
    unsafe { atomic_op(env, addr, memop, mmu, pc, f) }.map_or(0, |v| memop.extend(v))
}

/// For helpers that perform their own atomic access (a 128-bit compare-and-swap): the host
/// pointer of the `bytes` bytes at `addr`, translated for write and then for read
/// permission like the other atomics. `None` after a recorded fault (`fault` non-zero), and
/// `None` with no fault recorded when the bytes are not plain RAM within one page (MMIO, or
/// a page-crossing range); the caller then falls back to `helper_ld`/`helper_st`.
///
/// Self-modifying code: when the bytes are on a page holding translated code, the TBs on
/// them are invalidated here, *before* the caller writes. A translation of those bytes by
/// another vCPU between this call and the write could still read the old bytes; a caller
/// that wrote through the pointer closes that window by calling [`rmw_write_done`]
/// afterwards.
///
/// # Safety
/// As [`helper_ld`].
pub unsafe fn host_ptr_for_rmw(
    env: *mut EnvHead,
    addr: u64,
    bytes: u32,
    mmu: usize,
    pc: u64,
) -> Option<*mut u8> {
    if bytes == 0 || crosses_page(addr, bytes) {
        return None;
    }
    let mmu = mmu & (NB_MMU_MODES - 1);
    // SAFETY: caller contract.
    unsafe {
        match resolve(env, addr, bytes, Access::Write, mmu, pc)? {
            Target::Host(p) => {
                resolve(env, addr, bytes, Access::Read, mmu, pc)?;
                Some(p)
            }
            Target::HostCode(p, paddr) => {
                resolve(env, addr, bytes, Access::Read, mmu, pc)?;
                code_write_done(env, addr, paddr, bytes, mmu);
                Some(p)
            }
            Target::Mmio(_) => None,
        }
    }
}

/// After writing through a pointer from [`host_ptr_for_rmw`] (same `addr`, `bytes`,
/// `mmu`, no other access in between): invalidates TBs translated from those bytes in the
/// meantime. Cheap when the page holds no code (one atomic load).
///
/// # Safety
/// As [`helper_ld`].
pub unsafe fn rmw_write_done(env: *mut EnvHead, addr: u64, bytes: u32, mmu: usize) {
    let mmu = mmu & (NB_MMU_MODES - 1);
    // SAFETY: caller contract: the entry is the one `host_ptr_for_rmw` used.
    unsafe {
        let (_, full) = (*env).tlb.slot_of(mmu, addr);
        let paddr = (*full).paddr_page | (addr & !PAGE_MASK);
        if (*(*env).ctx).phys.is_code(paddr) {
            code_write_done(env, addr, paddr, bytes, mmu);
        }
    }
}

/// For the translator: the host pointer and physical address of the code page holding
/// `vaddr`, or `None` after recording a fault (instruction abort or code not in RAM).
///
/// # Safety
/// As [`helper_ld`].
pub unsafe fn code_page(env: *mut EnvHead, vaddr: u64, mmu: usize) -> Option<(*const u8, u64)> {
    let mmu = mmu & (NB_MMU_MODES - 1);
    let page = vaddr & PAGE_MASK;
    // SAFETY: caller contract; the records are initialised.
    unsafe {
        let (tag, e, full) = lookup(env, page, Access::Exec, mmu, vaddr)?;
        if tag & TLB_MMIO != 0 {
            record_fault(env, crate::fault::BUS, 0, vaddr, Access::Exec, vaddr);
            return None;
        }
        Some((
            page.wrapping_add((*e).addend) as *const u8,
            (*full).paddr_page,
        ))
    }
}

/// The fast-path compare value, re-exported for back ends that inline the hit path.
pub fn fast_compare_value(vaddr: u64, memop: MemOp) -> u64 {
    compare_value(vaddr, memop.bytes(), memop.aligned())
}
