//! TLB maintenance by the architecture's rules: entries tagged by ASID and nG, flushes by
//! page (of one ASID or all), by ASID and of everything, pages inside blocks and larger
//! pages, table growth and shrinking, slot reuse, and the code-page sweep over every table.

use softmmu::layout::*;
use softmmu::tlb::{tlb_protect_code_page, Access, PageWalker, Perms, Translation};
use softmmu::{access, EnvHead, MemCtx, PhysAddr, PhysMap, TlbFlush, WalkFault};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tcg_ir::types::MemOp;

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 16 << 20;

/// Global 4 KiB pages: `GLOBAL + x` -> `RAM + x`.
const GLOBAL: u64 = 0x0;
/// Non-global pages: `NG + x` -> `RAM + 8 MiB + asid * 1 MiB + x` (ASIDs 0..=7).
const NG: u64 = 0x1000_0000;
/// A 2 MiB global block: `BLOCK + x` -> `block_pa + x`.
const BLOCK: u64 = 0x2000_0000;
/// 64 KiB global pages: `BIG + x` -> `big_pa + x`.
const BIG: u64 = 0x3000_0000;

/// The test's page tables, some of them remappable.
struct Walker {
    block_pa: AtomicU64,
    big_pa: AtomicU64,
}

impl PageWalker for Walker {
    fn translate(
        &self,
        env: *mut EnvHead,
        vaddr: u64,
        _access: Access,
        _mmu_idx: usize,
    ) -> Result<Translation, WalkFault> {
        let page = |pa: u64| Translation {
            paddr_page: pa & PAGE_MASK,
            perms: Perms::all(),
            attrs: 0,
        };
        let t = if (NG..NG + (1 << 20)).contains(&vaddr) {
            // SAFETY: the softmmu passes the running vCPU's live env.
            let asid = unsafe { (*env).tlb.asid() } as u64 & 7;
            page(RAM + (8 << 20) + (asid << 20) + (vaddr - NG)).with_mapping(12, true)
        } else if (BLOCK..BLOCK + (2 << 20)).contains(&vaddr) {
            page(self.block_pa.load(Ordering::SeqCst) + (vaddr - BLOCK)).with_mapping(21, false)
        } else if (BIG..BIG + (1 << 20)).contains(&vaddr) {
            let off = vaddr - BIG;
            page(self.big_pa.load(Ordering::SeqCst) + off).with_mapping(16, false)
        } else if vaddr < 4 << 20 {
            page(RAM + vaddr)
        } else {
            return Err(WalkFault {
                kind: softmmu::fault::WALKER_BASE,
                info: 0,
            });
        };
        Ok(t)
    }
}

struct Fx {
    walker: *const Walker,
    _ctx: Box<MemCtx>,
    env: Box<EnvHead>,
}

impl Fx {
    /// RAM whose every 4 KiB page holds its own physical address in its first word.
    fn new() -> Fx {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(RAM), RAM_SIZE).unwrap();
        for p in (RAM..RAM + RAM_SIZE).step_by(PAGE_SIZE as usize) {
            m.write(PhysAddr(p), 8, p).unwrap();
        }
        let walker = Box::new(Walker {
            block_pa: AtomicU64::new(RAM + (2 << 20)),
            big_pa: AtomicU64::new(RAM + (6 << 20)),
        });
        let walker_ptr: *const Walker = &*walker;
        let ctx = Box::new(MemCtx {
            phys: Arc::new(m),
            walker,
        });
        let env = Box::new(EnvHead::new(&*ctx));
        Fx {
            walker: walker_ptr,
            _ctx: ctx,
            env,
        }
    }

    fn walker(&self) -> &Walker {
        // SAFETY: the walker is owned by `_ctx`, alive as long as the fixture.
        unsafe { &*self.walker }
    }

    /// The physical page a read of `va` (MMU index `mmu`) reaches.
    fn read(&mut self, mmu: u8, va: u64) -> u64 {
        let e: *mut EnvHead = &mut *self.env;
        // SAFETY: env and ctx live for the fixture; one thread.
        let v = unsafe { access::load(e, va & PAGE_MASK, MemOp::UQ, mmu, 0) };
        assert_eq!(self.env.fault, 0, "fault reading {va:#x}");
        v
    }

    fn walks(&self) -> u64 {
        self.env.tlb_stats().fills
    }

    /// Whether reading `va` needed a page walk (the entry was not in the TLB).
    fn walked(&mut self, mmu: u8, va: u64) -> bool {
        let before = self.walks();
        self.read(mmu, va);
        self.walks() != before
    }
}

