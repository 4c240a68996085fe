//! The guest physical address space: RAM blocks in host memory and MMIO devices.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::fmt;
use std::sync::Arc;

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

/// Host memory backing a RAM region, allocated zeroed once.
///
/// 16-byte alignment (not page alignment) on purpose: the system allocator then serves it
/// with `calloc`, whose fresh pages are zero-filled lazily by the host kernel, so unused
/// guest RAM costs nothing. TLB addends do not need host page alignment, and 16 bytes keeps
/// every naturally aligned guest access (atomics included) naturally aligned on the host.
const RAM_ALIGN: usize = 16;

pub struct RamBlock {
    host: *mut u8,
    size: usize,
}

// SAFETY: the block is a plain allocation that lives as long as the RamBlock; guest
// accesses from several threads are the guest's (weakly ordered) memory model, done with
// raw-pointer or atomic accesses only.
unsafe impl Send for RamBlock {}
// SAFETY: as above.
unsafe impl Sync for RamBlock {}

impl RamBlock {
    fn new(size: u64) -> Result<RamBlock, PhysMapError> {
        let oom = PhysMapError::OutOfHostMemory { size };
        let layout = usize::try_from(size)
            .ok()
            .filter(|&s| s > 0)
            .and_then(|s| Layout::from_size_align(s, RAM_ALIGN).ok())
            .ok_or(oom.clone())?;
        // SAFETY: layout has non-zero size.
        let host = unsafe { alloc_zeroed(layout) };
        if host.is_null() {
            return Err(oom);
        }
        Ok(RamBlock {
            host,
            size: layout.size(),
        })
    }
}

impl Drop for RamBlock {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this exact layout.
        unsafe {
            dealloc(
                self.host,
                Layout::from_size_align_unchecked(self.size, RAM_ALIGN),
            )
        }
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

/// The board's physical memory map; built once, then shared read-only by all vCPUs.
#[derive(Default)]
pub struct PhysMap {
    regions: Vec<Region>,
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
        let block = RamBlock::new(size)?;
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
