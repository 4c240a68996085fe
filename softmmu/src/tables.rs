//! The TLB tables of one vCPU: for each ASID kept (a *slot*), one direct-mapped table per
//! MMU index, each sized by use. `Tlb::fast` (read by generated code) points at the tables
//! of the current ASID's slot.
//!
//! * **ASIDs without a cost on the fast path.** An entry is filled into the slot of the
//!   ASID current at the time, so the fast path's single tag compare only ever sees
//!   entries valid for the current ASID: non-global entries of other ASIDs live in other
//!   slots. A context switch (a new current ASID) repoints `fast` at another slot: nothing
//!   is flushed, and switching back finds the old entries. Global (nG = 0) entries are
//!   valid in every slot: a switch leaves them alone, a slot missing one copies it from
//!   another slot (no walk), and a TLBI naming them drops them from every slot.
//! * **Slots.** Up to `TLB_ASID_SLOTS` ASIDs are kept; a new one takes a free slot or the
//!   least recently used one, whose non-global entries go (its global ones stay: a new
//!   process finds the kernel's entries). A slot whose ASID was invalidated (ASIDE1) while
//!   not current goes first.
//! * **Sizing.** A table starts with `2^TLB_MIN_BITS` entries and doubles (entries moved to
//!   their new index) when fills keep evicting valid entries (evictions since the last
//!   resize reach half its size), up to `2^TLB_MAX_BITS`. When cleared it shrinks to twice
//!   the most entries it held since the previous clear.
//! * **Pages larger than 4 KiB.** Entries are 4 KiB, and each records the size of the
//!   mapping it came from, so invalidating any address of a 16/64 KiB page or of a block
//!   drops every entry filled from it: a table remembers the largest page size up to
//!   64 KiB among its entries (a page flush probes each 4 KiB index of such a page) and
//!   a few VA intervals holding its entries from larger mappings (a page flush inside one
//!   probes the 4 KiB indexes of the largest block there, or scans the table if it is
//!   smaller).
//! * **Other threads** sweep every table for the code-page protocol
//!   (`tlb::tlb_protect_code_page`). A table is published to them as one word (entry 0's
//!   address | log2 entries | log2 capacity, 0 while unused) read atomically; table memory
//!   is never freed while the env lives (a table outgrowing its allocation gets a new one
//!   and the old one is kept until drop); a growing table is published before entries move
//!   into its new part, and moves write the write tag like fills do
//!   (`tlb::fill_write_tag`), so a sweep finds every entry or the move sees the code bit.
//! * **Write-page filter.** A sweep names one physical page, and most tables hold no
//!   writable entry for it, but scanning a full table reads a megabyte. Each allocation
//!   ends with a bit set (`FILTER_BITS` bits per entry of capacity) indexed by the
//!   physical page number: a fill of a writable RAM entry sets its page's bit before the
//!   write tag goes in ([`Tlb::note_write_page`]), a reset clears the set, and a sweep
//!   skips a table whose bit for its page is clear. Bits of evicted entries stay set (only
//!   a wasted scan) until the next reset or until the owner, after every `n / 4` newly set
//!   bits, recomputes the set from its live entries (`Table::rebuild_filter`: each word is
//!   stored whole, and every live writable entry's bit is in both the old and the new
//!   value, so a concurrent sweep never misses one). A grown allocation starts with each
//!   old bit in both of its new places.

use crate::layout::*;
use crate::phys::PhysMap;
use crate::tlb::{
    fill_write_tag, is_ram_write_tag, tlb_index, TlbEntry, TlbFast, TlbFlush, TlbFull,
};
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

const SLOTS: usize = TLB_ASID_SLOTS;
const MODES: usize = NB_MMU_MODES;
const NO_ASID: u32 = u32::MAX;
/// Pages up to this size (log2) are found by probing their 4 KiB indexes; larger
/// mappings (blocks) by the VA range of the table.
const PROBE_MAX_LOG2: u32 = 16;
/// The virtual-address bits a TLBI by VA compares: VA[55:12].
const VA_PAGE: u64 = VA_MASK & PAGE_MASK;
/// Table memory alignment: the low 12 bits of a published word hold the sizes.
const TABLE_ALIGN: usize = 4096;
const WORD_BITS_MASK: usize = 0x1f;
const WORD_CAP_SHIFT: u32 = 5;
// Both sizes fit their 5-bit fields of the published word, below the alignment.
const _: () = assert!(TLB_MIN_BITS <= TLB_MAX_BITS && TLB_MAX_BITS as usize <= WORD_BITS_MASK);
const _: () = assert!((WORD_BITS_MASK + 1) << WORD_CAP_SHIFT <= TABLE_ALIGN);

