//! Debugger watchpoints on guest virtual addresses.
//!
//! A [`WatchList`] is attached to the memory map ([`crate::PhysMap::attach_watchpoints`]);
//! while it holds watchpoints, a TLB fill of a page one of them overlaps sets
//! [`crate::layout::TLB_WATCH`] in the entry's read and write tags, so every access to the
//! page misses the fast path. The slow path ([`crate::slow`]) then asks
//! [`WatchList::hit`]: on a hit it performs nothing and records a
//! [`crate::fault::WATCHPOINT`] fault, which leaves the TB with the guest state *before*
//! the accessing instruction (what AArch64 hardware watchpoints do, and what GDB expects of
//! an AArch64 target: it steps over the instruction itself with the watchpoint removed).
//!
//! Changing the list does not touch any TLB: whoever changes it flushes every vCPU's TLB
//! afterwards (a debugger changes it only while the machine is stopped).

use crate::layout::{PAGE_MASK, PAGE_SIZE};
use crate::tlb::Access;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{RwLock, RwLockReadGuard};

/// Which accesses a watchpoint stops on (GDB's `watch`, `rwatch`, `awatch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatchKind {
    Write,
    Read,
    Access,
}

impl WatchKind {
    /// Whether an access of kind `a` triggers this watchpoint.
    pub fn matches(self, a: Access) -> bool {
        matches!(
            (self, a),
            (WatchKind::Write | WatchKind::Access, Access::Write)
                | (WatchKind::Read | WatchKind::Access, Access::Read)
        )
    }

    /// The code recorded in `EnvHead::fault_info` for a hit.
    pub fn code(self) -> u64 {
        match self {
            WatchKind::Write => 0,
            WatchKind::Read => 1,
            WatchKind::Access => 2,
        }
    }

    pub fn from_code(c: u64) -> WatchKind {
        match c {
            0 => WatchKind::Write,
            1 => WatchKind::Read,
            _ => WatchKind::Access,
        }
    }
}

/// One watchpoint: `len` bytes from virtual address `addr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watchpoint {
    pub addr: u64,
    pub len: u64,
    pub kind: WatchKind,
}

impl Watchpoint {
    /// The last byte watched (the range never wraps: see [`WatchList::insert`]).
    fn last(&self) -> u64 {
        self.addr + (self.len - 1)
    }

    fn overlaps(&self, addr: u64, len: u64) -> bool {
        let last = addr.saturating_add(len.max(1) - 1);
        addr <= self.last() && self.addr <= last
    }
}

/// What [`WatchList::hit`] found: the watchpoint's kind and the first watched byte the
/// access touches (what a stop report names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchHit {
    pub kind: WatchKind,
    pub addr: u64,
}

/// The watchpoints of a machine (all vCPUs share them, as GDB's are per inferior).
#[derive(Debug, Default)]
pub struct WatchList {
    /// Whether `list` is non-empty: the only thing a TLB fill reads when nobody watches.
    active: AtomicBool,
    list: RwLock<Vec<Watchpoint>>,
}

