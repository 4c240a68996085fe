//! The translation-block cache: one global map shared by every vCPU (lock-free lookups,
//! compare-and-swap insertion, whole-table flush by generation), an index of the TBs by
//! physical page (self-modifying code), and the per-vCPU jump cache.
//!
//! # Self-modifying code
//!
//! Every TB is indexed under the physical page of its code (`key.phys_pc`; a TB never
//! crosses a guest page). A write to guest memory holding code ends in
//! [`TbCache::invalidate_phys_range`], which invalidates the TBs whose bytes it overlaps.
//! The race with a translation of the same bytes running concurrently on another vCPU is
//! closed by registering the translation first ([`TbCache::begin_translation`], under the
//! page's lock, before the page is marked as code and the guest code is read):
//!
//! * a write whose invalidation takes the page lock *before* the registration is already
//!   in memory when the translator reads the code (lock release/acquire);
//! * one that takes it *after* finds the registration and, if it overlaps the bytes the
//!   translation may read (anywhere in the page: the translator looks at the code
//!   branches go to, before the block's start too), marks it stale;
//!   [`TbCache::finish_translation`] then does not insert the TB but returns it invalid
//!   (the loop may run it once: the write and the fetch were concurrent, so the guest
//!   cannot tell that apart from running just before the write).
//!
//! The page's code bit (in the `PhysMap`) is cleared, under the same lock, only when the
//! page has neither TBs nor translations in flight.
//!
//! Windows this does not close (QEMU has the first too). Both need a store to the bytes
//! that overlaps the translation in time, and then leave a stale TB cached until the next
//! write to those bytes or a flush:
//!
//! * generated code on another vCPU loaded a clean write tag (fast path) just before the
//!   marking sweep set `TLB_NOTDIRTY` in it, and its store lands after the translator read
//!   the bytes (a few host instructions wide, unless the host preempts that thread there);
//! * a 128-bit compare-and-swap through `softmmu::slow::host_ptr_for_rmw` invalidates
//!   before it writes, unless its caller also calls `softmmu::slow::rmw_write_done`.
//!
//! Writes invalidate only the TBs overlapping the bytes written (and keep the page marked
//! while other TBs remain), so a page mixing code and written data costs slow-path stores,
//! not retranslations.

use crate::cpu::TbKey;
use arc_swap::{ArcSwap, ArcSwapOption};
use softmmu::layout::{PAGE_MASK, PAGE_SIZE};
use softmmu::PhysMap;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tcg_ir::CompiledTb;

/// One translated and compiled block.
pub struct Tb {
    pub key: TbKey,
    pub code: Arc<dyn CompiledTb>,
    /// Guest bytes covered from the start.
    pub size: u32,
    /// Guest bytes before the start covered too (see `Translation::before`).
    pub before: u32,
    /// Guest instructions in the block.
    pub insns: u32,
    /// Host address of the guest code (its RAM), 0 if unknown: names it in the env's
    /// jump cache.
    pub host_pc: u64,
    invalid: AtomicBool,
}

impl Tb {
    pub fn new(key: TbKey, code: Arc<dyn CompiledTb>, size: u32, insns: u32) -> Tb {
        Tb {
            key,
            code,
            size,
            before: 0,
            insns,
            host_pc: 0,
            invalid: AtomicBool::new(false),
        }
    }

    /// The TB with the host address of its guest code set.
    pub fn with_host_pc(mut self, host_pc: u64) -> Tb {
        self.host_pc = host_pc;
        self
    }

    /// The TB also covering `before` bytes before its start.
    pub fn with_before(mut self, before: u32) -> Tb {
        self.before = before;
        self
    }

    /// The physical range `[start, end)` of guest bytes the TB depends on.
    #[inline]
    pub fn span(&self) -> (u64, u64) {
        let s = self.key.phys_pc;
        (
            s.saturating_sub(self.before as u64),
            s.saturating_add(self.size.max(1) as u64),
        )
    }

    /// `backend.direct_entry(&self.code)`. Not remembered: it changes when a tiered TB
    /// moves from its cold code to its hot code (asked only after a jump-cache miss).
    #[inline]
    pub fn direct_entry(&self, backend: &dyn tcg_ir::Backend) -> Option<(u64, u64)> {
        backend.direct_entry(&*self.code)
    }

    /// Marks the TB dead: no lookup returns it again (jump caches check this flag).
    pub fn invalidate(&self) {
        self.invalid.store(true, Ordering::Release);
    }

    /// The physical page of the TB's code.
    #[inline]
    pub fn phys_page(&self) -> u64 {
        self.key.phys_pc & PAGE_MASK
    }

