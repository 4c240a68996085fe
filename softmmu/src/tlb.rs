//! TLB entries and the translation interface the guest CPU implements (page-table walks).

use crate::layout::*;
use crate::phys::{PhysMap, RamBlock};
use bitflags::bitflags;
use std::sync::atomic::{fence, AtomicU64, Ordering};

/// One direct-mapped TLB entry. A tag is the page-aligned guest virtual address, or has
/// flag bits set (`TLB_INVALID`, `TLB_MMIO`, `TLB_NOTDIRTY`, `TLB_WATCH`) to force the slow
/// path.
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
    /// Physical page (read by other threads' code-page sweeps).
    pub paddr_page: u64,
    /// The walker's attributes (`Translation::attrs` without the softmmu's bits).
    pub attrs: u64,
    /// The virtual page the entry was filled for (top byte included).
    pub vaddr_page: u64,
    /// log2 of the size of the mapping the entry comes from (`PAGE_BITS` for a 4 KiB page,
    /// more for a larger page or a block): invalidating any address in it drops the entry.
    pub size_log2: u8,
    /// Valid for every ASID (nG = 0).
    pub global: bool,
    /// The entry holds a translation (its tags may still all be `TLB_INVALID`).
    pub valid: bool,
    _pad: [u8; 5],
}

impl TlbFull {
    pub const EMPTY: TlbFull = TlbFull {
        paddr_page: 0,
        attrs: 0,
        vaddr_page: 0,
        size_log2: 0,
        global: false,
        valid: false,
        _pad: [0; 5],
    };

    pub fn new(t: &Translation, vaddr_page: u64) -> TlbFull {
        TlbFull {
            paddr_page: t.paddr_page & PAGE_MASK,
            attrs: t.attrs & !ATTR_SOFTMMU,
            vaddr_page,
            size_log2: t.size_log2() as u8,
            global: !t.not_global(),
            valid: true,
            _pad: [0; 5],
        }
    }
}

/// Where generated code finds the TLB table of one MMU index: the entry of `vaddr` is at
/// `table + ((vaddr >> (PAGE_BITS - TLBE_SIZE_LOG2)) & mask)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct TlbFast {
    pub mask: u64,
    pub table: *mut TlbEntry,
}

impl TlbFast {
    /// The entry `vaddr` maps to (always inside the table).
    #[inline]
    pub fn entry(&self, vaddr: u64) -> *mut TlbEntry {
        let off = (vaddr >> (PAGE_BITS - TLBE_SIZE_LOG2)) & self.mask;
        self.table.wrapping_byte_add(off as usize)
    }

    /// The byte-offset mask of a table of `2^bits` entries.
    pub const fn mask_of(bits: u32) -> u64 {
        ((1u64 << bits) - 1) << TLBE_SIZE_LOG2
    }
}

/// A TLB invalidation, as a TLBI instruction names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlbFlush {
    /// Every entry (VMALLE1; a change of the translation regime).
    All,
    /// The non-global entries of one ASID (ASIDE1).
    Asid(u16),
    /// The entries translating the page of `vaddr` (bits 55:12 compared, so every top-byte
    /// alias, and any larger page or block holding it) that are global or belong to
    /// `asid`; `None`: of every ASID (VAE1/VALE1 with an ASID, VAAE1/VAALE1 without).
    Page { vaddr: u64, asid: Option<u16> },
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
    /// Guest memory attributes (e.g. device memory), carried for the slow path, in bits
    /// 0..=47. Bits 56..=63 are the softmmu's, set with [`Translation::with_mapping`]: zero
    /// means a global 4 KiB page, which is right for walkers without ASIDs or blocks.
    pub attrs: u64,
}

/// `Translation::attrs` bits the softmmu reads: nG, and log2 of the mapping's size.
const ATTR_SOFTMMU: u64 = 0xff << 56;
const ATTR_NOT_GLOBAL: u64 = 1 << 63;
const ATTR_SIZE_SHIFT: u32 = 56;
const ATTR_SIZE_MASK: u64 = 0x3f;

impl Translation {
    /// Records that the translation comes from a mapping of `2^size_log2` bytes (a page of
    /// the guest's granule, or a block; at least 4 KiB) and whether it is tied to the
    /// current ASID (nG = 1).
    pub fn with_mapping(mut self, size_log2: u32, not_global: bool) -> Translation {
        let size = size_log2.clamp(PAGE_BITS, ATTR_SIZE_MASK as u32) as u64;
        self.attrs = (self.attrs & !ATTR_SOFTMMU) | (size << ATTR_SIZE_SHIFT);
        if not_global {
            self.attrs |= ATTR_NOT_GLOBAL;
        }
        self
    }

    /// log2 of the size of the mapping (at least `PAGE_BITS`).
    pub fn size_log2(&self) -> u32 {
        (((self.attrs >> ATTR_SIZE_SHIFT) & ATTR_SIZE_MASK) as u32).max(PAGE_BITS)
    }

    /// Whether the translation belongs to the current ASID only.
    pub fn not_global(&self) -> bool {
        self.attrs & ATTR_NOT_GLOBAL != 0
    }

