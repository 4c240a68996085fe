//! The translation-block cache: one global map shared by every vCPU (lock-free lookups,
//! compare-and-swap insertion, whole-table flush by generation) and the per-vCPU jump cache.

use crate::cpu::TbKey;
use arc_swap::{ArcSwap, ArcSwapOption};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tcg_ir::CompiledTb;

/// One translated and compiled block.
pub struct Tb {
    pub key: TbKey,
    pub code: Arc<dyn CompiledTb>,
    /// Guest bytes covered.
    pub size: u32,
    /// Guest instructions in the block.
    pub insns: u32,
    invalid: AtomicBool,
}

impl Tb {
    pub fn new(key: TbKey, code: Arc<dyn CompiledTb>, size: u32, insns: u32) -> Tb {
        Tb {
            key,
            code,
            size,
            insns,
            invalid: AtomicBool::new(false),
        }
    }

    /// Marks the TB dead: no lookup returns it again (jump caches check this flag).
    pub fn invalidate(&self) {
        self.invalid.store(true, Ordering::Release);
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
    buckets: Box<[ArcSwapOption<Node>]>,
}

impl Table {
    fn new(bits: u32) -> Table {
        Table {
            buckets: (0..1usize << bits)
                .map(|_| ArcSwapOption::empty())
                .collect(),
        }
    }

    #[inline]
    fn bucket(&self, key: &TbKey) -> &ArcSwapOption<Node> {
        &self.buckets[hash_key(key) as usize & (self.buckets.len() - 1)]
    }
}

#[inline]
fn hash_key(key: &TbKey) -> u64 {
    // A cheap multiplicative mix; PCs are 4-byte aligned and clustered.
    let h = key.phys_pc.rotate_left(17) ^ (key.pc >> 2) ^ ((key.flags as u64) << 40);
    let h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 29)
}

/// Result of [`TbCache::insert`].
pub enum Inserted {
    /// The TB given was inserted.
    New(Arc<Tb>),
    /// Another thread inserted a TB with the same key first; this is it.
    Existing(Arc<Tb>),
}

impl Inserted {
    pub fn tb(self) -> Arc<Tb> {
        match self {
            Inserted::New(t) | Inserted::Existing(t) => t,
        }
    }
}

/// The global TB map keyed by [`TbKey`], shared by all vCPUs.
pub struct TbCache {
    table: ArcSwap<Table>,
    bits: u32,
    generation: AtomicU64,
    count: AtomicUsize,
}

impl Default for TbCache {
    fn default() -> Self {
        TbCache::new(TbCache::DEFAULT_BITS)
    }
}

impl TbCache {
    /// 64 Ki buckets.
    pub const DEFAULT_BITS: u32 = 16;

    /// A cache with `1 << bits` buckets.
    pub fn new(bits: u32) -> TbCache {
        let bits = bits.clamp(1, 28);
        TbCache {
            table: ArcSwap::from_pointee(Table::new(bits)),
            bits,
            generation: AtomicU64::new(0),
            count: AtomicUsize::new(0),
        }
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
        let head = table.bucket(key).load();
        let mut node = head.as_deref();
        while let Some(n) = node {
            if n.tb.key == *key && !n.tb.is_invalid() {
                return Some(n.tb.clone());
            }
            node = n.next.as_deref();
        }
        None
    }

    /// Inserts `tb` unless a valid TB with the same key is already there ("one wins").
    pub fn insert(&self, tb: Arc<Tb>) -> Inserted {
        let table = self.table.load();
        let bucket = table.bucket(&tb.key);
        let mut head = bucket.load_full();
        loop {
            let mut node = head.as_deref();
            while let Some(n) = node {
                if n.tb.key == tb.key && !n.tb.is_invalid() {
                    return Inserted::Existing(n.tb.clone());
                }
                node = n.next.as_deref();
            }
            let new = Arc::new(Node {
                tb: tb.clone(),
                next: head.clone(),
            });
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
        let table = self.table.load();
        let bucket = table.bucket(key);
        loop {
            let head = bucket.load_full();
            let mut kept: Vec<Arc<Tb>> = Vec::new();
            let mut found: Vec<Arc<Tb>> = Vec::new();
            let mut node = head.as_deref();
            while let Some(n) = node {
                if n.tb.key == *key {
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
pub const JC_BITS: u32 = 12;
const JC_SIZE: usize = 1 << JC_BITS;

/// A vCPU's direct-mapped cache virtual PC -> TB in front of the global map. Owned by the
/// vCPU's thread; no synchronisation.
pub struct JumpCache {
    entries: Box<[Option<Arc<Tb>>]>,
    generation: u64,
}

impl Default for JumpCache {
    fn default() -> Self {
        JumpCache::new()
    }
}

impl JumpCache {
    pub fn new() -> JumpCache {
        JumpCache {
            entries: (0..JC_SIZE).map(|_| None).collect(),
            generation: 0,
        }
    }

    #[inline]
    fn index(pc: u64) -> usize {
        ((pc >> 2) ^ (pc >> (2 + JC_BITS))) as usize & (JC_SIZE - 1)
    }

    /// Clears the cache if the global cache was flushed since the last call.
    #[inline]
    pub fn sync(&mut self, cache: &TbCache) {
        let g = cache.generation();
        if g != self.generation {
            self.clear();
            self.generation = g;
        }
    }

    /// A valid TB for exactly `key`.
    #[inline]
    pub fn lookup(&self, key: &TbKey) -> Option<&Arc<Tb>> {
        match &self.entries[Self::index(key.pc)] {
            Some(tb) if tb.key == *key && !tb.is_invalid() => Some(tb),
            _ => None,
        }
    }

    #[inline]
    pub fn insert(&mut self, tb: Arc<Tb>) {
        let i = Self::index(tb.key.pc);
        self.entries[i] = Some(tb);
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
            Inserted::New(_) => panic!("duplicate inserted"),
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
        jc.insert(t.clone());
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