/// Counters of TLB events for one vCPU (slow paths only; printed when the env var
/// `SOFTMMU_TLB_STATS` is set as the env is dropped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlbStats {
    /// Entries filled by a page walk (TLB misses that did not fault and found no global
    /// entry to copy).
    pub fills: u64,
    /// Fills that replaced a valid entry of another page.
    pub evictions: u64,
    /// Misses served by copying a global entry from another ASID's slot (no walk).
    pub global_copies: u64,
    pub flush_all: u64,
    pub flush_asid: u64,
    pub flush_page: u64,
    /// Page flushes that scanned a whole table (a block mapping covered the page).
    pub flush_page_scans: u64,
    pub asid_switches: u64,
    /// Switches to an ASID that had no slot and took one from another ASID.
    pub slot_evictions: u64,
    pub grows: u64,
    pub shrinks: u64,
    /// Write-page filters recomputed from their tables' live entries.
    pub filter_rebuilds: u64,
}

impl fmt::Display for TlbStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fills {} evictions {} global copies {} flush: all {} asid {} page {} (scans {}) \
             asid switches {} slot evictions {} grows {} shrinks {} filter rebuilds {}",
            self.fills,
            self.evictions,
            self.global_copies,
            self.flush_all,
            self.flush_asid,
            self.flush_page,
            self.flush_page_scans,
            self.asid_switches,
            self.slot_evictions,
            self.grows,
            self.shrinks,
            self.filter_rebuilds
        )
    }
}

/// One direct-mapped table: `2^bits` entries in use of an allocation for `2^cap_bits`
/// (`TlbEntry`s, then as many `TlbFull`s).
struct Table {
    /// Published for other threads: entry 0's address | bits | cap_bits << 5; 0 = unused.
    word: AtomicUsize,
    mem: *mut u8,
    cap_bits: u32,
    bits: u32,
    /// Valid entries now, and the most since the last clear.
    live: u32,
    peak: u32,
    /// Fills that evicted a valid entry since the last resize or clear.
    evictions: u32,
    /// The largest page size (log2, at most `PROBE_MAX_LOG2`) among the entries.
    probe_log2: u32,
    /// Where the entries from mappings larger than `PROBE_MAX_LOG2` are.
    blocks: Blocks,
    /// Allocations this table outgrew (other threads may still be sweeping them).
    old: Vec<(*mut u8, u32)>,
    /// Write-page filter bits set since the last reset or rebuild.
    filter_sets: u32,
}

/// Bytes of the entries and records of a table of capacity `2^cap_bits`: the write-page
/// filter starts there.
const fn filter_offset(cap_bits: u32) -> usize {
    (std::mem::size_of::<TlbEntry>() + std::mem::size_of::<TlbFull>()) << cap_bits
}

/// Bits of write-page filter per entry of capacity. With two, gcc's tables were dense
/// enough that a code-page sweep scanned 1.4 whole tables per new code page (63 M entries
/// over a 5 s run, 96 of them writable aliases of the page); sixteen cost two bytes per
/// entry (records are 64).
const FILTER_BITS: usize = 16;

/// Words of the write-page filter of a table of capacity `2^cap_bits`.
const fn filter_words(cap_bits: u32) -> usize {
    (FILTER_BITS << cap_bits) / 64
}

/// Word and bit of physical page `paddr_page`'s filter bit at capacity `2^cap_bits`.
fn filter_bit(paddr_page: u64, cap_bits: u32) -> (usize, u64) {
    let b = (paddr_page >> PAGE_BITS) as usize & ((FILTER_BITS << cap_bits) - 1);
    (b / 64, 1 << (b % 64))
}

