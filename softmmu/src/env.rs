//! The softmmu part of every guest environment, and the per-vCPU memory context.

use crate::jmp::{JmpEntry, JmpTable};
use crate::phys::PhysMap;
use crate::tables::{Tlb, TlbStats};
use crate::tlb::{PageWalker, TlbEntry, TlbFlush, TlbFull};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// What a vCPU's slow paths need besides its env: the board's memory and its walker.
pub struct MemCtx {
    pub phys: Arc<PhysMap>,
    pub walker: Box<dyn PageWalker>,
}

/// The first field of every guest environment (`#[repr(C)]`; generated code uses the
/// offsets in [`crate::layout`]).
#[repr(C)]
pub struct EnvHead {
    /// Non-zero: leave generated code at the next TB entry (kick, interrupt, work).
    pub exit_request: AtomicU32,
    /// Non-zero (a `crate::fault` kind) after a slow path recorded a guest fault.
    pub fault: u32,
    /// Guest PC of the faulting instruction.
    pub fault_pc: u64,
    /// Faulting virtual address.
    pub fault_addr: u64,
    /// Walker-defined detail (e.g. fault status code).
    pub fault_info: u64,
    /// `Access::code()` of the faulting access.
    pub fault_access: u32,
    _pad0: u32,
    /// The memory context; set by the vCPU's owner before running any code.
    pub ctx: *const MemCtx,
    _pad1: [u64; 2],
    /// The TLB; its first field, `Tlb::fast`, is what generated code reads.
    pub tlb: Tlb,
    /// The jump cache generated code probes at indirect branches (see `crate::jmp`).
    pub jmp: JmpTable,
}

impl EnvHead {
    /// A head with empty TLBs pointing at `ctx` (which must outlive every use of the env).
    pub fn new(ctx: *const MemCtx) -> EnvHead {
        EnvHead {
            exit_request: AtomicU32::new(0),
            fault: 0,
            fault_pc: 0,
            fault_addr: 0,
            fault_info: 0,
            fault_access: 0,
            _pad0: 0,
            ctx,
            _pad1: [0; 2],
            tlb: Tlb::new(),
            jmp: JmpTable::new(),
        }
    }

    /// Empties the jump cache (the TBs it names were flushed).
    pub fn clear_jmp(&mut self) {
        self.jmp.fill(JmpEntry::EMPTY);
    }

    /// Lets generated code continue from an indirect branch to virtual `pc` straight into
    /// the code at `code` (validity word `aux`, see `crate::jmp`) of the TB whose guest
    /// code is at host address `host_pc` (its RAM), translated under key flags `flags`.
    pub fn fill_jmp(&mut self, pc: u64, host_pc: u64, flags: u32, code: u64, aux: u64) {
        if let Some(key) = crate::jmp::key(host_pc, flags) {
            self.jmp[crate::jmp::jmp_index(pc)] = JmpEntry { pc, key, code, aux };
        }
    }

    /// The entry the fast path uses for `vaddr` in MMU index `mmu` (masked to the valid
    /// range).
    #[inline]
    pub fn tlb_entry(&self, mmu: usize, vaddr: u64) -> *mut TlbEntry {
        self.tlb.fast[mmu & (crate::layout::NB_MMU_MODES - 1)].entry(vaddr)
    }

    /// The slow-path record of the entry for `vaddr` in MMU index `mmu` (whatever page it
    /// holds now).
    pub fn tlb_full(&self, mmu: usize, vaddr: u64) -> TlbFull {
        let (_, full) = self.tlb.slot_of(mmu, vaddr);
        // SAFETY: a record of the current table, which is initialised; other threads
        // never write records.
        unsafe { *full }
    }

    /// Drops every entry of every ASID.
    pub fn flush_tlb(&mut self) {
        self.tlb.flush(TlbFlush::All);
    }

    /// Drops the entries for the page of `vaddr` (of any ASID) in every MMU index.
    pub fn flush_page(&mut self, vaddr: u64) {
        self.tlb.flush(TlbFlush::Page { vaddr, asid: None });
    }

    /// Carries out a TLB invalidation on this vCPU.
    pub fn tlb_flush(&mut self, op: TlbFlush) {
        self.tlb.flush(op);
    }

    /// The ASID whose non-global entries memory accesses use from now on (the CPU calls
    /// this whenever the register selecting it may have changed; a no-op if it did not).
    pub fn tlb_set_asid(&mut self, asid: u16) {
        self.tlb.set_asid(asid);
    }

    pub fn tlb_stats(&self) -> &TlbStats {
        &self.tlb.stats
    }

    pub fn request_exit(&self) {
        self.exit_request.store(1, Ordering::Release);
    }

    pub fn clear_fault(&mut self) {
        self.fault = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::*;
    use crate::tlb::TlbFast;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layout_constants_match_the_struct() {
        assert_eq!(offset_of!(EnvHead, exit_request), ENV_EXIT_REQUEST);
        assert_eq!(offset_of!(EnvHead, fault), ENV_FAULT);
        assert_eq!(offset_of!(EnvHead, tlb) + offset_of!(Tlb, fast), ENV_TLB);
        assert_eq!(size_of::<TlbFast>(), 1 << TLBF_SIZE_LOG2);
        assert_eq!(offset_of!(TlbFast, mask), TLBF_MASK);
        assert_eq!(offset_of!(TlbFast, table), TLBF_TABLE);
        assert_eq!(size_of::<TlbEntry>(), 1 << TLBE_SIZE_LOG2);
        assert_eq!(offset_of!(TlbEntry, addr_read), TLBE_ADDR_READ);
        assert_eq!(offset_of!(TlbEntry, addr_write), TLBE_ADDR_WRITE);
        assert_eq!(offset_of!(TlbEntry, addr_code), TLBE_ADDR_CODE);
        assert_eq!(offset_of!(TlbEntry, addend), TLBE_ADDEND);
        assert_eq!(offset_of!(JmpEntry, pc), crate::jmp::JMPE_PC);
        assert_eq!(offset_of!(JmpEntry, key), crate::jmp::JMPE_KEY);
        assert_eq!(offset_of!(JmpEntry, code), crate::jmp::JMPE_CODE);
        assert_eq!(offset_of!(JmpEntry, aux), crate::jmp::JMPE_AUX);
        assert_eq!(size_of::<JmpEntry>(), 1 << crate::jmp::JMPE_SIZE_LOG2);
    }
}
