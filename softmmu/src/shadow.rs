//! Shadow guest memory for the lockstep checker (`virt --check`): guest accesses that
//! translate through the TLB as usual but never change RAM or touch a device.
//!
//! While a [`WriteLog`] is active on a thread ([`begin`] .. [`end`]), accesses made
//! through [`Shadow`] put their stores in the log (by host address) and let loads see the
//! log first, then RAM. Every 64-byte line of RAM an access touched is copied once,
//! before anything else could change it, so the checker can later compare the line as
//! another back end left it with "original + log". An access that would reach MMIO (a device with side
//! effects) is not performed: the log records why ([`WriteLog::side_effect`]) and a fault
//! is recorded in the env so the code leaves at once; the checker then discards the run.
//!
//! Page-table walks and TLB fills still happen for real (they are caches of what the guest
//! page tables say, and the other run would do the same fills).

use crate::env::EnvHead;
use crate::layout::{PAGE_MASK, PAGE_SIZE};
use crate::slow::{check_align, crosses_page, resolve, Target};
use crate::tlb::Access;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Bytes per snapshot line (lines are aligned in guest virtual addresses).
pub const LINE: usize = 64;
use tcg_ir::types::{MemOp, RmwOp};

/// The memory effects of one shadow run.
#[derive(Default, Debug)]
pub struct WriteLog {
    /// Bytes stored, by host address.
    pub bytes: BTreeMap<usize, u8>,
    /// Every [`LINE`]-byte line of RAM touched (its host address -> its guest virtual
    /// address and its contents at first touch).
    pub lines: BTreeMap<usize, (u64, [u8; LINE])>,
    /// Why the run was abandoned (an access with side effects), if it was.
    pub side_effect: Option<&'static str>,
}

impl WriteLog {
    /// The contents the line at `host` should have after the logged stores.
    pub fn expected_line(&self, host: usize) -> Option<[u8; LINE]> {
        let (_, mut v) = *self.lines.get(&host)?;
        for (&a, &b) in self.bytes.range(host..host + LINE) {
            v[a - host] = b;
        }
        Some(v)
    }
}

thread_local! {
    static LOG: RefCell<Option<WriteLog>> = const { RefCell::new(None) };
}

/// Starts logging this thread's [`Shadow`] accesses (dropping any unfinished log).
pub fn begin() {
    LOG.with(|l| *l.borrow_mut() = Some(WriteLog::default()));
}

/// Stops logging and returns what was logged since [`begin`].
pub fn end() -> WriteLog {
    LOG.with(|l| l.borrow_mut().take()).unwrap_or_default()
}

fn with_log<R>(f: impl FnOnce(&mut WriteLog) -> R) -> Option<R> {
    LOG.with(|l| l.borrow_mut().as_mut().map(f))
}

/// The host pointers of an access (`parts` pieces within one page each), or `None` after
/// a recorded fault or an MMIO target (the run is then abandoned).
///
/// # Safety
/// `env` is the calling vCPU's environment with a valid `ctx`.
unsafe fn host_parts(
    env: *mut EnvHead,
    addr: u64,
    bytes: u32,
    access: Access,
    mmu: usize,
    pc: u64,
) -> Option<[(u64, *mut u8, u32); 2]> {
    let first = if crosses_page(addr, bytes) {
        (PAGE_SIZE - (addr & !PAGE_MASK)) as u32
    } else {
        bytes
    };
    let mut out = [(0u64, std::ptr::null_mut(), 0u32); 2];
    for (i, (a, len)) in [
        (addr, first),
        (addr.wrapping_add(first as u64), bytes - first),
    ]
    .into_iter()
    .enumerate()
    {
        if len == 0 {
            continue;
        }
        // SAFETY: caller contract.
        let p = match unsafe { resolve(env, a, len, access, mmu, pc) }? {
            Target::Host(p) | Target::HostCode(p, _) => p,
            Target::Mmio(_) => {
                with_log(|l| l.side_effect = Some("MMIO access"));
                // SAFETY: caller contract. Any non-zero kind makes the code leave.
                unsafe { (*env).fault = crate::fault::BUS };
                return None;
            }
        };
        out[i] = (a, p, len);
    }
    // Copy each line before anything reads or writes it.
    for &(va, p, len) in &out {
        if len == 0 {
            continue;
        }
        let first = va & !(LINE as u64 - 1);
        let mut line_va = first;
        while line_va < va + len as u64 {
            // The host address of the line: lines never cross the guest page, whose
            // host view is contiguous.
            let host = (p as usize).wrapping_sub((va - line_va) as usize);
            with_log(|l| {
                l.lines.entry(host).or_insert_with(|| {
                    let mut v = [0u8; LINE];
                    // SAFETY: a RAM translation covers its whole guest page, which is
                    // host memory of the machine's RAM; the line is inside the page.
                    unsafe {
                        std::ptr::copy_nonoverlapping(host as *const u8, v.as_mut_ptr(), LINE)
                    };
                    (line_va, v)
                });
            });
            line_va += LINE as u64;
        }
    }
    Some(out)
}