#[test]
fn asids_keep_their_own_entries_across_switches() {
    let mut f = Fx::new();
    f.env.tlb_set_asid(1);
    assert_eq!(f.read(0, NG), RAM + (9 << 20));
    f.env.tlb_set_asid(2);
    assert_eq!(
        f.read(0, NG),
        RAM + (10 << 20),
        "ASID 1's entry is not used"
    );
    for _ in 0..3 {
        f.env.tlb_set_asid(1);
        assert!(!f.walked(0, NG), "no refill after a switch back");
        assert_eq!(f.read(0, NG), RAM + (9 << 20));
        f.env.tlb_set_asid(2);
        assert!(!f.walked(0, NG));
        assert_eq!(f.read(0, NG), RAM + (10 << 20));
    }
    assert_eq!(f.env.tlb_stats().flush_all, 0);
}

#[test]
fn global_entries_serve_every_asid_without_a_walk() {
    let mut f = Fx::new();
    f.env.tlb_set_asid(1);
    assert!(f.walked(1, GLOBAL + 0x5000));
    f.env.tlb_set_asid(2);
    assert!(!f.walked(1, GLOBAL + 0x5000));
    assert_eq!(f.env.tlb_stats().global_copies, 1);
    f.env.tlb_set_asid(3);
    assert!(!f.walked(1, GLOBAL + 0x5000));
    assert_eq!(f.env.tlb_stats().global_copies, 2);
    // The copies are the ASIDs' own entries now.
    f.env.tlb_set_asid(2);
    assert!(!f.walked(1, GLOBAL + 0x5000));
    assert_eq!(f.env.tlb_stats().global_copies, 2);
}

#[test]
fn flush_page_by_asid_spares_other_asids_but_not_global_entries() {
    let mut f = Fx::new();
    for asid in [1, 2] {
        f.env.tlb_set_asid(asid);
        f.read(0, NG + 0x3000);
        f.read(0, NG + 0x4000);
        f.read(1, GLOBAL + 0x3000);
    }
    // VAE1 with ASID 1 (issued while ASID 2 is current).
    f.env.tlb_flush(TlbFlush::Page {
        vaddr: NG + 0x3000,
        asid: Some(1),
    });
    f.env.tlb_flush(TlbFlush::Page {
        vaddr: GLOBAL + 0x3000,
        asid: Some(1),
    });
    assert!(!f.walked(0, NG + 0x3000), "ASID 2's entry stays");
    assert!(
        f.walked(1, GLOBAL + 0x3000),
        "global entries go whatever the ASID"
    );
    f.env.tlb_set_asid(1);
    assert!(f.walked(0, NG + 0x3000), "ASID 1's entry went");
    assert!(!f.walked(0, NG + 0x4000), "other pages stay");
    // VAAE1: every ASID.
    f.env.tlb_flush(TlbFlush::Page {
        vaddr: NG + 0x4000,
        asid: None,
    });
    assert!(f.walked(0, NG + 0x4000));
    f.env.tlb_set_asid(2);
    assert!(f.walked(0, NG + 0x4000));
}

#[test]
fn flush_page_compares_va_bits_55_to_12() {
    let mut f = Fx::new();
    f.read(1, GLOBAL + 0x7000);
    // Top byte set (as a TLBI's VA[55:12] operand never has it): still that page.
    f.env.tlb_flush(TlbFlush::Page {
        vaddr: 0xab00_0000_0000_0000 | (GLOBAL + 0x7000),
        asid: None,
    });
    assert!(f.walked(1, GLOBAL + 0x7000));
    // Another page with the same index in the table is not that page.
    let other = GLOBAL + 0x7000 + (PAGE_SIZE << TLB_MIN_BITS);
    f.env.tlb_flush(TlbFlush::Page {
        vaddr: other,
        asid: None,
    });
    assert!(!f.walked(1, GLOBAL + 0x7000));
}

#[test]
fn flush_asid_drops_only_that_asids_non_global_entries() {
    let mut f = Fx::new();
    for asid in [1, 2] {
        f.env.tlb_set_asid(asid);
        f.read(0, NG + 0x1000);
        f.read(0, GLOBAL + 0x2000);
    }
    f.env.tlb_flush(TlbFlush::Asid(2));
    assert!(
        f.walked(0, NG + 0x1000),
        "ASID 2 (current) lost its nG entry"
    );
    assert!(!f.walked(0, GLOBAL + 0x2000), "its global entry stays");
    f.env.tlb_set_asid(1);
    assert!(!f.walked(0, NG + 0x1000), "ASID 1 is untouched");
    f.env.tlb_flush(TlbFlush::All);
    assert!(f.walked(0, NG + 0x1000));
    assert!(f.walked(0, GLOBAL + 0x2000));
    f.env.tlb_set_asid(2);
    assert!(f.walked(0, NG + 0x1000), "all ASIDs flushed");
}