// Whole filter words at the smallest capacity, and filters stay 8-byte aligned.
const _: () = assert!(filter_words(TLB_MIN_BITS) >= 1 && filter_offset(0).is_multiple_of(8));

fn table_layout(cap_bits: u32) -> Layout {
    let bytes = filter_offset(cap_bits) + filter_words(cap_bits) * 8;
    // At most 2^TLB_MAX_BITS * 65 bytes with a power-of-two alignment: never an error.
    Layout::from_size_align(bytes, TABLE_ALIGN)
        .unwrap_or_else(|_| handle_alloc_error(Layout::new::<TlbEntry>()))
}

impl Table {
    const fn unused() -> Table {
        Table {
            word: AtomicUsize::new(0),
            mem: std::ptr::null_mut(),
            cap_bits: 0,
            bits: TLB_MIN_BITS,
            live: 0,
            peak: 0,
            evictions: 0,
            probe_log2: PAGE_BITS,
            blocks: Blocks::EMPTY,
            old: Vec::new(),
            filter_sets: 0,
        }
    }

    fn n(&self) -> usize {
        1 << self.bits
    }

    fn entries(&self) -> *mut TlbEntry {
        self.mem as *mut TlbEntry
    }

    fn fulls(&self) -> *mut TlbFull {
        // The TlbFulls follow the capacity's entries.
        self.mem
            .wrapping_add(std::mem::size_of::<TlbEntry>() << self.cap_bits) as *mut TlbFull
    }

    /// Entry and slow-path record `i` (< `n()`).
    fn slot(&self, i: usize) -> (*mut TlbEntry, *mut TlbFull) {
        (self.entries().wrapping_add(i), self.fulls().wrapping_add(i))
    }

    /// The write-page filter of the allocation (`filter_words(cap_bits)` words).
    fn filter(&self) -> &[AtomicU64] {
        // SAFETY: every allocation has room for its filter after the records
        // (`table_layout`), 8-byte aligned; the words are only accessed atomically (other
        // threads read them in `for_each_published_table`).
        unsafe {
            std::slice::from_raw_parts(
                self.mem.add(filter_offset(self.cap_bits)) as *const AtomicU64,
                filter_words(self.cap_bits),
            )
        }
    }

    fn clear_filter(&mut self) {
        for w in self.filter() {
            w.store(0, Ordering::Relaxed);
        }
        self.filter_sets = 0;
    }

    /// Recomputes the write-page filter from the live entries, dropping the bits of
    /// evicted ones (see the module documentation for why concurrent sweeps stay safe).
    fn rebuild_filter(&mut self, scratch: &mut Vec<u64>) {
        let words = filter_words(self.cap_bits);
        scratch.clear();
        scratch.resize(words, 0);
        for i in 0..self.n() {
            let (e, f) = self.slot(i);
            // SAFETY: `i < n()`: initialised records of our table; other threads only OR
            // flags into the write tag, so it is read atomically.
            let (tag, full) = unsafe { ((*e).addr_write, &*f) };
            if full.valid && is_ram_write_tag(tag) {
                let (w, bit) = filter_bit(full.paddr_page, self.cap_bits);
                scratch[w] |= bit;
            }
        }
        for (w, &v) in self.filter().iter().zip(scratch.iter()) {
            w.store(v, Ordering::SeqCst);
        }
        self.filter_sets = 0;
    }

    fn full(&self, i: usize) -> &TlbFull {
        // SAFETY: `i < n()` (callers index with `tlb_index(_, bits)` or loop below n());
        // the first n() records are initialised whenever the table is in use.
        unsafe { &*self.fulls().add(i) }
    }

    fn publish(&self) {
        let w = self.mem as usize | self.bits as usize | (self.cap_bits as usize) << WORD_CAP_SHIFT;
        self.word.store(w, Ordering::SeqCst);
    }

    fn fast(&self) -> TlbFast {
        TlbFast {
            mask: TlbFast::mask_of(self.bits),
            table: self.entries(),
        }
    }

    /// Makes entries `[from, to)` empty.
    fn clear_range(&mut self, from: usize, to: usize) {
        for i in from..to {
            let (e, f) = self.slot(i);
            // SAFETY: `i` is below the capacity; the memory is ours (other threads only
            // OR flags into valid write tags, see the module documentation).
            unsafe {
                e.write(TlbEntry::EMPTY);
                f.write(TlbFull::EMPTY);
            }
        }
    }

