//! Code memory: one large reserved region per generation, filled front to back.
//!
//! By default the region is one read-write-execute anonymous mapping, as QEMU's on Linux
//! hosts. With `split_wx` (QEMU's `-accel tcg,split-wx=on`) it is a `memfd` mapped twice:
//! a writable view the compiler copies code into and an executable view the code runs from
//! (W^X without ever changing page protections, so placing a TB never disturbs other
//! threads running code on the same page). The split costs memory as the host accounts
//! it: every page of code is resident in both views, which doubles its share of the RSS.
//! Where memfd is unavailable, the single mapping is used.
//!
//! An `Arena` is reference counted: every compiled TB holds an `Arc` to the arena its code
//! lives in, so the mapping outlives the backend's `reset()` until the last TB is dropped.
//!
//! Chain cells (see `lib.rs`) live in the same arena, allocated from the top down while
//! code grows from the bottom up, so a cell lives exactly as long as the code that reads
//! it. Cells are accessed through the writable view only, and only atomically.

use std::ptr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Bytes of one chain cell: `[slot0, slot1, guest pc, flags, runs, run limit, site0,
/// site1]`, each an `AtomicU64` (a cache line). Runs and limit are used by quick-code TBs
/// that count (see `quick.rs`); a quick TB's sites are the arena offsets plus one of the
/// `jmp rel32` displacements its `goto_tb` slots patch (0: the slot has none), with bit 62
/// set when an inner site precedes it (`quick::INNER_SITE_DISTANCE`, `lib.rs`).
pub(crate) const CELL_BYTES: usize = 64;
/// A chain cell.
pub(crate) type Cell = [AtomicU64; 8];
/// Byte offset of the run counter in a cell.
pub(crate) const CELL_RUNS: usize = 32;
/// Byte offset of the run limit (chained entries stop at it) in a cell.
pub(crate) const CELL_LIMIT: usize = 40;
/// Word index of slot 0's patch site in a cell (slot 1's follows).
pub(crate) const CELL_SITE: usize = 6;

/// One generation of code memory.
pub(crate) struct Arena {
    rw: *mut u8,
    rx: *const u8,
    size: usize,
    dual: bool,
    /// Offset of the lowest chain cell handed out (`size` when none). Only decreases
    /// within a generation (under the backend's placement lock); read without the lock to
    /// validate cell addresses.
    cells_low: AtomicUsize,
}

// SAFETY: the arena is plain memory; writes only happen under the backend's placement lock
// into bytes no other thread reads yet, and executed bytes are never written again.
unsafe impl Send for Arena {}
// SAFETY: as above.
unsafe impl Sync for Arena {}

