//! The guest physical address space: RAM blocks in host memory and MMIO devices.

use crate::host_ram::HostRam;
use crate::layout::{PAGE_BITS, PAGE_MASK, PAGE_SIZE};
use std::fmt;
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// A guest physical address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhysAddr(pub u64);

impl fmt::Display for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// A device register window. Implementations lock their own state; offsets are relative
/// to the region base and `size` is 1, 2, 4 or 8 bytes.
pub trait MmioDevice: Send + Sync {
    fn read(&self, offset: u64, size: u32) -> u64;
    fn write(&self, offset: u64, size: u32, value: u64);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhysMapError {
    Overlap { base: PhysAddr, size: u64 },
    OutOfHostMemory { size: u64 },
    Unmapped { addr: PhysAddr, len: u64 },
}

impl fmt::Display for PhysMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhysMapError::Overlap { base, size } => {
                write!(
                    f,
                    "region at {base} (size {size:#x}) overlaps an existing region"
                )
            }
            PhysMapError::OutOfHostMemory { size } => {
                write!(f, "cannot allocate {size:#x} bytes of guest RAM")
            }
            PhysMapError::Unmapped { addr, len } => {
                write!(f, "guest physical range {addr}+{len:#x} is not RAM")
            }
        }
    }
}

impl std::error::Error for PhysMapError {}

/// Host memory backing a RAM region, allocated zeroed once (see [`HostRam`]).
pub struct RamBlock {
    host: *mut u8,
    /// Owns the memory `host` points to.
    _mem: HostRam,
    /// Guest page number of the block's first page.
    first_page: u64,
    /// Code-page state, two bits per guest page (see [`CODE`] and [`PROTECTED`]).
    code: Box<[AtomicU64]>,
}

/// Code-page bit: some TB was (or is being) translated from this page; writes must notify.
const CODE: u64 = 1;
/// Protected bit: every vCPU's TLB write entries for the page carry `TLB_NOTDIRTY`.
const PROTECTED: u64 = 2;
/// Pages per bitmap word (two bits each).
const PAGES_PER_WORD: u64 = 32;

// SAFETY: the block is a plain allocation that lives as long as the RamBlock; guest
// accesses from several threads are the guest's (weakly ordered) memory model, done with
// raw-pointer or atomic accesses only.
unsafe impl Send for RamBlock {}
// SAFETY: as above.
unsafe impl Sync for RamBlock {}

impl RamBlock {
    fn new(base: u64, size: u64) -> Result<RamBlock, PhysMapError> {
        let oom = PhysMapError::OutOfHostMemory { size };
        let mem = usize::try_from(size)
            .ok()
            .and_then(HostRam::new)
            .ok_or(oom)?;
        let first_page = base >> PAGE_BITS;
        let last_page = (base + (size - 1)) >> PAGE_BITS;
        let words = (last_page - first_page) / PAGES_PER_WORD + 1;
        Ok(RamBlock {
            host: mem.as_ptr(),
            _mem: mem,
            first_page,
            code: (0..words).map(|_| AtomicU64::new(0)).collect(),
        })
    }

    /// Whether the page holding `paddr` (inside this block) is marked as code.
    #[inline]
    pub(crate) fn is_code(&self, paddr: u64) -> bool {
        self.code_slot(paddr)
            .is_some_and(|(w, sh)| w.load(Ordering::SeqCst) & (CODE << sh) != 0)
    }

    /// The bitmap word and the shift of the two bits of the page holding `paddr` (which
    /// must be inside the block).
    #[inline]
    fn code_slot(&self, paddr: u64) -> Option<(&AtomicU64, u32)> {
        let pg = (paddr >> PAGE_BITS).checked_sub(self.first_page)?;
        let w = self.code.get((pg / PAGES_PER_WORD) as usize)?;
        Some((w, 2 * (pg % PAGES_PER_WORD) as u32))
    }
}

pub enum RegionKind {
    Ram(RamBlock),
    Mmio(Arc<dyn MmioDevice>),
}

pub struct Region {
    pub base: u64,
    pub size: u64,
    pub name: String,
    pub kind: RegionKind,
}