    /// Allocates (first use) and empties the table, shrinking it to twice its peak use.
    fn reset(&mut self, stats: &mut TlbStats) {
        if self.mem.is_null() {
            let layout = table_layout(TLB_MIN_BITS);
            // SAFETY: the layout has a non-zero size.
            let mem = unsafe { alloc(layout) };
            if mem.is_null() {
                handle_alloc_error(layout);
            }
            self.mem = mem;
            self.cap_bits = TLB_MIN_BITS;
            self.bits = TLB_MIN_BITS;
            self.clear_range(0, self.n());
            self.clear_filter();
        } else {
            if self.live > 0 || self.word.load(Ordering::Relaxed) == 0 {
                self.clear_range(0, self.n());
            }
            self.clear_filter();
            let want = (2 * self.peak.max(1)).next_power_of_two().trailing_zeros();
            let bits = want.clamp(TLB_MIN_BITS, self.bits);
            if bits < self.bits {
                stats.shrinks += 1;
                self.bits = bits;
            }
        }
        self.live = 0;
        self.peak = 0;
        self.evictions = 0;
        self.probe_log2 = PAGE_BITS;
        self.blocks = Blocks::EMPTY;
        self.publish();
    }

    /// Invalidates the entries of every ASID but the global ones (nG = 0).
    fn drop_non_global(&mut self) {
        let mut left = self.live;
        for i in 0..self.n() {
            if left == 0 {
                break;
            }
            let f = *self.full(i);
            if f.valid {
                left -= 1;
                if !f.global {
                    self.drop_entry(i);
                }
            }
        }
        self.evictions = 0;
    }

    /// Invalidates entry `i`.
    fn drop_entry(&mut self, i: usize) {
        let (e, f) = self.slot(i);
        // SAFETY: as in `clear_range`.
        unsafe {
            e.write(TlbEntry::EMPTY);
            f.write(TlbFull::EMPTY);
        }
        self.live = self.live.saturating_sub(1);
    }

    /// Doubles the table, moving each entry to its index in the larger table.
    fn grow(&mut self, phys: Option<&PhysMap>, stats: &mut TlbStats) {
        let old_n = self.n();
        let (old_entries, old_fulls) = (self.entries(), self.fulls());
        let new_bits = self.bits + 1;
        if new_bits > self.cap_bits {
            let layout = table_layout(new_bits);
            // SAFETY: the layout has a non-zero size.
            let mem = unsafe { alloc(layout) };
            if mem.is_null() {
                // No memory to grow into: keep the table as it is.
                return;
            }
            let old_filter = self.filter().as_ptr();
            let old_words = filter_words(self.cap_bits);
            self.old.push((self.mem, self.cap_bits));
            self.mem = mem;
            self.cap_bits = new_bits;
            self.bits = new_bits;
            self.clear_range(0, self.n());
            // Each page's bit at the old capacity is one of its two places at the new one.
            let filter = self.filter();
            for k in 0..old_words {
                // SAFETY: the old allocation is kept (`old`) and its filter initialised.
                let v = unsafe { (*old_filter.add(k)).load(Ordering::Relaxed) };
                filter[k].store(v, Ordering::Relaxed);
                filter[k + old_words].store(v, Ordering::Relaxed);
            }
        } else {
            self.bits = new_bits;
            self.clear_range(old_n, self.n());
        }
        // Published before any entry moves in (see the module documentation).
        self.publish();
        stats.grows += 1;
        self.evictions = 0;
        let moved_in_place = old_entries == self.entries();
        for i in 0..old_n {
            // SAFETY: `i < old_n`, within the old table, whose records are initialised.
            let (oe, of) = unsafe { (*old_entries.add(i), *old_fulls.add(i)) };
            if !of.valid {
                continue;
            }
            let j = tlb_index(of.vaddr_page, new_bits);
            if moved_in_place && j == i {
                continue;
            }
            let (e, f) = self.slot(j);
            // SAFETY: `j < n()`; our own table. The write tag goes in last, like a fill.
            unsafe {
                e.write(TlbEntry {
                    addr_write: TLB_EMPTY,
                    ..oe
                });
                f.write(of);
                let ram = phys.and_then(|p| p.ram_block(of.paddr_page));
                fill_write_tag(e, f, of.paddr_page, oe.addr_write, ram);
            }
            if moved_in_place {
                let (e, f) = self.slot(i);
                // SAFETY: as in `clear_range`.
                unsafe {
                    e.write(TlbEntry::EMPTY);
                    f.write(TlbFull::EMPTY);
                }
            }
        }
    }