#[test]
fn flushing_a_page_inside_a_block_drops_every_entry_from_the_block() {
    let mut f = Fx::new();
    let pages = [0x0, 0x1000, 0x5_0000, 0x1f_f000];
    for p in pages {
        assert_eq!(f.read(1, BLOCK + p), RAM + (2 << 20) + p);
    }
    f.read(1, GLOBAL + 0x2000);
    // Remap the block; entries stay until invalidated (by an address inside it).
    f.walker().block_pa.store(RAM + (4 << 20), Ordering::SeqCst);
    assert_eq!(f.read(1, BLOCK + 0x5_0000), RAM + (2 << 20) + 0x5_0000);
    f.env.tlb_flush(TlbFlush::Page {
        vaddr: BLOCK + 0x12_3000,
        asid: Some(3),
    });
    for p in pages {
        assert_eq!(f.read(1, BLOCK + p), RAM + (4 << 20) + p, "page {p:#x}");
    }
    assert!(
        !f.walked(1, GLOBAL + 0x2000),
        "pages outside the block stay"
    );
    // A flush outside any block probes only its own page.
    let scans = f.env.tlb_stats().flush_page_scans;
    f.env.tlb_flush(TlbFlush::Page {
        vaddr: BLOCK + (2 << 20),
        asid: None,
    });
    assert_eq!(f.env.tlb_stats().flush_page_scans, scans);
    assert!(!f.walked(1, BLOCK + 0x1000));
}

#[test]
fn flushing_any_address_of_a_64k_page_drops_all_its_4k_entries() {
    let mut f = Fx::new();
    for p in (0..0x1_0000).step_by(0x1000) {
        f.read(0, BIG + 0x1_0000 + p);
    }
    f.read(0, BIG + 0x2_0000);
    f.env.tlb_flush(TlbFlush::Page {
        vaddr: BIG + 0x1_c000,
        asid: None,
    });
    for p in (0..0x1_0000).step_by(0x1000) {
        assert!(f.walked(0, BIG + 0x1_0000 + p), "sub-page {p:#x}");
    }
    assert!(!f.walked(0, BIG + 0x2_0000), "the next 64 KiB page stays");
}

#[test]
fn tables_grow_under_conflicts_keep_their_entries_and_shrink_when_cleared() {
    let mut f = Fx::new();
    let min = 1usize << TLB_MIN_BITS;
    assert_eq!(f.env.tlb.size(1), min);
    // Entries filled before the growth must be found at their new index after it.
    let early = [
        GLOBAL + 0x5000,
        GLOBAL + 0x5000 + (PAGE_SIZE << TLB_MIN_BITS) + 0x1000,
    ];
    for va in early {
        f.read(1, va);
    }
    // Pages twice the table's span apart all want the same index: every fill evicts.
    let stride = PAGE_SIZE << TLB_MIN_BITS;
    for k in 0..min as u64 / 2 + 2 {
        f.read(1, GLOBAL + (k * stride) % (4 << 20));
    }
    assert!(f.env.tlb.size(1) > min, "grew");
    assert!(f.env.tlb_stats().grows >= 1);
    for va in early {
        assert!(!f.walked(1, va), "{va:#x} moved with the growth");
        assert_eq!(f.read(1, va), RAM + va);
    }
    // A working set that fits the grown table stays in it.
    let set: Vec<u64> = (0..min as u64).map(|k| GLOBAL + k * PAGE_SIZE).collect();
    for &va in &set {
        f.read(1, va);
    }
    for &va in &set {
        assert!(!f.walked(1, va), "{va:#x} kept");
        assert_eq!(f.read(1, va), RAM + va);
    }
    let grown = f.env.tlb.size(1);
    // Cleared while holding few entries: back to the smallest size.
    f.env.tlb_flush(TlbFlush::All);
    f.read(1, GLOBAL);
    f.env.tlb_flush(TlbFlush::All);
    assert!(f.env.tlb.size(1) < grown);
    assert_eq!(f.env.tlb.size(1), min);
}