impl Arena {
    /// Reserves `size` bytes (rounded up to whole pages) of code memory, split into a
    /// writable and an executable view if `split_wx`.
    pub(crate) fn new(size: usize, split_wx: bool) -> Result<Arena, String> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        let size = size.max(page).div_ceil(page) * page;
        let fd = if split_wx {
            // SAFETY: memfd_create with a NUL-terminated name; checked for failure.
            unsafe { libc::memfd_create(c"tcg-jit".as_ptr(), libc::MFD_CLOEXEC) }
        } else {
            -1
        };
        if fd >= 0 {
            // SAFETY: fd is ours; the mappings are checked and the fd closed on all paths.
            unsafe {
                if libc::ftruncate(fd, size as libc::off_t) == 0 {
                    let rw = libc::mmap(
                        ptr::null_mut(),
                        size,
                        libc::PROT_READ | libc::PROT_WRITE,
                        libc::MAP_SHARED,
                        fd,
                        0,
                    );
                    if rw != libc::MAP_FAILED {
                        let rx = libc::mmap(
                            ptr::null_mut(),
                            size,
                            libc::PROT_READ | libc::PROT_EXEC,
                            libc::MAP_SHARED,
                            fd,
                            0,
                        );
                        if rx != libc::MAP_FAILED {
                            libc::close(fd);
                            return Ok(Arena {
                                rw: rw as *mut u8,
                                rx: rx as *const u8,
                                size,
                                dual: true,
                                cells_low: AtomicUsize::new(size),
                            });
                        }
                        libc::munmap(rw, size);
                    }
                }
                libc::close(fd);
            }
        }
        // SAFETY: an anonymous private mapping; checked for failure.
        let p = unsafe {
            libc::mmap(
                ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(format!("cannot map {size:#x} bytes of code memory"));
        }
        Ok(Arena {
            rw: p as *mut u8,
            rx: p as *const u8,
            size,
            dual: false,
            cells_low: AtomicUsize::new(size),
        })
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Offset of the lowest chain cell (code must stay below it).
    pub(crate) fn cells_low(&self) -> usize {
        self.cells_low.load(Ordering::Acquire)
    }

    /// Hands out a zeroed chain cell below `cells_low` and above `code_used`; returns its
    /// (writable-view) address, or `None` when the arena is full. Call under the
    /// backend's placement lock.
    pub(crate) fn alloc_cell(&self, code_used: usize) -> Option<usize> {
        let low = self.cells_low.load(Ordering::Acquire);
        let off = low.checked_sub(CELL_BYTES)? & !(CELL_BYTES - 1);
        if off < code_used {
            return None;
        }
        let addr = self.rw as usize + off;
        // SAFETY: `off..off+CELL_BYTES` is inside the mapping, 64-aligned, and not handed
        // out before (cells_low only decreases), so no other thread references it yet.
        let cell = unsafe { &*(addr as *const Cell) };
        for w in cell {
            w.store(0, Ordering::Relaxed);
        }
        self.cells_low.store(off, Ordering::Release);
        Some(addr)
    }

    /// The chain cell at `addr` if `addr` is one this arena handed out (so it lives as
    /// long as `self`).
    pub(crate) fn cell(&self, addr: usize) -> Option<&Cell> {
        let off = addr.checked_sub(self.rw as usize)?;
        if off >= self.size || off < self.cells_low() || off % CELL_BYTES != 0 {
            return None;
        }
        // SAFETY: a cell handed out by `alloc_cell` (inside the mapping, aligned,
        // initialised); the mapping lives as long as `self`; cells are only ever accessed
        // atomically.
        Some(unsafe { &*(addr as *const Cell) })
    }

    /// Forgets all cells (only when no TB of this arena exists any more).
    pub(crate) fn reset_cells(&self) {
        self.cells_low.store(self.size, Ordering::Release);
    }

    /// The arena offset of executable address `x`, if it is inside the arena.
    pub(crate) fn offset_of(&self, x: *const u8) -> Option<usize> {
        let off = (x as usize).checked_sub(self.rx as usize)?;
        (off < self.size).then_some(off)
    }

    /// Points the `jmp rel32` whose displacement is at offset `site` at executable address
    /// `target` (`None`: at the instruction after it, the unchained path). The displacement
    /// is 4-aligned, so other threads running the jump see the old or the new target.
    /// Returns false (nothing written) if `site` is not a displacement inside the arena or
    /// the target is out of `rel32` reach.
    pub(crate) fn patch_jump(&self, site: usize, target: Option<usize>) -> bool {
        if !site.is_multiple_of(4) || site + 4 > self.cells_low() {
            return false;
        }
        let next = self.rx as usize + site + 4;
        let rel = match target {
            None => 0,
            Some(t) => match i32::try_from(t as i64 - next as i64) {
                Ok(r) => r,
                Err(_) => return false,
            },
        };
        // SAFETY: `site..site+4` is inside the code part of the mapping (below the cells),
        // 4-aligned; the code there was placed by us and is only ever patched atomically.
        let w = unsafe { &*(self.rw.add(site) as *const std::sync::atomic::AtomicU32) };
        w.store(rel as u32, Ordering::Release);
        true
    }

    /// Copies `code` to offset `off` and returns its executable address.
    ///
    /// # Safety
    /// `off..off + code.len()` must be inside the arena and not handed out before (the
    /// caller's bump pointer, under its lock, guarantees this).
    pub(crate) unsafe fn place(&self, off: usize, code: &[u8]) -> *const u8 {
        debug_assert!(off + code.len() <= self.size);
        // SAFETY: caller contract; the bytes are not yet visible to any other thread.
        unsafe {
            ptr::copy_nonoverlapping(code.as_ptr(), self.rw.add(off), code.len());
            let x = self.rx.add(off);
            flush_icache(x, code.len());
            x
        }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: the mappings were created in `new` with these sizes; no TB refers to
        // them any more (each holds an Arc to the arena).
        unsafe {
            libc::munmap(self.rw as *mut libc::c_void, self.size);
            if self.dual {
                libc::munmap(self.rx as *mut libc::c_void, self.size);
            }
        }
    }
}

/// Makes freshly written code visible to instruction fetch (AArch64 caches are not
/// coherent for that): clean the data cache lines to the point of unification, invalidate
/// the instruction cache lines, then synchronise.
#[cfg(target_arch = "aarch64")]
unsafe fn flush_icache(p: *const u8, len: usize) {
    use std::arch::asm;
    let ctr: u64;
    // SAFETY: CTR_EL0 is readable from EL0 on Linux; cache maintenance by VA on mapped,
    // readable memory is permitted at EL0 (SCTLR_EL1.UCI is set by Linux).
    unsafe {
        asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack));
        let dline = 4usize << ((ctr >> 16) & 0xf);
        let iline = 4usize << (ctr & 0xf);
        let (start, end) = (p as usize, p as usize + len);
        let mut a = start & !(dline - 1);
        while a < end {
            asm!("dc cvau, {}", in(reg) a, options(nostack));
            a += dline;
        }
        asm!("dsb ish", options(nostack));
        let mut a = start & !(iline - 1);
        while a < end {
            asm!("ic ivau, {}", in(reg) a, options(nostack));
            a += iline;
        }
        asm!("dsb ish", "isb", options(nostack));
    }
}

#[cfg(not(target_arch = "aarch64"))]
unsafe fn flush_icache(_p: *const u8, _len: usize) {}
