//! TLB entries and the translation interface the guest CPU implements (page-table walks).

use crate::layout::*;
use crate::phys::{PhysMap, RamBlock};
use bitflags::bitflags;
use std::sync::atomic::{fence, AtomicU64, Ordering};

/// One direct-mapped TLB entry. A tag is the page-aligned guest virtual address, or has
/// flag bits set (`TLB_INVALID`, `TLB_MMIO`, `TLB_NOTDIRTY`) to force the slow path.
/// `addend` turns a guest virtual address in the page into a host pointer (RAM only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(32))]
pub struct TlbEntry {
    pub addr_read: u64,
    pub addr_write: u64,
    pub addr_code: u64,
    pub addend: u64,
}

impl TlbEntry {
    pub const EMPTY: TlbEntry = TlbEntry {
        addr_read: TLB_EMPTY,
        addr_write: TLB_EMPTY,
        addr_code: TLB_EMPTY,
        addend: 0,
    };
}

/// Slow-path information for an entry, parallel to the TLB (not read by generated code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct TlbFull {
    pub paddr_page: u64,
    pub attrs: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Exec,
}

impl Access {
    pub fn code(self) -> u32 {
        match self {
            Access::Read => 0,
            Access::Write => 1,
            Access::Exec => 2,
        }
    }
}

bitflags! {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Perms: u8 {
        const READ = 1;
        const WRITE = 2;
        const EXEC = 4;
    }
}

/// The result of translating one page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// Physical address of the page (page-aligned).
    pub paddr_page: u64,
    /// What the regime allows on this page for the MMU index asked about.
    pub perms: Perms,
    /// Guest memory attributes (e.g. device memory), carried for the slow path.
    pub attrs: u64,
}

/// A translation fault as the walker reports it: `kind` >= `fault::WALKER_BASE`, `info`
/// is for the guest CPU's exception code (e.g. a fault status code and level).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkFault {
    pub kind: u32,
    pub info: u64,
}

/// Translates guest virtual pages; implemented by the guest CPU (stage-1 walk, or the
/// identity map when its MMU is off).
pub trait PageWalker: Send + Sync {
    /// # Safety contract
    /// `env` is the calling vCPU's environment (starting with `EnvHead`); the walker may
    /// read its architectural registers through it.
    fn translate(
        &self,
        env: *mut crate::EnvHead,
        vaddr: u64,
        access: Access,
        mmu_idx: usize,
    ) -> Result<Translation, WalkFault>;
}

/// The walker for a CPU whose MMU is off: virtual = physical, everything allowed.
pub struct IdentityWalker;

impl PageWalker for IdentityWalker {
    fn translate(
        &self,
        _env: *mut crate::EnvHead,
        vaddr: u64,
        _access: Access,
        _mmu_idx: usize,
    ) -> Result<Translation, WalkFault> {
        Ok(Translation {
            paddr_page: vaddr & PAGE_MASK,
            perms: Perms::all(),
            attrs: 0,
        })
    }
}

/// Index of the TLB entry for `vaddr`.
#[inline]
pub fn tlb_index(vaddr: u64) -> usize {
    ((vaddr >> PAGE_BITS) as usize) & (TLB_SIZE - 1)
}

/// The value the fast path compares with a tag: the page of the access's last byte (so
/// page-crossing accesses miss), keeping the low address bits an aligned access forbids.
#[inline]
pub fn compare_value(vaddr: u64, bytes: u32, aligned: bool) -> u64 {
    let s_mask = bytes as u64 - 1;
    let a_mask = if aligned { s_mask } else { 0 };
    vaddr.wrapping_add(s_mask - a_mask) & (PAGE_MASK | a_mask)
}

/// Whether a write tag maps a RAM page the fast path may write (no flag bits at all) or
/// one kept on the slow path only because it holds code (`TLB_NOTDIRTY` alone).
#[inline]
fn is_ram_write_tag(tag: u64) -> bool {
    tag & (TLB_INVALID | TLB_MMIO) == 0
}

/// The write tag of entry `i` of MMU index `mmu`, as an atomic.
///
/// # Safety
/// `env` must point at a live `EnvHead`; `mmu < NB_MMU_MODES`, `i < TLB_SIZE`.
#[inline]
unsafe fn write_tag<'a>(env: *mut crate::EnvHead, mmu: usize, i: usize) -> &'a AtomicU64 {
    // SAFETY: caller contract; the field is an aligned u64 (TlbEntry is 32-aligned).
    unsafe { AtomicU64::from_ptr(std::ptr::addr_of_mut!((*env).tlb[mmu][i].addr_write)) }
}

/// The physical page of entry `i` of MMU index `mmu`, as an atomic.
///
/// # Safety
/// As [`write_tag`].
#[inline]
unsafe fn full_page<'a>(env: *mut crate::EnvHead, mmu: usize, i: usize) -> &'a AtomicU64 {
    // SAFETY: caller contract; the field is an aligned u64.
    unsafe { AtomicU64::from_ptr(std::ptr::addr_of_mut!((*env).tlb_full[mmu][i].paddr_page)) }
}