    /// Invalidates the entries translating `va` (VA[55:12] compared) that `drop_it`
    /// accepts; returns whether the whole table was scanned.
    fn flush_va(&mut self, va: u64, drop_it: impl Fn(&TlbFull) -> bool) -> bool {
        let covers = |f: &TlbFull| {
            let size_mask = (1u64 << f.size_log2.min(63)) - 1;
            f.valid && (f.vaddr_page ^ va) & VA_PAGE & !size_mask == 0
        };
        // Pages up to 64 KiB: each 4 KiB index of the largest such page around `va`.
        let span = self.probe_log2;
        let base = va & !((1u64 << span) - 1);
        for k in 0..1u64 << (span - PAGE_BITS) {
            let i = tlb_index(base + (k << PAGE_BITS), self.bits);
            let f = *self.full(i);
            if covers(&f) && drop_it(&f) {
                self.drop_entry(i);
            }
        }
        let Some(size_log2) = self.blocks.largest_at(va & VA_MASK) else {
            return false;
        };
        // The 4 KiB pages of the largest block that can hold `va`, or the whole table if
        // it has fewer entries.
        let pages_log2 = size_log2 - PAGE_BITS;
        let scan = pages_log2 >= self.bits;
        let (first, count) = if scan {
            (0, self.n())
        } else {
            (
                (va & !((1u64 << size_log2) - 1)) >> PAGE_BITS,
                1usize << pages_log2,
            )
        };
        for k in 0..count {
            let i = if scan {
                k
            } else {
                tlb_index((first + k as u64) << PAGE_BITS, self.bits)
            };
            let f = *self.full(i);
            if f.size_log2 as u32 > PROBE_MAX_LOG2 && covers(&f) && drop_it(&f) {
                self.drop_entry(i);
            }
        }
        scan
    }
}

/// The VA[55:0] ranges a table's block entries (mappings larger than `PROBE_MAX_LOG2`)
/// come from: a few inclusive intervals, each with the largest block size in it. A block
/// touching an interval extends it; with all intervals taken, the nearest one grows to
/// cover the block. (A single interval would be too coarse: Linux's kernel image and its
/// vmemmap are mapped with blocks, and the fixmap page between them is flushed often.)
#[derive(Clone, Copy)]
struct Blocks {
    n: usize,
    r: [(u64, u64, u32); BLOCK_RANGES],
}

const BLOCK_RANGES: usize = 8;
/// VA[55:0]: the bits a TLBI by VA names.
const VA_MASK: u64 = (1 << 56) - 1;

impl Blocks {
    const EMPTY: Blocks = Blocks {
        n: 0,
        r: [(0, 0, 0); BLOCK_RANGES],
    };

    /// Records the block `[lo, hi]` of `2^size_log2` bytes.
    fn add(&mut self, lo: u64, hi: u64, size_log2: u32) {
        let touches =
            |&(a, b, _): &(u64, u64, u32)| lo <= b.saturating_add(1) && a <= hi.saturating_add(1);
        let gap = |&(a, b, _): &(u64, u64, u32)| if lo > b { lo - b } else { a.saturating_sub(hi) };
        let used = &mut self.r[..self.n];
        let i = match used.iter().position(touches) {
            Some(i) => i,
            None if self.n < BLOCK_RANGES => {
                self.r[self.n] = (lo, hi, size_log2);
                self.n += 1;
                return;
            }
            None => (0..used.len()).min_by_key(|&i| gap(&used[i])).unwrap_or(0),
        };
        let r = &mut self.r[i];
        *r = (r.0.min(lo), r.1.max(hi), r.2.max(size_log2));
    }