    /// Whether the TB's guest bytes overlap the physical range `[start, end)`.
    #[inline]
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        let (s, e) = self.span();
        s < end && start < e
    }

    #[inline]
    pub fn is_invalid(&self) -> bool {
        self.invalid.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for Tb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tb")
            .field("key", &self.key)
            .field("size", &self.size)
            .field("insns", &self.insns)
            .field("invalid", &self.is_invalid())
            .finish()
    }
}

/// An immutable link of a bucket chain; a chain is replaced, never edited in place.
struct Node {
    tb: Arc<Tb>,
    next: Option<Arc<Node>>,
}

/// One generation of the map: a fixed power-of-two array of chain heads.
struct Table {
    /// Dropped by hand (see `Drop`): most never hold a TB.
    buckets: Box<[ManuallyDrop<ArcSwapOption<Node>>]>,
    /// Bit `i`: bucket `i` was given a TB at some point (the others own nothing).
    used: Box<[AtomicU64]>,
}

impl Drop for Table {
    /// Dropping an `ArcSwap` scans every thread's debt slots for readers of its value,
    /// and even loading one to see it is empty costs a debt-list visit: for 2^18
    /// buckets, a millisecond or more at every exit and cache flush (12 % of a bare-metal
    /// hello). Only the buckets that were ever given a TB are dropped; the others own
    /// nothing and are left undropped (their storage is freed with the box).
    fn drop(&mut self) {
        for (w, word) in self.used.iter().enumerate() {
            let mut bits = word.load(Ordering::Relaxed);
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if let Some(b) = self.buckets.get_mut(i) {
                    // SAFETY: each used bucket is dropped once, here, and the table
                    // (being dropped) never touches it again.
                    unsafe { ManuallyDrop::drop(b) };
                }
            }
        }
    }
}

impl Table {
    fn new(bits: u32) -> Table {
        let n = 1usize << bits;
        Table {
            buckets: (0..n)
                .map(|_| ManuallyDrop::new(ArcSwapOption::empty()))
                .collect(),
            used: (0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    #[inline]
    fn index(&self, key: &TbKey, pcrel: bool) -> usize {
        hash_key(key, pcrel) as usize & (self.buckets.len() - 1)
    }

    #[inline]
    fn bucket(&self, key: &TbKey, pcrel: bool) -> &ArcSwapOption<Node> {
        &self.buckets[self.index(key, pcrel)]
    }

    /// Bucket `i` holds a TB now (see `used`).
    fn mark_used(&self, i: usize) {
        if let Some(w) = self.used.get(i / 64) {
            w.fetch_or(1 << (i % 64), Ordering::Relaxed);
        }
    }
}

#[inline]
fn hash_key(key: &TbKey, pcrel: bool) -> u64 {
    // A cheap multiplicative mix; PCs are 4-byte aligned and clustered.
    let vpc = if pcrel { 0 } else { key.pc >> 2 };
    let h = key.phys_pc.rotate_left(17) ^ vpc ^ ((key.flags as u64) << 40);
    let h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 29)
}

/// Result of [`TbCache::insert`] and [`TbCache::finish_translation`].
pub enum Inserted {
    /// The TB given was inserted.
    New(Arc<Tb>),
    /// Another thread inserted a TB with the same key first; this is it.
    Existing(Arc<Tb>),
    /// The guest wrote to the TB's code while it was translated: the TB given was not
    /// inserted and is invalid (run it at most once, never cache or chain it).
    Stale(Arc<Tb>),
}

impl Inserted {
    pub fn tb(self) -> Arc<Tb> {
        match self {
            Inserted::New(t) | Inserted::Existing(t) | Inserted::Stale(t) => t,
        }
    }
}

/// A translation registered with [`TbCache::begin_translation`]; hand it back to
/// [`TbCache::finish_translation`] or [`TbCache::cancel_translation`].
#[must_use = "finish or cancel the translation, or its page stays marked as code"]
#[derive(Debug)]
pub struct PendingTranslation {
    phys_pc: u64,
    id: u64,
}

/// A translation in flight on a page, and whether a write hit the bytes it may read.
struct InFlight {
    id: u64,
    stale: bool,
}

/// What the page index knows about one physical page.
#[derive(Default)]
struct PageTbs {
    tbs: Vec<Arc<Tb>>,
    in_flight: Vec<InFlight>,
    /// Bit `g`: some TB in `tbs` may hold bytes of the page's 64-byte granule `g` (a
    /// superset: bits of removed TBs go only when the list is filtered). A write outside
    /// these granules, with no translation in flight, invalidates nothing, which keeps
    /// data stores next to code (literal pools, a bare-metal program's variables) cheap.
    granules: u64,
}

impl PageTbs {
    fn is_empty(&self) -> bool {
        self.tbs.is_empty() && self.in_flight.is_empty()
    }

    fn push(&mut self, tb: Arc<Tb>) {
        self.granules |= granules_of_tb(&tb);
        self.tbs.push(tb);
    }

    fn recompute_granules(&mut self) {
        self.granules = self.tbs.iter().fold(0, |m, t| m | granules_of_tb(t));
    }
}

/// The granules of its page a TB depends on.
fn granules_of_tb(tb: &Tb) -> u64 {
    let (s, e) = tb.span();
    granules_of(s, e - s)
}

/// The 64-byte granules of its page that `[start, start + len)` touches (clipped to the
/// page of `start`).
fn granules_of(start: u64, len: u64) -> u64 {
    let first = (start & !PAGE_MASK) >> 6;
    let last = ((start & !PAGE_MASK) + len.max(1) - 1).min(PAGE_SIZE - 1) >> 6;
    let upto = if last == 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    };
    upto & !((1u64 << first) - 1)
}

/// Log2 of the number of page-index shards (each its own lock).
const PAGE_SHARD_BITS: u32 = 6;

/// Page index maps, keyed by physical page address with a multiplicative hash (SipHash
/// showed up in profiles of stores to code pages).
type PageMap = HashMap<u64, PageTbs, BuildHasherDefault<PageHasher>>;

type Shard = Mutex<PageMap>;

/// Hashes one u64 (a page address) by a multiply and a fold of the high bits down.
#[derive(Default)]
struct PageHasher(u64);

impl Hasher for PageHasher {
    fn finish(&self) -> u64 {
        let h = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
}

/// The global TB map keyed by [`TbKey`], shared by all vCPUs.
pub struct TbCache {
    table: ArcSwap<Table>,
    /// Keys match without their virtual pc (`GuestCpu::PC_RELATIVE`).
    pcrel: bool,
    bits: u32,
    generation: AtomicU64,
    count: AtomicUsize,
    /// TBs and in-flight translations by physical page, sharded by page number.
    pages: Box<[Shard]>,
    next_id: AtomicU64,
}

impl Default for TbCache {
    fn default() -> Self {
        TbCache::new(TbCache::DEFAULT_BITS)
    }
}

impl TbCache {
    /// 256 Ki buckets (2 MiB): the table does not grow, and one gcc run alone translates
    /// about 270 000 TBs; with 64 Ki buckets the chains a lookup walks (a cache miss per
    /// node) made `lookup` 2 % of a userland profile.
    pub const DEFAULT_BITS: u32 = 18;