/// Records in a TLB entry being filled the physical page and write tag the code-page
/// protocol reads from other threads, then applies the protocol's fill half: if the page
/// (in RAM block `ram`) is code by now, add `TLB_NOTDIRTY`. The rest of the entry is
/// written by the caller beforehand.
///
/// The tag store is SeqCst (on x86-64 an `xchg`, a full barrier) and so is the load of the
/// code bit after it; `PhysMap::mark_code` sets the bit with a SeqCst RMW before its sweep
/// loads the tags (SeqCst): either this load sees the bit or the sweep sees this tag, and
/// then (acquire) the physical page stored before it.
///
/// # Safety
/// `env` must be the calling thread's own live env; indices in range.
pub(crate) unsafe fn fill_write_tag(
    env: *mut crate::EnvHead,
    mmu: usize,
    i: usize,
    paddr_page: u64,
    tag: u64,
    ram: Option<&RamBlock>,
) {
    // SAFETY: caller contract.
    let (t, full) = unsafe { (write_tag(env, mmu, i), full_page(env, mmu, i)) };
    full.store(paddr_page, Ordering::Relaxed);
    match ram {
        Some(b) if is_ram_write_tag(tag) => {
            t.store(tag, Ordering::SeqCst);
            if b.is_code(paddr_page) {
                t.fetch_or(TLB_NOTDIRTY, Ordering::SeqCst);
            }
        }
        _ => t.store(tag, Ordering::Relaxed),
    }
}

/// Sets `TLB_NOTDIRTY` in every writable TLB entry of `env` (all MMU indexes) that maps
/// physical page `paddr_page`, so stores to it through any virtual alias take the slow
/// path. This is the `protect` step of [`PhysMap::mark_code`], run for every vCPU.
///
/// It may run on any thread while the env's owner runs generated code and refills its TLB:
/// it only touches the write tags (atomic OR) and reads the physical page of each entry.
/// An entry refilled concurrently is covered by the fill's own re-check
/// ([`fill_write_tag`]); a tag that changed page under us may get a spurious
/// `TLB_NOTDIRTY`, which the owner's next store to it drops again ([`tlb_unprotect`]).
///
/// # Safety
/// `env` must point at a live `EnvHead` for the whole call (the caller guarantees its vCPU
/// is not dropped meanwhile). Generated code reads the tags with plain loads while this
/// stores to them: aligned 8-byte accesses are single-copy atomic on the hosts we support
/// (x86-64, AArch64), and the owner's plain stores to its own entries (fills, flushes)
/// only ever replace a tag with another valid one or with `TLB_EMPTY`, so the race is
/// benign as described above.
pub unsafe fn tlb_protect_code_page(env: *mut crate::EnvHead, paddr_page: u64) {
    let page = paddr_page & PAGE_MASK;
    fence(Ordering::SeqCst);
    for mmu in 0..NB_MMU_MODES {
        for i in 0..TLB_SIZE {
            // SAFETY: caller contract; indices in range.
            let (t, full) = unsafe { (write_tag(env, mmu, i), full_page(env, mmu, i)) };
            // Tag first (see `fill_write_tag`), then the page stored before it.
            let v = t.load(Ordering::SeqCst);
            if is_ram_write_tag(v) && v & TLB_NOTDIRTY == 0 && full.load(Ordering::Relaxed) == page
            {
                t.fetch_or(TLB_NOTDIRTY, Ordering::SeqCst);
            }
        }
    }
}

/// After a slow-path store through entry `i` of `mmu` (which had `TLB_NOTDIRTY`) to
/// physical page `paddr_page`: if the page no longer holds code, drop `TLB_NOTDIRTY` so
/// later stores take the fast path again. Clears first, then re-checks the code bit after
/// a fence: a concurrent [`PhysMap::mark_code`] either sees the cleared tag in its sweep
/// or we see its bit and put the flag back.
///
/// # Safety
/// `env` must be the calling thread's own live env; indices in range.
pub(crate) unsafe fn tlb_unprotect(
    env: *mut crate::EnvHead,
    mmu: usize,
    i: usize,
    paddr_page: u64,
    phys: &PhysMap,
) {
    if phys.is_code(paddr_page) {
        return;
    }
    // SAFETY: caller contract.
    let (t, full) = unsafe { (write_tag(env, mmu, i), full_page(env, mmu, i)) };
    let v = t.load(Ordering::Relaxed);
    if full.load(Ordering::Relaxed) != paddr_page || !is_ram_write_tag(v) || v & TLB_NOTDIRTY == 0 {
        return;
    }
    t.fetch_and(!TLB_NOTDIRTY, Ordering::SeqCst);
    fence(Ordering::SeqCst);
    if phys.is_code(paddr_page) {
        t.fetch_or(TLB_NOTDIRTY, Ordering::SeqCst);
    }
}