/// What [`PhysMap::set_code_write_hook`] installs: called after guest memory in one page
/// was written while the page was marked as holding translated code, with the physical
/// address and length (never crossing a page) of the bytes written. It invalidates the TBs
/// those bytes overlap and calls [`PhysMap::clear_code`] once no TB is left on the page.
pub type CodeWriteHook = dyn Fn(&PhysMap, u64, u64) + Send + Sync;

/// The board's physical memory map; built once, then shared read-only by all vCPUs.
///
/// It also tracks which RAM pages hold translated code (self-modifying code, by physical
/// page): the TB cache marks a page ([`mark_code`](Self::mark_code)) before translating
/// from it, TLB fills give writable entries of such pages `TLB_NOTDIRTY` (so stores take
/// the slow path), and the slow paths, [`write`](Self::write) and
/// [`write_bytes`](Self::write_bytes) report every write to a marked page to the
/// [code-write hook](Self::set_code_write_hook).
#[derive(Default)]
pub struct PhysMap {
    regions: Vec<Region>,
    code_hook: RwLock<Option<Arc<CodeWriteHook>>>,
    /// A debugger's watchpoints, once attached (TLB fills and slow paths check them).
    watch: std::sync::OnceLock<Arc<crate::watch::WatchList>>,
}

impl PhysMap {
    pub fn new() -> PhysMap {
        PhysMap::default()
    }

    fn insert(&mut self, r: Region) -> Result<(), PhysMapError> {
        let end = r.base.checked_add(r.size).ok_or(PhysMapError::Overlap {
            base: PhysAddr(r.base),
            size: r.size,
        })?;
        if self
            .regions
            .iter()
            .any(|o| r.base < o.base + o.size && o.base < end)
        {
            return Err(PhysMapError::Overlap {
                base: PhysAddr(r.base),
                size: r.size,
            });
        }
        self.regions.push(r);
        self.regions.sort_by_key(|r| r.base);
        Ok(())
    }

    pub fn add_ram(&mut self, name: &str, base: PhysAddr, size: u64) -> Result<(), PhysMapError> {
        if base.0.checked_add(size).is_none() {
            return Err(PhysMapError::Overlap { base, size });
        }
        let block = RamBlock::new(base.0, size)?;
        self.insert(Region {
            base: base.0,
            size,
            name: name.into(),
            kind: RegionKind::Ram(block),
        })
    }

    pub fn add_mmio(
        &mut self,
        name: &str,
        base: PhysAddr,
        size: u64,
        dev: Arc<dyn MmioDevice>,
    ) -> Result<(), PhysMapError> {
        self.insert(Region {
            base: base.0,
            size,
            name: name.into(),
            kind: RegionKind::Mmio(dev),
        })
    }

    /// The region containing `addr` and the offset into it.
    pub fn lookup(&self, addr: PhysAddr) -> Option<(&Region, u64)> {
        let i = self.regions.partition_point(|r| r.base <= addr.0);
        let r = self.regions.get(i.checked_sub(1)?)?;
        let off = addr.0 - r.base;
        (off < r.size).then_some((r, off))
    }

    /// Host pointer to `len` bytes of RAM at `addr`, if they are all inside one RAM block.
    pub fn ram_ptr(&self, addr: PhysAddr, len: u64) -> Option<*mut u8> {
        let (r, off) = self.lookup(addr)?;
        match &r.kind {
            RegionKind::Ram(b) if off.checked_add(len)? <= r.size => {
                // SAFETY: off + len is within the block's allocation.
                Some(unsafe { b.host.add(off as usize) })
            }
            _ => None,
        }
    }

    /// Copies `data` into guest RAM (loaders). Fails if any byte is not RAM.
    pub fn write_bytes(&self, addr: PhysAddr, data: &[u8]) -> Result<(), PhysMapError> {
        let len = data.len() as u64;
        let p = self
            .ram_ptr(addr, len)
            .ok_or(PhysMapError::Unmapped { addr, len })?;
        // SAFETY: `p` points at `len` bytes of RAM (checked by ram_ptr).
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        self.notify_write(addr, len);
        Ok(())
    }

