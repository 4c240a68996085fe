//! The softmmu part of every guest environment, and the per-vCPU memory context.

use crate::jmp::{JmpEntry, JMP_SIZE};
use crate::layout::*;
use crate::phys::PhysMap;
use crate::tlb::{PageWalker, TlbEntry, TlbFull};
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
    pub tlb: [[TlbEntry; TLB_SIZE]; NB_MMU_MODES],
    pub tlb_full: [[TlbFull; TLB_SIZE]; NB_MMU_MODES],
    /// The jump cache generated code probes at indirect branches (see `crate::jmp`).
    pub jmp: [JmpEntry; JMP_SIZE],
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
            tlb: [[TlbEntry::EMPTY; TLB_SIZE]; NB_MMU_MODES],
            tlb_full: [[TlbFull {
                paddr_page: 0,
                attrs: 0,
            }; TLB_SIZE]; NB_MMU_MODES],
            jmp: [JmpEntry::EMPTY; JMP_SIZE],
        }
    }

    /// Empties the jump cache (the TBs it names were flushed).
    pub fn clear_jmp(&mut self) {
        self.jmp.fill(JmpEntry::EMPTY);
    }

    /// Lets generated code continue from an indirect branch to virtual `pc` straight into
    /// the code at `code` (validity word `aux`, see `crate::jmp`) of the TB with physical
    /// pc `phys_pc` and key flags `flags`.
    pub fn fill_jmp(&mut self, pc: u64, phys_pc: u64, flags: u32, code: u64, aux: u64) {
        if let Some(key) = crate::jmp::key(phys_pc, flags) {
            self.jmp[crate::jmp::jmp_index(pc)] = JmpEntry { pc, key, code, aux };
        }
    }

    pub fn flush_tlb(&mut self) {
        for t in self.tlb.iter_mut() {
            t.fill(TlbEntry::EMPTY);
        }
    }

    /// Drops any entry for the page of `vaddr` in every MMU index.
    pub fn flush_page(&mut self, vaddr: u64) {
        let i = crate::tlb::tlb_index(vaddr);
        let page = vaddr & PAGE_MASK;
        for t in self.tlb.iter_mut() {
            let e = &t[i];
            let hit = [e.addr_read, e.addr_write, e.addr_code]
                .iter()
                .any(|&a| a != TLB_EMPTY && a & PAGE_MASK == page);
            if hit {
                t[i] = TlbEntry::EMPTY;
            }
        }
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
    use std::mem::offset_of;

    #[test]
    fn layout_constants_match_the_struct() {
        assert_eq!(offset_of!(EnvHead, exit_request), ENV_EXIT_REQUEST);
        assert_eq!(offset_of!(EnvHead, fault), ENV_FAULT);
        assert_eq!(offset_of!(EnvHead, tlb), ENV_TLB);
        assert_eq!(offset_of!(EnvHead, tlb_full), ENV_TLB_FULL);
        assert_eq!(std::mem::size_of::<TlbFull>(), 1 << TLBF_SIZE_LOG2);
        assert_eq!(offset_of!(TlbFull, paddr_page), TLBF_PADDR_PAGE);
        assert_eq!(offset_of!(EnvHead, jmp), ENV_JMP);
        assert_eq!(offset_of!(JmpEntry, pc), crate::jmp::JMPE_PC);
        assert_eq!(offset_of!(JmpEntry, key), crate::jmp::JMPE_KEY);
        assert_eq!(offset_of!(JmpEntry, code), crate::jmp::JMPE_CODE);
        assert_eq!(offset_of!(JmpEntry, aux), crate::jmp::JMPE_AUX);
        assert_eq!(std::mem::size_of::<TlbEntry>(), 1 << TLBE_SIZE_LOG2);
        assert_eq!(offset_of!(TlbEntry, addr_read), TLBE_ADDR_READ);
        assert_eq!(offset_of!(TlbEntry, addr_write), TLBE_ADDR_WRITE);
        assert_eq!(offset_of!(TlbEntry, addr_code), TLBE_ADDR_CODE);
        assert_eq!(offset_of!(TlbEntry, addend), TLBE_ADDEND);
    }
}