    /// A cache with `1 << bits` buckets.
    pub fn new(bits: u32) -> TbCache {
        Self::with_pc_relative(bits, false)
    }

    /// A cache with `1 << bits` buckets, for position-independent TBs if `pcrel` (see
    /// [`TbKey`]).
    pub fn with_pc_relative(bits: u32, pcrel: bool) -> TbCache {
        let bits = bits.clamp(1, 28);
        TbCache {
            table: ArcSwap::from_pointee(Table::new(bits)),
            pcrel,
            bits,
            generation: AtomicU64::new(0),
            count: AtomicUsize::new(0),
            pages: (0..1 << PAGE_SHARD_BITS)
                .map(|_| Mutex::new(PageMap::default()))
                .collect(),
            next_id: AtomicU64::new(0),
        }
    }

    /// The locked page-index shard of physical page `page`.
    fn shard(&self, page: u64) -> MutexGuard<'_, PageMap> {
        let i = ((page >> softmmu::layout::PAGE_BITS) as usize) & ((1 << PAGE_SHARD_BITS) - 1);
        self.pages[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bumped by every [`flush`](Self::flush); jump caches clear themselves when it moves.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// TBs currently in the map.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lock-free lookup of a valid TB.
    pub fn lookup(&self, key: &TbKey) -> Option<Arc<Tb>> {
        let table = self.table.load();
        let head = table.bucket(key, self.pcrel).load();
        let mut node = head.as_deref();
        while let Some(n) = node {
            if n.tb.key.same_tb(key, self.pcrel) && !n.tb.is_invalid() {
                return Some(n.tb.clone());
            }
            node = n.next.as_deref();
        }
        None
    }

    /// Inserts `tb` unless a valid TB with the same key is already there ("one wins"), and
    /// indexes it under its physical page.
    pub fn insert(&self, tb: Arc<Tb>) -> Inserted {
        let mut shard = self.shard(tb.phys_page());
        self.insert_indexed(&mut shard, tb)
    }

    /// `insert` with the page's shard locked (so an invalidation of the page cannot run
    /// between the map insertion and the indexing).
    fn insert_indexed(&self, shard: &mut PageMap, tb: Arc<Tb>) -> Inserted {
        let r = self.insert_map(tb);
        if let Inserted::New(t) = &r {
            shard.entry(t.phys_page()).or_default().push(t.clone());
        }
        r
    }

    fn insert_map(&self, tb: Arc<Tb>) -> Inserted {
        let table = self.table.load();
        let index = table.index(&tb.key, self.pcrel);
        let bucket = &table.buckets[index];
        let mut head = bucket.load_full();
        loop {
            let mut node = head.as_deref();
            while let Some(n) = node {
                if n.tb.key.same_tb(&tb.key, self.pcrel) && !n.tb.is_invalid() {
                    return Inserted::Existing(n.tb.clone());
                }
                node = n.next.as_deref();
            }
            let new = Arc::new(Node {
                tb: tb.clone(),
                next: head.clone(),
            });
            // Marked before it holds the TB: a table dropped after the swap drops it.
            table.mark_used(index);
            let prev = bucket.compare_and_swap(&head, Some(new));
            if ptr_eq(&prev, &head) {
                self.count.fetch_add(1, Ordering::Relaxed);
                return Inserted::New(tb);
            }
            head = arc_swap::Guard::into_inner(prev);
        }
    }

    /// Removes (and invalidates) the TB with `key`, if any. Returns whether one was found.
    ///
    /// This does not cut chains into the TB: use `Control::invalidate_tb` (which also
    /// calls `Backend::unchain`) when TBs may be chained.
    pub fn remove(&self, key: &TbKey) -> bool {
        !self.remove_tbs(key).is_empty()
    }

    /// Removes and invalidates every TB with `key`; returns them.
    pub fn remove_tbs(&self, key: &TbKey) -> Vec<Arc<Tb>> {
        let found = self.remove_map(key, |tb| tb.key.same_tb(key, self.pcrel));
        if !found.is_empty() {
            let page = key.phys_pc & PAGE_MASK;
            let mut shard = self.shard(page);
            if let Some(p) = shard.get_mut(&page) {
                p.tbs.retain(|t| !found.iter().any(|f| Arc::ptr_eq(f, t)));
                p.recompute_granules();
                if p.is_empty() {
                    shard.remove(&page);
                }
            }
        }
        found
    }

    /// Removes (and invalidates) the TBs of `key`'s bucket that `pick` selects.
    fn remove_map(&self, key: &TbKey, pick: impl Fn(&Arc<Tb>) -> bool) -> Vec<Arc<Tb>> {
        let table = self.table.load();
        let bucket = table.bucket(key, self.pcrel);
        loop {
            let head = bucket.load_full();
            let mut kept: Vec<Arc<Tb>> = Vec::new();
            let mut found: Vec<Arc<Tb>> = Vec::new();
            let mut node = head.as_deref();
            while let Some(n) = node {
                if pick(&n.tb) {
                    found.push(n.tb.clone());
                } else {
                    kept.push(n.tb.clone());
                }
                node = n.next.as_deref();
            }
            if found.is_empty() {
                return found;
            }
            // Chains are immutable: rebuild this one without the matches.
            let mut new_head: Option<Arc<Node>> = None;
            for tb in kept.into_iter().rev() {
                new_head = Some(Arc::new(Node { tb, next: new_head }));
            }
            let prev = bucket.compare_and_swap(&head, new_head);
            if ptr_eq(&prev, &head) {
                for tb in &found {
                    tb.invalidate();
                }
                self.count.fetch_sub(found.len(), Ordering::Relaxed);
                return found;
            }
        }
    }

    /// Drops every TB: swaps in an empty table, bumps the generation and invalidates the
    /// old TBs (so jump caches still holding them miss). Run it inside an exclusive
    /// section when code memory is to be reused afterwards.
    ///
    /// The page index forgets the TBs but keeps translations in flight (a vCPU that flushed
    /// because code memory was full compiles its translation again and finishes it). Code
    /// bits of pages left without TBs stay set until the next write to such a page clears
    /// them ([`invalidate_phys_range`](Self::invalidate_phys_range) on a page it has no
    /// entry for).
    pub fn flush(&self) {
        let old = self.table.swap(Arc::new(Table::new(self.bits)));
        self.count.store(0, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::AcqRel);
        for b in old.buckets.iter() {
            let mut node = b.load_full();
            while let Some(n) = node {
                n.tb.invalidate();
                node = n.next.clone();
            }
        }
        for s in self.pages.iter() {
            let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
            s.retain(|_, p| {
                p.tbs.clear();
                p.granules = 0;
                !p.in_flight.is_empty()
            });
        }
    }

    // --- self-modifying code ----------------------------------------------------------

    /// Registers a translation of the code at physical `phys_pc` that is about to read the
    /// guest code. Call it *before* marking the page as code and reading the code.
    pub fn begin_translation(&self, phys_pc: u64) -> PendingTranslation {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let page = phys_pc & PAGE_MASK;
        self.shard(page)
            .entry(page)
            .or_default()
            .in_flight
            .push(InFlight { id, stale: false });
        PendingTranslation { phys_pc, id }
    }

    /// Removes the registration `t` from its page; whether a write hit it (also when it is
    /// unknown: assume the worst).
    fn take_in_flight(shard: &mut PageMap, t: &PendingTranslation) -> bool {
        let Some(p) = shard.get_mut(&(t.phys_pc & PAGE_MASK)) else {
            return true;
        };
        match p.in_flight.iter().position(|f| f.id == t.id) {
            Some(i) => p.in_flight.swap_remove(i).stale,
            None => true,
        }
    }

    /// Forgets `page` if it has neither TBs nor translations, and unmarks it in `phys`.
    fn drop_if_empty(shard: &mut PageMap, page: u64, phys: Option<&PhysMap>) {
        if shard.get(&page).is_some_and(|p| p.is_empty()) {
            shard.remove(&page);
            if let Some(phys) = phys {
                phys.clear_code(page);
            }
        }
    }

    /// Ends the translation `t` with its TB: inserts it (as [`insert`](Self::insert)) unless
    /// a write hit the bytes it may have read since
    /// [`begin_translation`](Self::begin_translation); then it returns it invalid as
    /// [`Inserted::Stale`]. `phys` is the map whose code bit to clear if the page ends up
    /// with no TB.
    pub fn finish_translation(
        &self,
        t: PendingTranslation,
        tb: Arc<Tb>,
        phys: Option<&PhysMap>,
    ) -> Inserted {
        let page = t.phys_pc & PAGE_MASK;
        let mut shard = self.shard(page);
        let r = if Self::take_in_flight(&mut shard, &t) {
            tb.invalidate();
            Inserted::Stale(tb)
        } else {
            self.insert_indexed(&mut shard, tb)
        };
        Self::drop_if_empty(&mut shard, page, phys);
        r
    }

    /// Drops the translation `t` without a TB (it failed).
    pub fn cancel_translation(&self, t: PendingTranslation, phys: Option<&PhysMap>) {
        let page = t.phys_pc & PAGE_MASK;
        let mut shard = self.shard(page);
        Self::take_in_flight(&mut shard, &t);
        Self::drop_if_empty(&mut shard, page, phys);
    }

    /// Guest bytes `[paddr, paddr + len)` (within one page) were written: invalidates every
    /// TB whose code overlaps them (they stay reachable from nowhere: the map, lookups and
    /// jump caches skip them) and marks overlapping translations in flight stale. If the
    /// page is then left with no TB and no translation, its code bit in `phys` is cleared
    /// (so stores to it take the fast path again). Returns the TBs invalidated; the caller
    /// cuts the chains into them (`Backend::unchain`).
    pub fn invalidate_phys_range(
        &self,
        paddr: u64,
        len: u64,
        phys: Option<&PhysMap>,
    ) -> Vec<Arc<Tb>> {
        let page = paddr & PAGE_MASK;
        let end = paddr.saturating_add(len.max(1)).min(page + PAGE_SIZE);
        let mut hit: Vec<Arc<Tb>> = Vec::new();
        {
            let mut shard = self.shard(page);
            match shard.get_mut(&page) {
                None => {
                    if let Some(phys) = phys {
                        phys.clear_code(page);
                    }
                }
                Some(p)
                    if p.in_flight.is_empty()
                        && p.granules & granules_of(paddr, end - paddr) == 0 =>
                {
                    // No TB bytes there and nothing being translated: nothing to do.
                }
                Some(p) => {
                    for f in p.in_flight.iter_mut() {
                        // A translation may read anywhere in its page (see the module
                        // doc), and the write is in that page.
                        f.stale = true;
                    }
                    p.tbs.retain(|t| {
                        if t.is_invalid() {
                            false // removed from the map already (flush, `remove_tbs`)
                        } else if t.overlaps(paddr, end) {
                            t.invalidate();
                            hit.push(t.clone());
                            false
                        } else {
                            true
                        }
                    });
                    p.recompute_granules();
                    Self::drop_if_empty(&mut shard, page, phys);
                }
            }
        }
        // Tidy the map (lookups already skip them: they are invalid).
        for t in &hit {
            let removed = self.remove_map(&t.key, |n| Arc::ptr_eq(n, t));
            debug_assert!(removed.len() <= 1);
        }
        hit
    }

    /// Valid TBs indexed under physical page `paddr_page` (statistics and tests).
    pub fn tbs_on_page(&self, paddr_page: u64) -> usize {
        let page = paddr_page & PAGE_MASK;
        self.shard(page)
            .get(&page)
            .map_or(0, |p| p.tbs.iter().filter(|t| !t.is_invalid()).count())
    }
}

fn ptr_eq(a: &Option<Arc<Node>>, b: &Option<Arc<Node>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Log2 of the number of jump-cache entries.
pub const JC_BITS: u32 = 16;
const JC_SIZE: usize = 1 << JC_BITS;

/// A vCPU's direct-mapped cache virtual PC -> TB in front of the global map. Owned by the
/// vCPU's thread; no synchronisation.
pub struct JumpCache {
    entries: Box<[Option<Arc<Tb>>]>,
    generation: u64,
    /// Keys match without their virtual pc (`GuestCpu::PC_RELATIVE`).
    pcrel: bool,
}

impl Default for JumpCache {
    fn default() -> Self {
        JumpCache::new()
    }
}

impl JumpCache {
    pub fn new() -> JumpCache {
        Self::with_pc_relative(false)
    }

    /// For position-independent TBs if `pcrel` (see [`TbKey`]).
    pub fn with_pc_relative(pcrel: bool) -> JumpCache {
        JumpCache {
            entries: (0..JC_SIZE).map(|_| None).collect(),
            generation: 0,
            pcrel,
        }
    }

    #[inline]
    fn index(pc: u64) -> usize {
        ((pc >> 2) ^ (pc >> (2 + JC_BITS))) as usize & (JC_SIZE - 1)
    }

    /// Clears the cache if the global cache was flushed since the last call; returns
    /// whether it did.
    #[inline]
    pub fn sync(&mut self, cache: &TbCache) -> bool {
        let g = cache.generation();
        if g != self.generation {
            self.clear();
            self.generation = g;
            return true;
        }
        false
    }

    /// A valid TB for `key`.
    #[inline]
    pub fn lookup(&self, key: &TbKey) -> Option<&Arc<Tb>> {
        match &self.entries[Self::index(key.pc)] {
            Some(tb) if tb.key.same_tb(key, self.pcrel) && !tb.is_invalid() => Some(tb),
            _ => None,
        }
    }

    /// Remembers `tb` for execution at virtual `pc` (its key's pc, unless position
    /// independent).
    #[inline]
    pub fn insert(&mut self, pc: u64, tb: Arc<Tb>) {
        self.entries[Self::index(pc)] = Some(tb);
    }

    /// The TB-cache generation this jump cache was last synced to.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Drops the entry for virtual `pc`.
    pub fn invalidate_pc(&mut self, pc: u64) {
        self.entries[Self::index(pc)] = None;
    }

    pub fn clear(&mut self) {
        self.entries.iter_mut().for_each(|e| *e = None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nop;

    impl CompiledTb for Nop {
        unsafe fn exec(&self, _env: *mut u8) -> u64 {
            0
        }
        fn code_size(&self) -> usize {
            0
        }
    }

    fn key(pc: u64) -> TbKey {
        TbKey {
            pc,
            phys_pc: pc | 0x8000_0000,
            flags: 1,
        }
    }

    fn tb(pc: u64) -> Arc<Tb> {
        Arc::new(Tb::new(key(pc), Arc::new(Nop), 4, 1))
    }

    #[test]
    fn insert_lookup_one_wins_remove() {
        let c = TbCache::new(2); // tiny: long chains
        for pc in (0..100).map(|i| i * 4) {
            assert!(matches!(c.insert(tb(pc)), Inserted::New(_)));
        }
        assert_eq!(c.len(), 100);
        for pc in (0..100).map(|i| i * 4) {
            assert_eq!(c.lookup(&key(pc)).map(|t| t.key), Some(key(pc)));
        }
        assert!(c.lookup(&key(1000)).is_none());
        let other = TbKey { flags: 2, ..key(8) };
        assert!(c.lookup(&other).is_none());
        let first = c.lookup(&key(8)).unwrap();
        match c.insert(tb(8)) {
            Inserted::Existing(t) => assert!(Arc::ptr_eq(&t, &first)),
            Inserted::New(_) | Inserted::Stale(_) => panic!("duplicate inserted"),
        }
        assert!(c.remove(&key(8)));
        assert!(first.is_invalid());
        assert!(c.lookup(&key(8)).is_none());
        assert!(!c.remove(&key(8)));
        assert_eq!(c.len(), 99);
        assert!(c.lookup(&key(12)).is_some());
    }

    #[test]
    fn flush_invalidates_and_bumps_the_generation() {
        let c = TbCache::default();
        let t = c.insert(tb(0x40)).tb();
        let mut jc = JumpCache::new();
        jc.sync(&c);
        jc.insert(0x40, t.clone());
        assert!(jc.lookup(&key(0x40)).is_some());
        assert!(jc
            .lookup(&TbKey {
                phys_pc: 1,
                ..key(0x40)
            })
            .is_none());
        c.flush();
        assert!(t.is_invalid());
        assert!(jc.lookup(&key(0x40)).is_none(), "invalid TBs miss");
        assert!(c.lookup(&key(0x40)).is_none());
        assert!(c.is_empty());
        jc.sync(&c);
        assert_eq!(c.generation(), 1);
    }

    fn tb_at(pc: u64, phys_pc: u64, size: u32) -> Arc<Tb> {
        let key = TbKey {
            pc,
            phys_pc,
            flags: 0,
        };
        Arc::new(Tb::new(key, Arc::new(Nop), size, 1))
    }

    fn ram() -> PhysMap {
        let mut m = PhysMap::new();
        m.add_ram("ram", softmmu::PhysAddr(0x4000_0000), 0x10_0000)
            .unwrap();
        m
    }

    #[test]
    fn invalidation_by_physical_range() {
        let phys = ram();
        let c = TbCache::new(4);
        let page = 0x4000_3000;
        phys.mark_code(page, |_| {});
        // Two virtual aliases of the same bytes, a TB after them, one on another page.
        let a = c.insert(tb_at(0x1000, page + 0x10, 8)).tb();
        let b = c.insert(tb_at(0x9000, page + 0x10, 8)).tb();
        let d = c.insert(tb_at(0x1040, page + 0x40, 16)).tb();
        let other = c.insert(tb_at(0x2000, page + 0x1000, 4)).tb();
        assert_eq!(c.tbs_on_page(page), 3);
        // Bytes before, between and after the TBs: nothing.
        assert!(c.invalidate_phys_range(page, 0x10, Some(&phys)).is_empty());
        assert!(c
            .invalidate_phys_range(page + 0x18, 0x28, Some(&phys))
            .is_empty());
        assert!(c
            .invalidate_phys_range(page + 0x50, 0x100, Some(&phys))
            .is_empty());
        assert!(phys.is_code(page));
        // The last byte of the aliases.
        let hit = c.invalidate_phys_range(page + 0x17, 1, Some(&phys));
        assert_eq!(hit.len(), 2);
        assert!(a.is_invalid() && b.is_invalid() && !d.is_invalid());
        assert!(c.lookup(&a.key).is_none() && c.lookup(&b.key).is_none());
        assert_eq!(c.len(), 2, "removed from the map");
        assert!(phys.is_code(page), "d is still there");
        // The last TB goes: the page is unmarked.
        assert_eq!(
            c.invalidate_phys_range(page + 0x4c, 8, Some(&phys)).len(),
            1
        );
        assert!(d.is_invalid());
        assert!(!phys.is_code(page));
        assert_eq!(c.tbs_on_page(page), 0);
        assert!(!other.is_invalid());
        // A write to a marked page the index does not know unmarks it.
        phys.mark_code(page + 0x2000, |_| {});
        assert!(c
            .invalidate_phys_range(page + 0x2000, 4, Some(&phys))
            .is_empty());
        assert!(!phys.is_code(page + 0x2000));
    }

    #[test]
    fn granules_cover_exactly_the_touched_64_byte_blocks() {
        assert_eq!(granules_of(0x4000_3000, 1), 1);
        assert_eq!(granules_of(0x4000_303f, 2), 0b11);
        assert_eq!(granules_of(0x4000_3040, 0x40), 0b10);
        assert_eq!(granules_of(0x4000_3fc0, 0x40), 1 << 63);
        assert_eq!(granules_of(0x4000_3000, 0x1000), u64::MAX);
        // Clipped to the page.
        assert_eq!(granules_of(0x4000_3ff0, 0x100), 1 << 63);
    }

    #[test]
    fn writes_to_other_granules_leave_tbs_and_the_code_mark() {
        let phys = ram();
        let c = TbCache::new(4);
        let page = 0x4000_7000;
        phys.mark_code(page, |_| {});
        let a = c.insert(tb_at(0x1000, page + 0x100, 0x20)).tb();
        assert!(c
            .invalidate_phys_range(page + 0x800, 8, Some(&phys))
            .is_empty());
        assert!(!a.is_invalid() && phys.is_code(page));
        // The granule of the TB, bytes just after it: nothing either.
        assert!(c
            .invalidate_phys_range(page + 0x120, 8, Some(&phys))
            .is_empty());
        assert_eq!(
            c.invalidate_phys_range(page + 0x11f, 1, Some(&phys)).len(),
            1
        );
        assert!(a.is_invalid() && !phys.is_code(page));
    }

    #[test]
    fn bytes_before_a_tb_it_depends_on_invalidate_it() {
        let phys = ram();
        let c = TbCache::new(4);
        let page = 0x4000_6000;
        phys.mark_code(page, |_| {});
        let key = TbKey {
            pc: 0x200,
            phys_pc: page + 0x200,
            flags: 0,
        };
        // Covers [0x180, 0x210): it looked at a branch target 0x80 bytes back.
        let a = c
            .insert(Arc::new(
                Tb::new(key, Arc::new(Nop), 0x10, 4).with_before(0x80),
            ))
            .tb();
        assert_eq!(a.span(), (page + 0x180, page + 0x210));
        assert!(c
            .invalidate_phys_range(page + 0x17c, 4, Some(&phys))
            .is_empty());
        assert!(c
            .invalidate_phys_range(page + 0x210, 4, Some(&phys))
            .is_empty());
        assert_eq!(
            c.invalidate_phys_range(page + 0x180, 4, Some(&phys)).len(),
            1
        );
        assert!(a.is_invalid() && !phys.is_code(page));
    }

    #[test]
    fn translations_in_flight() {
        let phys = ram();
        let c = TbCache::new(4);
        let page = 0x4000_5000;
        // A write to another page does not affect a translation ...
        let t = c.begin_translation(page + 0x100);
        phys.mark_code(page, |_| {});
        assert!(c
            .invalidate_phys_range(page + 0x1000, 4, Some(&phys))
            .is_empty());
        assert!(phys.is_code(page), "kept while a translation is in flight");
        let tb = tb_at(0x100, page + 0x100, 8);
        assert!(matches!(
            c.finish_translation(t, tb.clone(), Some(&phys)),
            Inserted::New(_)
        ));
        assert!(!tb.is_invalid());
        // ... one anywhere in its page does, before its start too (the translator looks
        // at the code branches go to).
        let t = c.begin_translation(page + 0x200);
        assert!(c
            .invalidate_phys_range(page + 0x1fc, 4, Some(&phys))
            .is_empty());
        let tb2 = tb_at(0x200, page + 0x200, 8);
        assert!(matches!(
            c.finish_translation(t, tb2.clone(), Some(&phys)),
            Inserted::Stale(_)
        ));
        let t = c.begin_translation(page + 0x200);
        assert_eq!(
            c.invalidate_phys_range(page + 0xffc, 4, Some(&phys)).len(),
            0
        );
        let tb2 = tb_at(0x200, page + 0x200, 8);
        match c.finish_translation(t, tb2.clone(), Some(&phys)) {
            Inserted::Stale(t) => assert!(Arc::ptr_eq(&t, &tb2)),
            _ => panic!("not stale"),
        }
        assert!(tb2.is_invalid());
        assert!(c.lookup(&tb2.key).is_none());
        assert_eq!(c.tbs_on_page(page), 1);
        // A flush keeps translations in flight (and their staleness).
        let t = c.begin_translation(page + 0x300);
        c.invalidate_phys_range(page + 0x300, 4, Some(&phys));
        c.flush();
        assert_eq!(c.tbs_on_page(page), 0);
        let tb3 = tb_at(0x300, page + 0x300, 8);
        assert!(matches!(
            c.finish_translation(t, tb3, Some(&phys)),
            Inserted::Stale(_)
        ));
        assert!(!phys.is_code(page), "nothing left on the page");
        // A cancelled translation unmarks an otherwise empty page.
        let t = c.begin_translation(page);
        phys.mark_code(page, |_| {});
        c.cancel_translation(t, Some(&phys));
        assert!(!phys.is_code(page));
        // `remove_tbs` takes the TB out of the index too.
        let tb4 = c.insert(tb_at(0x400, page + 0x400, 4)).tb();
        assert_eq!(c.tbs_on_page(page), 1);
        assert_eq!(c.remove_tbs(&tb4.key).len(), 1);
        assert_eq!(c.tbs_on_page(page), 0);
    }

    #[test]
    fn concurrent_inserts_one_wins() {
        let c = Arc::new(TbCache::new(4));
        let winners: Vec<Vec<Arc<Tb>>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    let c = c.clone();
                    s.spawn(move || (0..500).map(|i| c.insert(tb(i * 4)).tb()).collect())
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(c.len(), 500);
        for i in 0..500 {
            let t = c.lookup(&key(i as u64 * 4)).unwrap();
            for w in &winners {
                assert!(Arc::ptr_eq(&w[i], &t), "every thread got the one TB");
            }
        }
    }
}