    pub fn read_bytes(&self, addr: PhysAddr, out: &mut [u8]) -> Result<(), PhysMapError> {
        let len = out.len() as u64;
        let p = self
            .ram_ptr(addr, len)
            .ok_or(PhysMapError::Unmapped { addr, len })?;
        // SAFETY: `p` points at `len` bytes of RAM (checked by ram_ptr).
        unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    /// A little-endian access of `size` bytes (1, 2, 4, 8) at `addr`: RAM or a device.
    /// `None` when nothing is mapped there (the caller raises an external abort).
    pub fn read(&self, addr: PhysAddr, size: u32) -> Option<u64> {
        let (r, off) = self.lookup(addr)?;
        match &r.kind {
            RegionKind::Ram(_) => {
                let p = self.ram_ptr(addr, size as u64)?;
                // SAFETY: `size` bytes at `p` are RAM.
                Some(unsafe { crate::access::host_read(p, size) })
            }
            RegionKind::Mmio(d) => Some(d.read(off, size)),
        }
    }

    pub fn write(&self, addr: PhysAddr, size: u32, value: u64) -> Option<()> {
        let (r, off) = self.lookup(addr)?;
        match &r.kind {
            RegionKind::Ram(_) => {
                let p = self.ram_ptr(addr, size as u64)?;
                // SAFETY: `size` bytes at `p` are RAM.
                unsafe { crate::access::host_write(p, size, value) };
                self.notify_write(addr, size as u64);
                Some(())
            }
            RegionKind::Mmio(d) => {
                d.write(off, size, value);
                Some(())
            }
        }
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// Makes TLB fills and memory slow paths check `list` (a debugger's watchpoints; see
    /// `crate::watch`). Once per map; `false` (and nothing changes) if another list was
    /// attached before.
    pub fn attach_watchpoints(&self, list: Arc<crate::watch::WatchList>) -> bool {
        match self.watch.set(list.clone()) {
            Ok(()) => true,
            Err(_) => self.watch.get().is_some_and(|w| Arc::ptr_eq(w, &list)),
        }
    }

    /// The attached watchpoints, if any are set now.
    #[inline]
    pub fn active_watchpoints(&self) -> Option<&crate::watch::WatchList> {
        self.watch.get().map(|w| &**w).filter(|w| w.is_active())
    }

    // --- code pages (self-modifying code) ---------------------------------------------

    /// The RAM block holding `paddr`.
    #[inline]
    pub(crate) fn ram_block(&self, paddr: u64) -> Option<&RamBlock> {
        match self.lookup(PhysAddr(paddr))?.0 {
            Region {
                kind: RegionKind::Ram(b),
                ..
            } => Some(b),
            _ => None,
        }
    }

    /// The two code-page bits of the page holding `paddr` (0 outside RAM).
    #[inline]
    fn code_bits(&self, paddr: u64) -> u64 {
        match self.ram_block(paddr).and_then(|b| b.code_slot(paddr)) {
            Some((w, sh)) => (w.load(Ordering::SeqCst) >> sh) & (CODE | PROTECTED),
            None => 0,
        }
    }

    /// Marks the RAM page holding `paddr` as holding translated code. Call it *before*
    /// reading the guest code to translate.
    ///
    /// When the page is not yet protected, `protect(paddr_page)` must set `TLB_NOTDIRTY` in
    /// every vCPU's TLB write entries for that physical page (see
    /// [`crate::tlb::tlb_protect_code_page`]); it runs after the code bit is set (and a
    /// full fence), so together with the fence in `tlb_fill` no writable entry for the page
    /// stays clean. Several threads may run `protect` for the same page at once; each
    /// returns only after its own sweep, so whoever goes on to read the code knows no vCPU
    /// can still store to it without the slow path. Returns whether `protect` ran.
    ///
    /// On an already protected page this is one region lookup and one atomic load. Pages
    /// outside RAM are never marked (code cannot run from them).
    pub fn mark_code(&self, paddr: u64, protect: impl FnOnce(u64)) -> bool {
        let Some((w, sh)) = self.ram_block(paddr).and_then(|b| b.code_slot(paddr)) else {
            return false;
        };
        if w.load(Ordering::Acquire) & (PROTECTED << sh) != 0 {
            return false;
        }
        w.fetch_or(CODE << sh, Ordering::SeqCst);
        // Pairs with the fence in `tlb_fill` (store entry; fence; check the code bit): a
        // fill either sees the bit or its entry is visible to the sweep below.
        fence(Ordering::SeqCst);
        protect(paddr & PAGE_MASK);
        // Protected only while still code (a concurrent `clear_code` wins).
        let _ = w.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
            (v & (CODE << sh) != 0).then_some(v | (PROTECTED << sh))
        });
        true
    }

