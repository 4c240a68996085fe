//! Guest memory: the physical map (RAM and MMIO), per-vCPU TLBs and the access slow paths.
//!
//! Every guest environment starts with an [`EnvHead`] (`#[repr(C)]`, offsets in
//! [`layout`]): the exit-request flag, the fault record, and one direct-mapped TLB per MMU
//! index. Generated code inlines the TLB hit path and calls the `extern "C"` slow paths in
//! [`slow`] otherwise; the interpreter uses [`access`].

pub mod access;
pub mod env;
pub mod jmp;
pub mod phys;
pub mod slow;
pub mod tlb;

pub use env::{EnvHead, MemCtx};
pub use phys::{MmioDevice, PhysAddr, PhysMap, PhysMapError};
pub use tlb::{Access, PageWalker, Perms, TlbEntry, Translation, WalkFault};

/// Offsets and sizes generated code relies on. Changing `EnvHead` or `TlbEntry` changes
/// these, and the tests in `env.rs` pin them.
pub mod layout {
    pub const PAGE_BITS: u32 = 12;
    pub const PAGE_SIZE: u64 = 1 << PAGE_BITS;
    pub const PAGE_MASK: u64 = !(PAGE_SIZE - 1);
    pub const TLB_BITS: u32 = 8;
    pub const TLB_SIZE: usize = 1 << TLB_BITS;
    pub const NB_MMU_MODES: usize = 4;
    /// `EnvHead::exit_request` (u32, non-zero = leave generated code).
    pub const ENV_EXIT_REQUEST: usize = 0;
    /// `EnvHead::fault` (u32, non-zero after a slow path recorded a guest fault).
    pub const ENV_FAULT: usize = 4;
    /// `EnvHead::tlb`: `NB_MMU_MODES` arrays of `TLB_SIZE` entries.
    pub const ENV_TLB: usize = 64;
    /// `EnvHead::tlb_full`: `NB_MMU_MODES` arrays of `TLB_SIZE` `TlbFull`s (16 bytes).
    pub const ENV_TLB_FULL: usize = ENV_TLB + NB_MMU_MODES * TLB_SIZE * (1 << TLBE_SIZE_LOG2);
    pub const TLBF_SIZE_LOG2: u32 = 4;
    pub const TLBF_PADDR_PAGE: usize = 0;
    /// `EnvHead::jmp`: the jump cache (`crate::jmp`).
    pub const ENV_JMP: usize = ENV_TLB_FULL + NB_MMU_MODES * TLB_SIZE * (1 << TLBF_SIZE_LOG2);
    pub const TLBE_SIZE_LOG2: u32 = 5;
    pub const TLBE_ADDR_READ: usize = 0;
    pub const TLBE_ADDR_WRITE: usize = 8;
    pub const TLBE_ADDR_CODE: usize = 16;
    pub const TLBE_ADDEND: usize = 24;
    /// Tag flag bits (below the page bits and above any alignment mask, so a fast-path
    /// compare against a tag with any of them set always misses).
    pub const TLB_INVALID: u64 = 1 << 11;
    pub const TLB_MMIO: u64 = 1 << 10;
    pub const TLB_NOTDIRTY: u64 = 1 << 9;
    /// An empty TLB tag.
    pub const TLB_EMPTY: u64 = u64::MAX;
}

/// Kinds of fault the softmmu records itself in `EnvHead::fault`; walkers use
/// `FAULT_WALKER_BASE` and up.
pub mod fault {
    pub const NONE: u32 = 0;
    /// Misaligned access that required alignment.
    pub const ALIGNMENT: u32 = 1;
    /// Physical address with no RAM or device behind it (external abort).
    pub const BUS: u32 = 2;
    pub const WALKER_BASE: u32 = 16;
}
