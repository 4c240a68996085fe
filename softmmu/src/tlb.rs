//! TLB entries and the translation interface the guest CPU implements (page-table walks).

use crate::layout::*;
use bitflags::bitflags;

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