fn read_parts(parts: &[(u64, *mut u8, u32); 2]) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    for &(_, p, len) in parts {
        for i in 0..len as usize {
            let a = p as usize + i;
            let b = with_log(|l| l.bytes.get(&a).copied())
                .flatten()
                // SAFETY: `p` came from `host_parts` for `len` bytes of RAM.
                .unwrap_or_else(|| unsafe { (a as *const u8).read() });
            v |= (b as u64) << shift;
            shift += 8;
        }
    }
    v
}

fn write_parts(parts: &[(u64, *mut u8, u32); 2], v: u64) {
    let mut shift = 0;
    with_log(|l| {
        for &(_, p, len) in parts {
            for i in 0..len as usize {
                l.bytes.insert(p as usize + i, (v >> shift) as u8);
                shift += 8;
            }
        }
    });
}

/// Guest memory through the thread's write log (see the module doc).
pub struct Shadow;

impl crate::access::GuestMem for Shadow {
    unsafe fn load(env: *mut EnvHead, addr: u64, memop: MemOp, mmu: u8, pc: u64) -> u64 {
        let mmu = mmu as usize & (crate::layout::NB_MMU_MODES - 1);
        // SAFETY: caller contract.
        unsafe {
            if !check_align(env, addr, memop, Access::Read, pc) {
                return 0;
            }
            match host_parts(env, addr, memop.bytes(), Access::Read, mmu, pc) {
                Some(p) => memop.extend(read_parts(&p)),
                None => 0,
            }
        }
    }

    unsafe fn store(env: *mut EnvHead, addr: u64, v: u64, memop: MemOp, mmu: u8, pc: u64) {
        let mmu = mmu as usize & (crate::layout::NB_MMU_MODES - 1);
        // SAFETY: caller contract.
        unsafe {
            if !check_align(env, addr, memop, Access::Write, pc) {
                return;
            }
            if let Some(p) = host_parts(env, addr, memop.bytes(), Access::Write, mmu, pc) {
                write_parts(&p, v);
            }
        }
    }

    unsafe fn cmpxchg(
        env: *mut EnvHead,
        addr: u64,
        cmp: u64,
        new: u64,
        memop: MemOp,
        mmu: u8,
        pc: u64,
    ) -> u64 {
        let m = MemOp::size(memop.size_log2() as u8).extend(u64::MAX);
        // SAFETY: caller contract.
        unsafe {
            atomic(env, addr, memop, mmu, pc, |old| {
                (old & m == cmp & m).then_some(new & m)
            })
        }
    }

    unsafe fn rmw(
        env: *mut EnvHead,
        op: RmwOp,
        addr: u64,
        v: u64,
        memop: MemOp,
        mmu: u8,
        pc: u64,
    ) -> u64 {
        let bytes = memop.bytes();
        // SAFETY: caller contract.
        unsafe {
            atomic(env, addr, memop, mmu, pc, |old| {
                Some(op.apply(bytes, old, v))
            })
        }
    }
}

/// An atomic read-modify-write on the log (one thread: trivially atomic), with the
/// permission checks of the real one (write, then read).
unsafe fn atomic(
    env: *mut EnvHead,
    addr: u64,
    memop: MemOp,
    mmu: u8,
    pc: u64,
    f: impl Fn(u64) -> Option<u64>,
) -> u64 {
    let mmu = mmu as usize & (crate::layout::NB_MMU_MODES - 1);
    let bytes = memop.bytes();
    // SAFETY: caller contract.
    unsafe {
        if !check_align(env, addr, memop, Access::Write, pc) {
            return 0;
        }
        let Some(p) = host_parts(env, addr, bytes, Access::Write, mmu, pc) else {
            return 0;
        };
        if host_parts(env, addr, bytes, Access::Read, mmu, pc).is_none() {
            return 0;
        }
        let old = read_parts(&p);
        if let Some(n) = f(old) {
            write_parts(&p, n);
        }
        memop.extend(old)
    }
}