    /// The largest block size among the intervals holding `v`, if any.
    fn largest_at(&self, v: u64) -> Option<u32> {
        self.r[..self.n]
            .iter()
            .filter(|&&(a, b, _)| a <= v && v <= b)
            .map(|&(_, _, s)| s)
            .max()
    }
}

struct Slot {
    /// The ASID whose entries this slot holds, `NO_ASID` if free.
    asid: u32,
    last_use: u64,
}

/// The TLB of one vCPU. `#[repr(C)]` with `fast` first: generated code reads it at
/// `layout::ENV_TLB` from the env.
#[repr(C)]
pub struct Tlb {
    pub fast: [TlbFast; MODES],
    tables: [[Table; MODES]; SLOTS],
    slots: [Slot; SLOTS],
    cur: usize,
    asid: u16,
    clock: u64,
    pub stats: TlbStats,
    /// Scratch words for `Table::rebuild_filter`.
    filter_scratch: Vec<u64>,
}

impl Tlb {
    /// Empty tables for ASID 0.
    pub fn new() -> Tlb {
        let mut t = Tlb {
            fast: [TlbFast {
                mask: 0,
                table: std::ptr::null_mut(),
            }; MODES],
            tables: std::array::from_fn(|_| std::array::from_fn(|_| Table::unused())),
            slots: std::array::from_fn(|_| Slot {
                asid: NO_ASID,
                last_use: 0,
            }),
            cur: 0,
            asid: 0,
            clock: 0,
            stats: TlbStats::default(),
            filter_scratch: Vec::new(),
        };
        t.assign(0, 0);
        t
    }

    /// The ASID whose entries the fast path sees.
    pub fn asid(&self) -> u16 {
        self.asid
    }

    /// Number of entries of the current table of `mmu`.
    pub fn size(&self, mmu: usize) -> usize {
        self.tables[self.cur][mmu % MODES].n()
    }

    /// Gives slot `s` to `asid`, emptied, and makes it current.
    fn assign(&mut self, s: usize, asid: u16) {
        for t in self.tables[s].iter_mut() {
            t.reset(&mut self.stats);
        }
        self.slots[s].asid = asid as u32;
        self.make_current(s);
    }

    fn make_current(&mut self, s: usize) {
        self.cur = s;
        self.clock += 1;
        self.slots[s].last_use = self.clock;
        self.refresh_fast();
    }

    fn refresh_fast(&mut self) {
        for m in 0..MODES {
            self.fast[m] = self.tables[self.cur][m].fast();
        }
    }

    /// Makes `asid` current: its slot's entries (and global ones filled under it) become
    /// visible; others' stay kept but unseen. No flush.
    pub fn set_asid(&mut self, asid: u16) {
        if asid == self.asid {
            return;
        }
        self.asid = asid;
        self.stats.asid_switches += 1;
        if let Some(s) = self.slots.iter().position(|s| s.asid == asid as u32) {
            self.make_current(s);
            return;
        }
        if let Some(s) = self.slots.iter().position(|s| s.asid == NO_ASID) {
            self.assign(s, asid);
            return;
        }
        // Take the least recently used ASID's slot, keeping its global entries: they are
        // valid for the new ASID too (a new process starts with the kernel's entries).
        self.stats.slot_evictions += 1;
        let s = (0..SLOTS)
            .filter(|&s| s != self.cur)
            .min_by_key(|&s| self.slots[s].last_use)
            .unwrap_or(0);
        for t in self.tables[s].iter_mut() {
            t.drop_non_global();
        }
        self.slots[s].asid = asid as u32;
        self.make_current(s);
    }

