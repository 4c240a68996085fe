//! The per-vCPU jump cache that generated code probes to continue at an indirect branch
//! target without returning to the execution loop (QEMU's `lookup_and_goto_ptr` idea).
//!
//! The env points at it ([`crate::EnvHead::jmp`], a [`JmpTable`]), it is written only by the vCPU's own thread
//! (the execution loop fills an entry after generated code missed it) and read only by
//! generated code on that thread, so it needs no synchronisation. An entry names a TB by
//! the virtual pc, the host address of its guest code (RAM: one-to-one with the physical
//! address) and the TB flags. Generated code checks the host address against what its
//! *current* code TLB entry maps the pc to, so a remapped page (another process, a TLB
//! flush) misses, and it checks the back end's validity word (`aux`), so an invalidated
//! TB is never entered. The loop clears the whole cache when the TB cache is flushed (the
//! code it points to is then reset).

/// Log2 of the number of entries. 64K: with 4K, two thirds of the jump-cache misses in a
/// gcc run were entries taken by another pc (counted by kind with a probe in the loop);
/// 16K removed about 70 % of those, but in the gcc workload (cc1 returns to very many call
/// sites) 84 % of the misses were still other pcs' entries. 2 MiB per vCPU, mapped by the
/// host kernel zeroed on first touch, so its pages cost memory only once used.
pub const JMP_BITS: u32 = 16;
pub const JMP_SIZE: usize = 1 << JMP_BITS;
/// Log2 of the entry size and the field offsets generated code uses.
pub const JMPE_SIZE_LOG2: u32 = 5;
pub const JMPE_PC: usize = 0;
pub const JMPE_KEY: usize = 8;
pub const JMPE_CODE: usize = 16;
pub const JMPE_AUX: usize = 24;
/// Bits of a code address kept in [`JmpEntry::key`]; the TB flags sit above them.
pub const JMP_KEY_FLAGS_SHIFT: u32 = 48;

/// One entry. `pc == EMPTY_PC` (never a valid, 4-aligned pc) marks it free; an all-zero
/// entry (a fresh table) never matches either, since no TB has key 0 (its code's host
/// address is not 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(32))]
pub struct JmpEntry {
    pub pc: u64,
    /// [`key`] of the TB's guest code address (host view) and flags.
    pub key: u64,
    /// Entry address of the TB's generated code.
    pub code: u64,
    /// The back end's word for its validity check (the JIT: its chain cell).
    pub aux: u64,
}

impl JmpEntry {
    pub const EMPTY_PC: u64 = 1;
    pub const EMPTY: JmpEntry = JmpEntry {
        pc: Self::EMPTY_PC,
        key: 0,
        code: 0,
        aux: 0,
    };
}

/// The entry index of virtual `pc` (generated code computes the same).
#[inline]
pub fn jmp_index(pc: u64) -> usize {
    ((pc >> 2) ^ (pc >> (2 + JMP_BITS))) as usize & (JMP_SIZE - 1)
}

/// The jump cache of one env: `JMP_SIZE` entries in their own mapping. `#[repr(C)]` with
/// the entries' address first, which generated code loads from
/// [`crate::layout::ENV_JMP_TABLE`].
#[repr(C)]
pub struct JmpTable {
    entries: std::ptr::NonNull<JmpEntry>,
    /// Owns the entries' memory: a fresh mapping (not the heap, whose reused memory
    /// `calloc` zeroes by hand, touching all 2 MiB of it at every vCPU's creation).
    _mem: crate::host_ram::HostRam,
}

// SAFETY: the table owns its allocation (like a `Box<[JmpEntry]>`).
unsafe impl Send for JmpTable {}
// SAFETY: shared access only reads plain data.
unsafe impl Sync for JmpTable {}

impl JmpTable {
    fn layout() -> std::alloc::Layout {
        std::alloc::Layout::new::<[JmpEntry; JMP_SIZE]>()
    }

    /// An empty table (zeroed: untouched pages are not resident).
    pub fn new() -> JmpTable {
        let layout = Self::layout();
        // All-zero bytes are valid entries; the memory is aligned for them (`HostRam`).
        let mem = crate::host_ram::HostRam::small_pages(layout.size())
            .unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        match std::ptr::NonNull::new(mem.as_ptr() as *mut JmpEntry) {
            Some(entries) => JmpTable { entries, _mem: mem },
            None => std::alloc::handle_alloc_error(layout),
        }
    }
}

impl Default for JmpTable {
    fn default() -> Self {
        JmpTable::new()
    }
}

impl std::ops::Deref for JmpTable {
    type Target = [JmpEntry];
    fn deref(&self) -> &[JmpEntry] {
        // SAFETY: `JMP_SIZE` initialised entries, owned by `self`.
        unsafe { std::slice::from_raw_parts(self.entries.as_ptr(), JMP_SIZE) }
    }
}

impl std::ops::DerefMut for JmpTable {
    fn deref_mut(&mut self) -> &mut [JmpEntry] {
        // SAFETY: as in `deref`, borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.entries.as_ptr(), JMP_SIZE) }
    }
}

/// The key of a TB whose guest code is at host address `host_pc`, with key flags
/// `flags`; `None` when they do not fit (such TBs are simply never entered through the
/// cache).
#[inline]
pub fn key(host_pc: u64, flags: u32) -> Option<u64> {
    let f = (flags as u64) << JMP_KEY_FLAGS_SHIFT;
    (host_pc >> JMP_KEY_FLAGS_SHIFT == 0 && f >> JMP_KEY_FLAGS_SHIFT == flags as u64)
        .then_some(host_pc | f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_indices() {
        assert_eq!(key(0x4000_1234, 5), Some(0x4000_1234 | 5 << 48));
        assert_eq!(key(1 << 48, 0), None);
        assert_eq!(key(0, 0x1_0000), None);
        assert!(jmp_index(u64::MAX) < JMP_SIZE);
        assert_ne!(jmp_index(0x1000), jmp_index(0x1004));
        assert_eq!(std::mem::size_of::<JmpEntry>(), 1 << JMPE_SIZE_LOG2);
    }
}