#[test]
fn the_least_recently_used_asid_gives_up_its_slot_but_not_its_global_entries() {
    let mut f = Fx::new();
    // The env starts with ASID 0; fill the other slots.
    for asid in 0..TLB_ASID_SLOTS as u16 {
        f.env.tlb_set_asid(asid);
        f.read(0, NG);
        f.read(0, GLOBAL + 0x9000);
    }
    // Touch ASIDs 0 and 1 so ASID 2 is the least recently used one.
    f.env.tlb_set_asid(0);
    f.env.tlb_set_asid(1);
    assert!(!f.walked(0, NG));
    assert_eq!(f.env.tlb_stats().slot_evictions, 0);
    f.env.tlb_set_asid(100);
    assert_eq!(f.env.tlb_stats().slot_evictions, 1);
    let copies = f.env.tlb_stats().global_copies;
    assert!(
        !f.walked(0, GLOBAL + 0x9000),
        "ASID 2's global entry stayed"
    );
    assert_eq!(
        f.env.tlb_stats().global_copies,
        copies,
        "in the slot itself"
    );
    assert!(f.walked(0, NG), "ASID 2's nG entry went");
    f.env.tlb_set_asid(1);
    assert!(!f.walked(0, NG), "ASID 1 kept its slot");
    f.env.tlb_set_asid(2);
    assert!(f.walked(0, NG), "ASID 2 was evicted");
}

#[test]
fn the_code_page_sweep_reaches_every_asid_and_grown_tables() {
    let mut f = Fx::new();
    let e: *mut EnvHead = &mut *f.env;
    f.env.tlb_set_asid(1);
    // A writable nG entry of ASID 1 (physical RAM + 9 MiB)...
    // SAFETY: env and ctx live for the fixture; one thread.
    unsafe { access::store(e, NG + 0x8, 1, MemOp::UQ, 0, 0) };
    // ... and one in ASID 1's EL1 table after it grew (4 pages fighting for one index).
    for k in 0..1u64 << TLB_MIN_BITS {
        f.read(1, (k << (PAGE_BITS + TLB_MIN_BITS)) % (4 << 20));
    }
    assert!(f.env.tlb.size(1) > 1 << TLB_MIN_BITS);
    // SAFETY: as above.
    unsafe { access::store(e, GLOBAL + 0x3000, 2, MemOp::UQ, 1, 0) };
    f.env.tlb_set_asid(2);
    // SAFETY: as above; the sweep only ORs flags into write tags.
    unsafe {
        tlb_protect_code_page(e, RAM + (9 << 20));
        tlb_protect_code_page(e, RAM + 0x3000);
    }
    f.env.tlb_set_asid(1);
    // SAFETY: the entries are inside the current tables.
    let tags = unsafe {
        (
            (*f.env.tlb_entry(0, NG)).addr_write,
            (*f.env.tlb_entry(1, GLOBAL + 0x3000)).addr_write,
        )
    };
    assert_eq!(tags, (NG | TLB_NOTDIRTY, (GLOBAL + 0x3000) | TLB_NOTDIRTY));
}

#[test]
fn the_code_page_sweep_finds_entries_filled_before_their_table_grew_or_copied_to_a_slot() {
    let mut f = Fx::new();
    let e: *mut EnvHead = &mut *f.env;
    f.env.tlb_set_asid(1);
    // A writable global EL1 entry first; then the table outgrows its allocation, so the
    // entry (and its write-page filter bit) move to a new one.
    // SAFETY: env and ctx live for the fixture; one thread.
    unsafe { access::store(e, GLOBAL + 0x5000, 3, MemOp::UQ, 1, 0) };
    for k in 0..4u64 << TLB_MIN_BITS {
        f.read(1, (k << (PAGE_BITS + TLB_MIN_BITS)) % (4 << 20));
    }
    assert!(f.env.tlb.size(1) > 2 << TLB_MIN_BITS);
    // ASID 2 gets the global entry by copy (no walk) and writes through its copy.
    f.env.tlb_set_asid(2);
    // SAFETY: as above.
    unsafe { access::store(e, GLOBAL + 0x5000, 4, MemOp::UQ, 1, 0) };
    // SAFETY: as above; the sweep only ORs flags into write tags.
    unsafe { tlb_protect_code_page(e, RAM + 0x5000) };
    let tag = |f: &Fx| {
        // SAFETY: the entry is inside the current table.
        unsafe { (*f.env.tlb_entry(1, GLOBAL + 0x5000)).addr_write }
    };
    assert_eq!(
        tag(&f),
        (GLOBAL + 0x5000) | TLB_NOTDIRTY,
        "the copy in ASID 2's slot"
    );
    f.env.tlb_set_asid(1);
    assert_eq!(
        tag(&f),
        (GLOBAL + 0x5000) | TLB_NOTDIRTY,
        "the moved entry of ASID 1"
    );
}