    /// The walker's own attributes.
    pub fn walker_attrs(&self) -> u64 {
        self.attrs & !ATTR_SOFTMMU
    }
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

/// Index of the entry for `vaddr` in a table of `2^bits` entries.
#[inline]
pub fn tlb_index(vaddr: u64, bits: u32) -> usize {
    ((vaddr >> PAGE_BITS) as usize) & ((1usize << bits) - 1)
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
pub(crate) fn is_ram_write_tag(tag: u64) -> bool {
    tag & (TLB_INVALID | TLB_MMIO) == 0
}

/// The write tag of entry `e`, as an atomic.
///
/// # Safety
/// `e` must point at a live entry (TlbEntry is 32-aligned, so the field is an aligned u64).
#[inline]
unsafe fn write_tag<'a>(e: *mut TlbEntry) -> &'a AtomicU64 {
    // SAFETY: caller contract.
    unsafe { AtomicU64::from_ptr(std::ptr::addr_of_mut!((*e).addr_write)) }
}

/// The physical page of `full`, as an atomic.
///
/// # Safety
/// `full` must point at a live `TlbFull`.
#[inline]
unsafe fn full_page<'a>(full: *mut TlbFull) -> &'a AtomicU64 {
    // SAFETY: caller contract; the field is an aligned u64.
    unsafe { AtomicU64::from_ptr(std::ptr::addr_of_mut!((*full).paddr_page)) }
}

/// Records in a TLB entry being filled (or moved) the physical page and write tag the
/// code-page protocol reads from other threads, then applies the protocol's fill half: if
/// the page (in RAM block `ram`) is code by now, add `TLB_NOTDIRTY`. The rest of the entry
/// is written by the caller beforehand.
///
/// The tag store is SeqCst (on x86-64 an `xchg`, a full barrier) and so is the load of the
/// code bit after it; `PhysMap::mark_code` sets the bit with a SeqCst RMW before its sweep
/// loads the tags (SeqCst): either this load sees the bit or the sweep sees this tag, and
/// then (acquire) the physical page stored before it. (A table being resized is
/// published before entries move into it, see `tables`, so the sweep finds them there.)
///
/// # Safety
/// `e` and `full` must be the same slot of a table of the calling thread's own live env.
pub(crate) unsafe fn fill_write_tag(
    e: *mut TlbEntry,
    full: *mut TlbFull,
    paddr_page: u64,
    tag: u64,
    ram: Option<&RamBlock>,
) {
    // SAFETY: caller contract.
    let (t, fp) = unsafe { (write_tag(e), full_page(full)) };
    fp.store(paddr_page, Ordering::Relaxed);
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

/// Sets `TLB_NOTDIRTY` in every writable TLB entry of `env` (every table: all MMU indexes
/// of every ASID kept) that maps physical page `paddr_page`, so stores to it through any
/// virtual alias take the slow path. This is the `protect` step of [`PhysMap::mark_code`],
/// run for every vCPU.
///
/// It may run on any thread while the env's owner runs generated code and refills or
/// resizes its TLB: it only touches the write tags (atomic OR) and reads the physical page
/// of each entry, in the tables the owner has published (`tables`), whose memory lives as
/// long as the env. An entry refilled concurrently is covered by the fill's own re-check
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
    // SAFETY: caller contract; the tables' memory outlives the call.
    unsafe {
        crate::tables::for_each_table_writing(env, page, |entries, full, n| {
            for i in 0..n {
                let (e, f) = (entries.add(i), full.add(i));
                // Tag first (see `fill_write_tag`), then the page stored before it.
                let t = write_tag(e);
                let v = t.load(Ordering::SeqCst);
                if is_ram_write_tag(v)
                    && v & TLB_NOTDIRTY == 0
                    && full_page(f).load(Ordering::Relaxed) == page
                {
                    t.fetch_or(TLB_NOTDIRTY, Ordering::SeqCst);
                }
            }
        })
    };
}

/// After a slow-path store through entry `e` (which had `TLB_NOTDIRTY`) to physical page
/// `paddr_page`: if the page no longer holds code, drop `TLB_NOTDIRTY` so later stores
/// take the fast path again. Clears first, then re-checks the code bit after a fence: a
/// concurrent [`PhysMap::mark_code`] either sees the cleared tag in its sweep or we see
/// its bit and put the flag back.
///
/// # Safety
/// `e` and `full` must be the same slot of a table of the calling thread's own live env.
pub(crate) unsafe fn tlb_unprotect(
    e: *mut TlbEntry,
    full: *mut TlbFull,
    paddr_page: u64,
    phys: &PhysMap,
) {
    if phys.is_code(paddr_page) {
        return;
    }
    // SAFETY: caller contract.
    let (t, fp) = unsafe { (write_tag(e), full_page(full)) };
    let v = t.load(Ordering::Relaxed);
    if fp.load(Ordering::Relaxed) != paddr_page || !is_ram_write_tag(v) || v & TLB_NOTDIRTY == 0 {
        return;
    }
    t.fetch_and(!TLB_NOTDIRTY, Ordering::SeqCst);
    fence(Ordering::SeqCst);
    if phys.is_code(paddr_page) {
        t.fetch_or(TLB_NOTDIRTY, Ordering::SeqCst);
    }
}