    /// Whether the page holding `paddr` is marked as holding translated code.
    #[inline]
    pub fn is_code(&self, paddr: u64) -> bool {
        self.code_bits(paddr) & CODE != 0
    }

    /// Unmarks the page holding `paddr` (no TB is left on it). TLB entries keep their
    /// `TLB_NOTDIRTY` until their owner's next store to the page drops it. Returns whether
    /// the page was marked.
    pub fn clear_code(&self, paddr: u64) -> bool {
        match self.ram_block(paddr).and_then(|b| b.code_slot(paddr)) {
            Some((w, sh)) => {
                let old = w.fetch_and(!((CODE | PROTECTED) << sh), Ordering::SeqCst);
                old & (CODE << sh) != 0
            }
            None => false,
        }
    }

    /// Number of RAM pages marked as code (statistics and tests; walks the bitmap).
    pub fn code_pages(&self) -> usize {
        self.regions
            .iter()
            .filter_map(|r| match &r.kind {
                RegionKind::Ram(b) => Some(b),
                _ => None,
            })
            .flat_map(|b| b.code.iter())
            .map(|w| (w.load(Ordering::Relaxed) & 0x5555_5555_5555_5555).count_ones() as usize)
            .sum()
    }

    /// Installs (or, with `None`, removes) the function told about writes to code pages.
    /// Without a hook, such a write just unmarks the page.
    pub fn set_code_write_hook(&self, hook: Option<Arc<CodeWriteHook>>) {
        *self.code_hook.write().unwrap_or_else(|e| e.into_inner()) = hook;
    }

    /// Reports a write of `len` bytes at `addr` that bypassed the slow paths (a device
    /// writing guest RAM through a host pointer, DMA): TBs translated from those bytes are
    /// invalidated. [`write`](Self::write) and [`write_bytes`](Self::write_bytes) call it
    /// themselves. Costs one atomic load per page touched when no page is code.
    pub fn notify_write(&self, addr: PhysAddr, len: u64) {
        let mut a = addr.0;
        let end = addr.0.saturating_add(len);
        while a < end {
            let next = ((a & PAGE_MASK) + PAGE_SIZE).min(end);
            if self.is_code(a) {
                self.code_written(a, next - a);
            }
            if next <= a {
                break;
            }
            a = next;
        }
    }

