//! Guest memory: the physical map (RAM and MMIO), per-vCPU TLBs and the access slow paths.
//!
//! Every guest environment starts with an [`EnvHead`] (`#[repr(C)]`, offsets in
//! [`layout`]): the exit-request flag, the fault record, and for each MMU index the mask
//! and address of the TLB table in use ([`tlb::TlbFast`]). The tables themselves
//! ([`tables::Tlb`]) are kept per ASID and sized by use. Generated code inlines the TLB
//! hit path and calls the `extern "C"` slow paths in [`slow`] otherwise; the interpreter
//! uses [`access`].

pub mod access;
pub mod env;
mod host_ram;
pub mod jmp;
pub mod phys;
pub mod shadow;
pub mod slow;
pub mod tables;
pub mod tlb;
pub mod watch;

pub use env::{EnvHead, MemCtx};
pub use phys::{MmioDevice, PhysAddr, PhysMap, PhysMapError};
pub use tables::TlbStats;
pub use tlb::{Access, PageWalker, Perms, TlbEntry, TlbFlush, Translation, WalkFault};

/// Offsets and sizes generated code relies on, and the TLB's dimensions. Changing
/// `EnvHead`, `TlbFast` or `TlbEntry` changes these, and the tests in `env.rs` pin them.
pub mod layout {
    pub const PAGE_BITS: u32 = 12;
    pub const PAGE_SIZE: u64 = 1 << PAGE_BITS;
    pub const PAGE_MASK: u64 = !(PAGE_SIZE - 1);
    pub const NB_MMU_MODES: usize = 4;
    /// log2 of the fewest and most entries one TLB table (one MMU index of one ASID) has;
    /// a table grows when it keeps evicting entries and shrinks when cleared while little
    /// used.
    pub const TLB_MIN_BITS: u32 = 8;
    pub const TLB_MAX_BITS: u32 = 14;
    /// ASIDs whose tables a vCPU keeps at once: switching among them costs no refill.
    pub const TLB_ASID_SLOTS: usize = 8;
    /// `EnvHead::exit_request` (u32, non-zero = leave generated code).
    pub const ENV_EXIT_REQUEST: usize = 0;
    /// `EnvHead::fault` (u32, non-zero after a slow path recorded a guest fault).
    pub const ENV_FAULT: usize = 4;
    /// `EnvHead::tlb_fast`: `NB_MMU_MODES` `TlbFast`s, one per MMU index.
    pub const ENV_TLB: usize = 64;
    pub const TLBF_SIZE_LOG2: u32 = 4;
    /// `TlbFast::mask`: (entries - 1) << `TLBE_SIZE_LOG2`, the byte offset mask.
    pub const TLBF_MASK: usize = 0;
    /// `TlbFast::table`: address of entry 0.
    pub const TLBF_TABLE: usize = 8;
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
    /// A debugger watchpoint overlaps the page (read and write tags; see `crate::watch`).
    pub const TLB_WATCH: u64 = 1 << 8;
    /// An empty TLB tag.
    pub const TLB_EMPTY: u64 = u64::MAX;
    /// `EnvHead::jmp`: the address of the jump cache's entries (`crate::jmp::JmpTable`).
    pub const ENV_JMP_TABLE: usize = std::mem::offset_of!(crate::env::EnvHead, jmp);
}

/// Kinds of fault the softmmu records itself in `EnvHead::fault`; walkers use
/// `FAULT_WALKER_BASE` and up.
pub mod fault {
    pub const NONE: u32 = 0;
    /// Misaligned access that required alignment.
    pub const ALIGNMENT: u32 = 1;
    /// Physical address with no RAM or device behind it (external abort).
    pub const BUS: u32 = 2;
    /// A debugger watchpoint was hit (`crate::watch`): nothing was accessed;
    /// `fault_info` is the watchpoint's `WatchKind::code`, `fault_addr` the watched
    /// address touched.
    pub const WATCHPOINT: u32 = 3;
    pub const WALKER_BASE: u32 = 16;
}