    /// Where the entry for `vaddr` of `mmu` (the current ASID's table) is to be filled,
    /// growing the table first if fills keep evicting entries. `size_log2` is the size of
    /// the mapping the entry will come from. The caller writes both records (the write
    /// tag through `tlb::fill_write_tag`).
    pub(crate) fn prepare_fill(
        &mut self,
        mmu: usize,
        vaddr: u64,
        size_log2: u32,
        phys: Option<&PhysMap>,
    ) -> (*mut TlbEntry, *mut TlbFull) {
        let mmu = mmu % MODES;
        let cur = self.cur;
        let t = &mut self.tables[cur][mmu];
        let mut i = tlb_index(vaddr, t.bits);
        let f = *t.full(i);
        if f.valid && (f.vaddr_page ^ vaddr) & PAGE_MASK != 0 {
            self.stats.evictions += 1;
            t.evictions += 1;
            if t.evictions as usize >= t.n() / 2 && t.bits < TLB_MAX_BITS {
                t.grow(phys, &mut self.stats);
                i = tlb_index(vaddr, t.bits);
                self.fast[mmu] = t.fast();
            }
        }
        if !t.full(i).valid {
            t.live += 1;
            t.peak = t.peak.max(t.live);
        }
        if size_log2 > PROBE_MAX_LOG2 {
            let size_log2 = size_log2.min(55);
            let mask = (1u64 << size_log2) - 1;
            let v = vaddr & VA_MASK;
            t.blocks.add(v & !mask, v | mask, size_log2);
        } else {
            t.probe_log2 = t.probe_log2.max(size_log2);
        }
        t.slot(i)
    }

    /// On a miss for `vaddr` in MMU index `mmu`: if another slot holds a global entry for
    /// the page whose tag `usable` accepts, copies it into the current table (a global
    /// entry is a cached translation valid under every ASID, and a TLBI naming it would
    /// have dropped it from every slot) and returns true; a page walk is then not needed.
    pub(crate) fn copy_global(
        &mut self,
        mmu: usize,
        vaddr: u64,
        usable: impl Fn(&TlbEntry) -> bool,
        phys: Option<&PhysMap>,
    ) -> bool {
        let mmu = mmu % MODES;
        let found = (0..SLOTS)
            .filter(|&s| s != self.cur && self.slots[s].asid != NO_ASID)
            .find_map(|s| {
                let t = &self.tables[s][mmu];
                let (e, f) = t.slot(tlb_index(vaddr, t.bits));
                // SAFETY: records of a table in use, initialised; ours.
                let (e, f) = unsafe { (*e, *f) };
                let hit = f.valid && f.global && (f.vaddr_page ^ vaddr) & PAGE_MASK == 0;
                (hit && usable(&e)).then_some((e, f))
            });
        let Some((src, full)) = found else {
            return false;
        };
        self.stats.global_copies += 1;
        let (e, f) = self.prepare_fill(mmu, vaddr, full.size_log2 as u32, phys);
        // SAFETY: `prepare_fill` returned records of the current table. The write tag
        // goes in last, like a fill's.
        unsafe {
            e.write(TlbEntry {
                addr_write: TLB_EMPTY,
                ..src
            });
            f.write(full);
            let ram = phys.and_then(|p| p.ram_block(full.paddr_page));
            if ram.is_some() && is_ram_write_tag(src.addr_write) {
                self.note_write_page(mmu, full.paddr_page);
            }
            fill_write_tag(e, f, full.paddr_page, src.addr_write, ram);
        }
        true
    }

    /// Before a fill of the current table of `mmu` puts in a writable RAM tag for physical
    /// page `paddr_page`: sets the page's bit in the table's write-page filter, so code-page
    /// sweeps look at the table (see the module documentation).
    pub(crate) fn note_write_page(&mut self, mmu: usize, paddr_page: u64) {
        let t = &mut self.tables[self.cur][mmu % MODES];
        let (w, bit) = filter_bit(paddr_page, t.cap_bits);
        // Ordered before the fill's write tag (SeqCst): pairs with the sweep's load.
        if t.filter()[w].fetch_or(bit, Ordering::SeqCst) & bit == 0 {
            t.filter_sets += 1;
            if t.filter_sets as usize > t.n() / 4 {
                // The new entry's write tag is not in yet: its bit goes back in below.
                t.rebuild_filter(&mut self.filter_scratch);
                self.stats.filter_rebuilds += 1;
                t.filter()[w].fetch_or(bit, Ordering::SeqCst);
            }
        }
    }

    /// Entry and slow-path record for `vaddr` in the current table of `mmu`.
    pub(crate) fn slot_of(&self, mmu: usize, vaddr: u64) -> (*mut TlbEntry, *mut TlbFull) {
        let t = &self.tables[self.cur][mmu % MODES];
        t.slot(tlb_index(vaddr, t.bits))
    }