    /// A write of `len` bytes at `paddr` (within one page) hit a code page: tell the hook
    /// (it invalidates the TBs on the bytes), or unmark the page if there is none. Call it
    /// *after* the bytes are in memory: a translation that read the old bytes before is
    /// then caught by the hook, and one that starts after reads the new ones.
    pub fn code_written(&self, paddr: u64, len: u64) {
        // Called under the read lock (no Arc clone: vCPUs storing to code pages would
        // all bounce its count); the hook must not set a hook.
        let hook = self.code_hook.read().unwrap_or_else(|e| e.into_inner());
        match hook.as_deref() {
            Some(h) => h(self, paddr, len),
            None => {
                self.clear_code(paddr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Reg(std::sync::Mutex<u64>);
    impl MmioDevice for Reg {
        fn read(&self, _o: u64, _s: u32) -> u64 {
            *self.0.lock().unwrap()
        }
        fn write(&self, _o: u64, _s: u32, v: u64) {
            *self.0.lock().unwrap() = v;
        }
    }

    #[test]
    fn code_bitmap_marks_protects_and_clears() {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(0x4000_0000), 0x40_0000).unwrap();
        m.add_ram("odd", PhysAddr(0x8000_0800), 0x2000).unwrap();
        let mut swept = Vec::new();
        assert!(!m.is_code(0x4000_1000));
        assert!(m.mark_code(0x4000_1234, |p| swept.push(p)));
        assert_eq!(swept, [0x4000_1000]);
        assert!(m.is_code(0x4000_1000) && m.is_code(0x4000_1fff));
        assert!(!m.is_code(0x4000_0fff) && !m.is_code(0x4000_2000));
        // Already protected: no second sweep.
        assert!(!m.mark_code(0x4000_1000, |p| swept.push(p)));
        assert_eq!(swept.len(), 1);
        // Pages in other bitmap words, and a block not starting on a page boundary.
        for a in [
            0x4000_0000,
            0x4002_0000,
            0x403f_f000,
            0x8000_0800,
            0x8000_2000,
        ] {
            assert!(m.mark_code(a, |_| {}), "{a:#x}");
            assert!(m.is_code(a), "{a:#x}");
        }
        assert_eq!(m.code_pages(), 6);
        // Outside RAM: never code.
        assert!(!m.mark_code(0x1000, |_| panic!("no sweep outside RAM")));
        assert!(!m.is_code(0x1000));
        assert!(m.clear_code(0x4000_1ffc));
        assert!(!m.clear_code(0x4000_1000));
        assert!(!m.is_code(0x4000_1000));
        assert!(m.is_code(0x4000_0000) && m.is_code(0x4002_0000));
        // Unmarked again: the next mark sweeps again.
        assert!(m.mark_code(0x4000_1000, |_| {}));
        assert_eq!(m.code_pages(), 6);
    }

    #[test]
    fn writes_to_code_pages_reach_the_hook() {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(0x4000_0000), 0x10000).unwrap();
        let m = Arc::new(m);
        // No hook: a write to a code page just unmarks it.
        m.mark_code(0x4000_2000, |_| {});
        m.write(PhysAddr(0x4000_2010), 4, 1).unwrap();
        assert!(!m.is_code(0x4000_2000));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        m.set_code_write_hook(Some(Arc::new(move |_: &PhysMap, a: u64, l: u64| {
            s.lock().unwrap().push((a, l))
        })));
        m.write_bytes(PhysAddr(0x4000_0ff0), &[0; 0x2010]).unwrap();
        assert!(seen.lock().unwrap().is_empty(), "no code page, no call");
        m.mark_code(0x4000_1000, |_| {});
        m.mark_code(0x4000_3000, |_| {});
        m.write_bytes(PhysAddr(0x4000_0ff0), &[0; 0x2010]).unwrap();
        assert_eq!(*seen.lock().unwrap(), [(0x4000_1000, 0x1000)]);
        m.write(PhysAddr(0x4000_3ffe), 2, 7).unwrap();
        m.notify_write(PhysAddr(0x4000_3ff0), 0x20);
        assert_eq!(
            seen.lock().unwrap()[1..],
            [(0x4000_3ffe, 2), (0x4000_3ff0, 0x10)]
        );
        m.set_code_write_hook(None);
        m.write(PhysAddr(0x4000_1000), 1, 7).unwrap();
        assert!(!m.is_code(0x4000_1000));
    }

    #[test]
    fn ram_mmio_and_holes() {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(0x4000_0000), 0x10000).unwrap();
        m.add_mmio(
            "reg",
            PhysAddr(0x900_0000),
            0x1000,
            Arc::new(Reg(Default::default())),
        )
        .unwrap();
        assert!(m.add_ram("x", PhysAddr(0x4000_8000), 0x10000).is_err());
        m.write_bytes(PhysAddr(0x4000_0010), &[1, 2, 3, 4]).unwrap();
        assert_eq!(m.read(PhysAddr(0x4000_0010), 4), Some(0x0403_0201));
        m.write(PhysAddr(0x900_0000), 4, 7).unwrap();
        assert_eq!(m.read(PhysAddr(0x900_0004), 4), Some(7));
        assert_eq!(m.read(PhysAddr(0x1234), 4), None);
        assert!(m.write_bytes(PhysAddr(0x4000_fffe), &[0; 4]).is_err());
    }
}