impl WatchList {
    pub fn new() -> WatchList {
        WatchList::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, Vec<Watchpoint>> {
        self.list.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether any watchpoint is set (one relaxed load).
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Adds a watchpoint (a duplicate is kept twice and needs two removals, like GDB's
    /// insert/remove pairs). `false` for an empty range or one that wraps around the top
    /// of the address space.
    pub fn insert(&self, addr: u64, len: u64, kind: WatchKind) -> bool {
        if len == 0 || addr.checked_add(len - 1).is_none() {
            return false;
        }
        let mut l = self.list.write().unwrap_or_else(|e| e.into_inner());
        l.push(Watchpoint { addr, len, kind });
        self.active.store(true, Ordering::Release);
        true
    }

    /// Removes one watchpoint equal to `(addr, len, kind)`; `false` if there is none.
    pub fn remove(&self, addr: u64, len: u64, kind: WatchKind) -> bool {
        let mut l = self.list.write().unwrap_or_else(|e| e.into_inner());
        let w = Watchpoint { addr, len, kind };
        let Some(i) = l.iter().position(|x| *x == w) else {
            return false;
        };
        l.remove(i);
        self.active.store(!l.is_empty(), Ordering::Release);
        true
    }

    /// Removes every watchpoint.
    pub fn clear(&self) {
        let mut l = self.list.write().unwrap_or_else(|e| e.into_inner());
        l.clear();
        self.active.store(false, Ordering::Release);
    }

    /// The watchpoints set now.
    pub fn list(&self) -> Vec<Watchpoint> {
        self.read().clone()
    }

    /// Whether a watchpoint overlaps the 4 KiB virtual page holding `vaddr` (the TLB entry
    /// for it must then send every access to the slow path).
    pub fn overlaps_page(&self, vaddr: u64) -> bool {
        if !self.is_active() {
            return false;
        }
        let page = vaddr & PAGE_MASK;
        self.read().iter().any(|w| w.overlaps(page, PAGE_SIZE))
    }

    /// The watchpoint an access of `len` bytes at `addr` of kind `access` triggers, if any
    /// (instruction fetches never do).
    pub fn hit(&self, addr: u64, len: u64, access: Access) -> Option<WatchHit> {
        if !self.is_active() {
            return None;
        }
        self.read()
            .iter()
            .find(|w| w.kind.matches(access) && w.overlaps(addr, len))
            .map(|w| WatchHit {
                kind: w.kind,
                addr: addr.max(w.addr),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_match_their_accesses() {
        assert!(WatchKind::Write.matches(Access::Write));
        assert!(!WatchKind::Write.matches(Access::Read));
        assert!(WatchKind::Read.matches(Access::Read));
        assert!(!WatchKind::Read.matches(Access::Write));
        assert!(
            WatchKind::Access.matches(Access::Read) && WatchKind::Access.matches(Access::Write)
        );
        for k in [WatchKind::Write, WatchKind::Read, WatchKind::Access] {
            assert!(!k.matches(Access::Exec));
            assert_eq!(WatchKind::from_code(k.code()), k);
        }
    }

    #[test]
    fn bookkeeping_and_hits() {
        let w = WatchList::new();
        assert!(!w.is_active());
        assert_eq!(w.hit(0x1000, 8, Access::Write), None);
        assert!(w.insert(0x4000_1004, 4, WatchKind::Write));
        assert!(w.is_active());
        // Overlapping accesses hit, reporting the first watched byte touched.
        assert_eq!(
            w.hit(0x4000_1000, 8, Access::Write),
            Some(WatchHit {
                kind: WatchKind::Write,
                addr: 0x4000_1004
            })
        );
        assert_eq!(
            w.hit(0x4000_1007, 1, Access::Write).map(|h| h.addr),
            Some(0x4000_1007)
        );
        assert_eq!(w.hit(0x4000_1008, 8, Access::Write), None);
        assert_eq!(w.hit(0x4000_0ffc, 8, Access::Write), None);
        assert_eq!(w.hit(0x4000_1004, 4, Access::Read), None);
        assert!(w.overlaps_page(0x4000_1fff) && !w.overlaps_page(0x4000_2000));
        // Duplicates need as many removals; removing what is not there fails.
        assert!(w.insert(0x4000_1004, 4, WatchKind::Write));
        assert!(!w.remove(0x4000_1004, 4, WatchKind::Read));
        assert!(w.remove(0x4000_1004, 4, WatchKind::Write));
        assert!(w.is_active());
        assert!(w.remove(0x4000_1004, 4, WatchKind::Write));
        assert!(!w.is_active() && w.list().is_empty());
        assert!(!w.remove(0x4000_1004, 4, WatchKind::Write));
    }

    #[test]
    fn bad_ranges_are_refused_and_edges_are_exact() {
        let w = WatchList::new();
        assert!(!w.insert(0x1000, 0, WatchKind::Read));
        assert!(!w.insert(u64::MAX, 2, WatchKind::Read));
        assert!(w.insert(u64::MAX, 1, WatchKind::Access));
        assert!(w.hit(u64::MAX - 7, 8, Access::Read).is_some());
        assert!(w.hit(u64::MAX, 16, Access::Write).is_some());
        assert!(w.overlaps_page(u64::MAX));
        // A page boundary: a watchpoint straddling it flags both pages.
        w.clear();
        assert!(w.insert(0x1ffe, 4, WatchKind::Read));
        assert!(w.overlaps_page(0x1000) && w.overlaps_page(0x2000));
        assert!(!w.overlaps_page(0x3000));
        w.clear();
        assert!(!w.is_active() && !w.overlaps_page(0x1000));
    }
}
