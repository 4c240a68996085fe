//! Host memory for guest RAM: zeroed lazily by the host kernel and, on Linux, backed by
//! transparent huge pages where the host allows them.
//!
//! Guest RAM is accessed all over (a pointer-chasing guest touches a new 4 KiB host page
//! at almost every load): with 4 KiB host pages each of those is a host TLB miss and a
//! page walk. A 2 MiB-aligned mapping with `MADV_HUGEPAGE` lets the host kernel use 2 MiB
//! pages (with `transparent_hugepage=madvise`, Debian's default, only such mappings get
//! them). Pages are still allocated on first touch, so unused guest RAM costs nothing.

use std::ptr::NonNull;

/// Alignment of the mapping: the x86-64 (and arm64 4K-granule) huge page size.
#[cfg(target_os = "linux")]
const HUGE: usize = 2 << 20;

/// A zeroed host allocation of `size` bytes, freed on drop.
pub(crate) struct HostRam {
    ptr: NonNull<u8>,
    size: usize,
}

impl HostRam {
    /// `size` zeroed bytes (at least 64-byte aligned), or `None` when the host refuses.
    pub(crate) fn new(size: usize) -> Option<HostRam> {
        Self::with_pages(size, true)
    }

    /// `size` zeroed bytes in 4 KiB host pages (memory touched here and there, such as a
    /// hash table, where a huge page would be zeroed whole at the first touch).
    pub(crate) fn small_pages(size: usize) -> Option<HostRam> {
        Self::with_pages(size, false)
    }

    #[cfg(target_os = "linux")]
    fn with_pages(size: usize, huge: bool) -> Option<HostRam> {
        if size == 0 {
            return None;
        }
        let len = size.checked_next_multiple_of(HUGE)?;
        let map_len = len.checked_add(HUGE)?;
        // SAFETY: a fresh private anonymous mapping; no existing memory is touched.
        let raw = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            return None;
        }
        let start = raw as usize;
        let aligned = start.next_multiple_of(HUGE);
        let (head, tail) = (aligned - start, map_len - (aligned - start) - len);
        // SAFETY: both ranges lie inside the mapping made above and outside
        // [aligned, aligned + len), which is all that is kept. The advice only changes how
        // the kernel backs the kept range; failure (no THP support) leaves 4 KiB pages.
        unsafe {
            if head != 0 {
                libc::munmap(raw, head);
            }
            if tail != 0 {
                libc::munmap((aligned + len) as *mut libc::c_void, tail);
            }
            if huge {
                libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
            }
        }
        Some(HostRam {
            ptr: NonNull::new(aligned as *mut u8)?,
            size: len,
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn with_pages(size: usize, _huge: bool) -> Option<HostRam> {
        let layout = std::alloc::Layout::from_size_align(size, 64).ok()?;
        if size == 0 {
            return None;
        }
        // SAFETY: layout has non-zero size.
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        Some(HostRam {
            ptr: NonNull::new(p)?,
            size,
        })
    }

    /// The first byte.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

impl Drop for HostRam {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`size` are exactly what `new` mapped (or allocated) and kept.
        unsafe {
            #[cfg(target_os = "linux")]
            libc::munmap(self.ptr.as_ptr() as *mut libc::c_void, self.size);
            #[cfg(not(target_os = "linux"))]
            std::alloc::dealloc(
                self.ptr.as_ptr(),
                std::alloc::Layout::from_size_align_unchecked(self.size, 64),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_is_zeroed_writable_and_aligned() {
        let size = (3 << 20) + 4096 + 16;
        let small = HostRam::small_pages(size).expect("allocation");
        // SAFETY: inside the allocation.
        unsafe { assert_eq!(*small.as_ptr().add(size - 1), 0) };
        let r = HostRam::new(size).expect("allocation");
        assert_eq!(r.as_ptr() as usize % 64, 0);
        #[cfg(target_os = "linux")]
        assert_eq!(r.as_ptr() as usize % HUGE, 0);
        // SAFETY: every offset is inside the `size` bytes allocated.
        unsafe {
            for off in [0, 4095, 1 << 20, size - 1] {
                assert_eq!(*r.as_ptr().add(off), 0);
                *r.as_ptr().add(off) = 0xa5;
                assert_eq!(*r.as_ptr().add(off), 0xa5);
            }
        }
        assert!(HostRam::new(0).is_none());
    }
}