    /// Carries out a TLB invalidation on this vCPU.
    pub fn flush(&mut self, op: TlbFlush) {
        let stats = &mut self.stats;
        match op {
            TlbFlush::All => {
                stats.flush_all += 1;
                for s in 0..SLOTS {
                    if s == self.cur {
                        for t in self.tables[s].iter_mut() {
                            t.reset(stats);
                        }
                    } else if self.slots[s].asid != NO_ASID {
                        // Emptied when next given out; unseen by sweeps meanwhile.
                        self.slots[s].asid = NO_ASID;
                        for t in self.tables[s].iter() {
                            t.word.store(0, Ordering::SeqCst);
                        }
                    }
                }
                self.slots[self.cur].asid = self.asid as u32;
                self.refresh_fast();
            }
            TlbFlush::Asid(asid) => {
                stats.flush_asid += 1;
                if let Some(s) = self.slots.iter().position(|s| s.asid == asid as u32) {
                    for t in self.tables[s].iter_mut() {
                        t.drop_non_global();
                    }
                    if s != self.cur {
                        // Likely a process that exited: first to be reused.
                        self.slots[s].last_use = 0;
                    }
                }
            }
            TlbFlush::Page { vaddr, asid } => {
                stats.flush_page += 1;
                for s in 0..SLOTS {
                    let slot_asid = self.slots[s].asid;
                    if slot_asid == NO_ASID {
                        continue;
                    }
                    let mine = asid.is_none_or(|a| a as u32 == slot_asid);
                    for t in self.tables[s].iter_mut().filter(|t| t.live > 0) {
                        if t.flush_va(vaddr, |f| mine || f.global) {
                            stats.flush_page_scans += 1;
                        }
                    }
                }
            }
        }
    }
}

impl Default for Tlb {
    fn default() -> Tlb {
        Tlb::new()
    }
}

impl Drop for Tlb {
    fn drop(&mut self) {
        if std::env::var_os("SOFTMMU_TLB_STATS").is_some() {
            eprintln!("softmmu: TLB {}", self.stats);
        }
        for t in self.tables.iter_mut().flatten() {
            for (mem, cap) in t.old.drain(..).chain(Some((t.mem, t.cap_bits))) {
                if !mem.is_null() {
                    // SAFETY: allocated in `reset`/`grow` with this layout; the env (and
                    // every sweep of it) is gone.
                    unsafe { dealloc(mem, table_layout(cap)) };
                }
            }
        }
    }
}

/// Calls `f(entries, fulls, n)` for every table of `env` currently published that may
/// hold a writable entry for physical page `paddr_page` (its write-page filter bit is set).
///
/// # Safety
/// `env` must point at a live `EnvHead` for the whole call. `f` may only access the
/// records atomically as `tlb::tlb_protect_code_page` does.
pub(crate) unsafe fn for_each_table_writing(
    env: *mut crate::EnvHead,
    paddr_page: u64,
    mut f: impl FnMut(*mut TlbEntry, *mut TlbFull, usize),
) {
    for s in 0..SLOTS {
        for m in 0..MODES {
            // SAFETY: caller contract; only the atomic word is referenced.
            let word = unsafe { &*std::ptr::addr_of!((*env).tlb.tables[s][m].word) };
            let w = word.load(Ordering::SeqCst);
            if w == 0 {
                continue;
            }
            let bits = (w & WORD_BITS_MASK) as u32;
            let cap = ((w >> WORD_CAP_SHIFT) & WORD_BITS_MASK) as u32;
            let entries = (w & !(TABLE_ALIGN - 1)) as *mut TlbEntry;
            let fulls =
                entries.wrapping_byte_add(std::mem::size_of::<TlbEntry>() << cap) as *mut TlbFull;
            let (k, bit) = filter_bit(paddr_page, cap);
            let filter = entries.wrapping_byte_add(filter_offset(cap)) as *const AtomicU64;
            // SAFETY: the published allocation (kept while the env lives) has
            // `filter_words(cap)` initialised words after its records, and `k` is below.
            if unsafe { (*filter.add(k)).load(Ordering::SeqCst) } & bit == 0 {
                continue;
            }
            f(entries, fulls, 1 << bits);
        }
    }
}
