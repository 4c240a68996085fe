//! Self-modifying-code support in the softmmu: code-page marking, `TLB_NOTDIRTY` in write
//! tags (at fill time and by the sweep of `mark_code`), the code-write hook on every kind
//! of store, and the fill/sweep protocol under concurrency.

use softmmu::layout::*;
use softmmu::tlb::{tlb_protect_code_page, Access, PageWalker, Perms, Translation};
use softmmu::{access, slow, EnvHead, MemCtx, PhysAddr, PhysMap, WalkFault};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tcg_ir::types::{MemOp, RmwOp};

const RAM: u64 = 0x4000_0000;
/// Virtual addresses from `ALIAS` up map to RAM again (`ALIAS + x` -> `RAM + x`).
const ALIAS: u64 = 0x1_0000_0000;
/// Virtual addresses from `RO` up map to RAM read-only.
const RO: u64 = 0x2_0000_0000;

/// Identity below `ALIAS`; two more views of RAM above it.
struct AliasWalker;

impl PageWalker for AliasWalker {
    fn translate(
        &self,
        _env: *mut EnvHead,
        vaddr: u64,
        _access: Access,
        _mmu_idx: usize,
    ) -> Result<Translation, WalkFault> {
        let (pa, perms) = if vaddr >= RO {
            (vaddr - RO + RAM, Perms::READ | Perms::EXEC)
        } else if vaddr >= ALIAS {
            (vaddr - ALIAS + RAM, Perms::all())
        } else {
            (vaddr, Perms::all())
        };
        Ok(Translation {
            paddr_page: pa & PAGE_MASK,
            perms,
            attrs: 0,
        })
    }
}

type Log = Arc<Mutex<Vec<(u64, u64)>>>;

/// A map with 1 MiB of RAM and a hook that logs writes and unmarks the page when
/// `unmark` is set (as a TB cache does once no TB is left on the page).
fn setup(unmark: bool) -> (Arc<PhysMap>, Box<MemCtx>, Box<EnvHead>, Log) {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(RAM), 0x10_0000).unwrap();
    let phys = Arc::new(m);
    let log: Log = Arc::default();
    let l = log.clone();
    phys.set_code_write_hook(Some(Arc::new(move |pm: &PhysMap, a: u64, n: u64| {
        l.lock().unwrap().push((a, n));
        if unmark {
            pm.clear_code(a);
        }
    })));
    let ctx = Box::new(MemCtx {
        phys: phys.clone(),
        walker: Box::new(AliasWalker),
    });
    let env = Box::new(EnvHead::new(&*ctx));
    (phys, ctx, env, log)
}

fn write_tag(env: &EnvHead, mmu: usize, vaddr: u64) -> u64 {
    // SAFETY: the entry is inside the env's current table.
    unsafe { (*env.tlb_entry(mmu, vaddr)).addr_write }
}

fn taken(log: &Log) -> Vec<(u64, u64)> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn marking_protects_existing_entries_through_every_alias() {
    let (phys, _ctx, mut env, log) = setup(false);
    let e: *mut EnvHead = &mut *env;
    let code = RAM + 0x5000;
    // SAFETY: env and ctx live for the whole test; one thread.
    unsafe {
        // Clean writable entries for the page in two MMU indexes and through an alias,
        // plus a read-only view.
        access::store(e, code, 1, MemOp::UL, 0, 0);
        access::store(e, ALIAS + 0x5000 + 8, 2, MemOp::UL, 1, 0);
        access::load(e, RO + 0x5000, MemOp::UL, 2, 0);
        assert_eq!(write_tag(&*e, 0, code), code);
        assert_eq!(write_tag(&*e, 1, ALIAS + 0x5000), ALIAS + 0x5000);
        assert!(taken(&log).is_empty(), "no code yet: fast path, no hook");

        assert!(phys.mark_code(code + 0x10, |p| tlb_protect_code_page(e, p)));
        assert_eq!(write_tag(&*e, 0, code), code | TLB_NOTDIRTY);
        assert_eq!(
            write_tag(&*e, 1, ALIAS + 0x5000),
            (ALIAS + 0x5000) | TLB_NOTDIRTY
        );
        assert_eq!(
            write_tag(&*e, 2, RO + 0x5000),
            TLB_INVALID,
            "read-only stays so"
        );
        // Reads and fetches are not affected.
        let ent = &*(*e).tlb_entry(0, code);
        assert_eq!(ent.addr_read, code);
        assert_eq!(ent.addr_code, code);
        assert_eq!(access::load(e, code, MemOp::UL, 0, 0), 1);

        // A store through each alias reaches the hook with the physical address.
        access::store(e, code + 4, 5, MemOp::UL, 0, 0);
        access::store(e, ALIAS + 0x5000 + 0x20, 6, MemOp::UW, 1, 0);
        assert_eq!(taken(&log), [(code + 4, 4), (code + 0x20, 2)]);
        assert_eq!(
            phys.read(PhysAddr(code + 0x20), 2),
            Some(6),
            "the store happened"
        );
        assert_eq!((*e).fault, 0);
        // Still code (the hook did not unmark): the entries stay on the slow path.
        assert_eq!(write_tag(&*e, 0, code), code | TLB_NOTDIRTY);

        // A page of another alias filled after marking gets NOTDIRTY at fill time.
        assert_eq!(write_tag(&*e, 3, ALIAS + 0x5000), TLB_EMPTY);
        access::store(e, ALIAS + 0x5000 + 0x30, 7, MemOp::UB, 3, 0);
        assert_eq!(
            write_tag(&*e, 3, ALIAS + 0x5000),
            (ALIAS + 0x5000) | TLB_NOTDIRTY
        );
        assert_eq!(taken(&log), [(code + 0x30, 1)]);

        // Other pages keep the fast path.
        access::store(e, RAM + 0x6000, 1, MemOp::UQ, 0, 0);
        assert_eq!(write_tag(&*e, 0, RAM + 0x6000), RAM + 0x6000);
        assert!(taken(&log).is_empty());
    }
}

#[test]
fn unmarked_page_goes_back_to_the_fast_path() {
    let (phys, _ctx, mut env, log) = setup(true);
    let e: *mut EnvHead = &mut *env;
    let code = RAM + 0x7000;
    // SAFETY: env and ctx live for the whole test; one thread.
    unsafe {
        access::store(e, code, 1, MemOp::UQ, 0, 0);
        phys.mark_code(code, |p| tlb_protect_code_page(e, p));
        access::store(e, code + 8, 2, MemOp::UQ, 0, 0);
        assert_eq!(taken(&log), [(code + 8, 8)]);
        assert!(!phys.is_code(code), "the hook unmarked it");
        assert_eq!(
            write_tag(&*e, 0, code),
            code,
            "NOTDIRTY dropped after the store"
        );
        access::store(e, code + 16, 3, MemOp::UQ, 0, 0);
        assert!(taken(&log).is_empty(), "fast path again");
        // Marked again: protected again.
        assert!(phys.mark_code(code, |p| tlb_protect_code_page(e, p)));
        assert_eq!(write_tag(&*e, 0, code), code | TLB_NOTDIRTY);
    }
}

#[test]
fn page_crossing_and_atomic_stores_reach_the_hook() {
    let (phys, _ctx, mut env, log) = setup(false);
    let e: *mut EnvHead = &mut *env;
    let code = RAM + 0x9000;
    // SAFETY: env and ctx live for the whole test; one thread.
    unsafe {
        phys.mark_code(code, |p| tlb_protect_code_page(e, p));
        // Crossing from the page before into the code page: only its bytes there count.
        access::store(e, code - 3, 0x1122_3344_5566_7788, MemOp::UQ, 0, 0);
        let got = taken(&log);
        assert_eq!(got.len(), 5, "{got:x?}");
        assert!(got
            .iter()
            .all(|&(a, n)| n == 1 && (code..code + 5).contains(&a)));
        // Crossing out of the code page into the next.
        access::store(e, code + 0xffe, 0xaabb_ccdd, MemOp::UL, 0, 0);
        let got = taken(&log);
        assert_eq!(got, [(code + 0xffe, 1), (code + 0xfff, 1)]);
        assert_eq!(phys.read(PhysAddr(code + 0xffe), 4), Some(0xaabb_ccdd));

        // Compare-and-swap: a failing one writes nothing and reports nothing.
        access::store(e, RAM + 0x100, 0, MemOp::UQ, 0, 0);
        phys.write(PhysAddr(code + 0x40), 8, 10).unwrap();
        taken(&log);
        assert_eq!(access::cmpxchg(e, code + 0x40, 9, 11, MemOp::UQ, 0, 0), 10);
        assert!(taken(&log).is_empty());
        assert_eq!(access::cmpxchg(e, code + 0x40, 10, 11, MemOp::UQ, 0, 0), 10);
        assert_eq!(taken(&log), [(code + 0x40, 8)]);
        assert_eq!(
            access::rmw(e, RmwOp::Add, code + 0x40, 1, MemOp::UL, 0, 0),
            11
        );
        assert_eq!(taken(&log), [(code + 0x40, 4)]);
        assert_eq!(phys.read(PhysAddr(code + 0x40), 8), Some(12));

        // The JIT's slow-path helpers are the same functions.
        let oi = slow::make_oi(MemOp::UL, 0, None);
        slow::helper_st(e as *mut u8, code + 0x80, 1, oi, 0);
        assert_eq!(taken(&log), [(code + 0x80, 4)]);

        // The pointer for a 128-bit CAS: the TBs are invalidated up front, and again
        // after the write when asked.
        let p = slow::host_ptr_for_rmw(e, code + 0x100, 16, 0, 0).expect("RAM");
        assert_eq!(taken(&log), [(code + 0x100, 16)]);
        (p as *mut u64).write(5);
        slow::rmw_write_done(e, code + 0x100, 16, 0);
        assert_eq!(taken(&log), [(code + 0x100, 16)]);
        assert_eq!((*e).fault, 0);
    }
}

#[test]
fn loader_and_dma_writes_reach_the_hook() {
    let (phys, _ctx, _env, log) = setup(true);
    let code = RAM + 0x3000;
    phys.mark_code(code, |_| {});
    phys.write_bytes(PhysAddr(code - 0x10), &[1; 0x20]).unwrap();
    assert_eq!(taken(&log), [(code, 0x10)]);
    assert!(!phys.is_code(code));
    phys.write_bytes(PhysAddr(code), &[1; 0x20]).unwrap();
    assert!(taken(&log).is_empty());
}

/// The fill/sweep protocol under concurrency: one thread keeps refilling its TLB entry for
/// a page (and storing to it) while another marks and unmarks the page as code. Whenever
/// a marking has completed (and no unmarking started) before a fill ends, the filled
/// entry must carry `TLB_NOTDIRTY`.
#[test]
fn fills_racing_with_marking_never_leave_a_clean_entry() {
    struct SendPtr(*mut EnvHead);
    // SAFETY: the env outlives both threads (joined inside the scope); the other thread
    // only uses it through `tlb_protect_code_page`, which is made for that.
    unsafe impl Send for SendPtr {}
    // SAFETY: as above.
    unsafe impl Sync for SendPtr {}
    impl SendPtr {
        fn get(&self) -> *mut EnvHead {
            self.0
        }
    }

    let (phys, _ctx, mut env, _log) = setup(false);
    let page = RAM + 0x4000;
    let e = SendPtr(&mut *env);
    // Odd: an unmark + mark round is in progress; even and > 0: round done.
    let phase = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let checked = AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut k = 0u64;
            // Hold each state a little (varying) while so the filler sees both, and fills
            // land before, during and after the sweep.
            let mut rng = 0x2545_f491_4f6c_dd1du64;
            let mut pause = || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                for _ in 0..rng % 2000 {
                    std::hint::spin_loop();
                }
            };
            while !stop.load(Ordering::SeqCst) {
                phase.store(2 * k + 1, Ordering::SeqCst);
                phys.clear_code(page);
                pause();
                // SAFETY: see `SendPtr`.
                phys.mark_code(page, |p| unsafe { tlb_protect_code_page(e.get(), p) });
                phase.store(2 * k + 2, Ordering::SeqCst);
                pause();
                k += 1;
            }
        });
        // Stop the marker even if an assertion below fails (the scope joins it).
        struct StopOnDrop<'a>(&'a AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let _stop = StopOnDrop(&stop);
        let e = e.get();
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(300);
        let mut n = 0u64;
        while std::time::Instant::now() < deadline || n < 10_000 {
            n += 1;
            // SAFETY: this thread owns the env; the marker only touches it atomically.
            unsafe {
                (*e).flush_page(page);
                // A load fills the whole entry, write tag included.
                access::load(e, page + 8 * (n % 512), MemOp::UQ, 0, 0);
                let ph = phase.load(Ordering::SeqCst);
                let tag = AtomicU64::from_ptr(std::ptr::addr_of_mut!(
                    (*(*e).tlb_entry(0, page)).addr_write
                ))
                .load(Ordering::SeqCst);
                if ph > 0 && ph.is_multiple_of(2) {
                    checked.fetch_add(1, Ordering::Relaxed);
                    assert_eq!(
                        tag,
                        page | TLB_NOTDIRTY,
                        "clean entry after marking (n={n})"
                    );
                }
                // Stores through it must work either way.
                access::store(e, page + 0x800, n, MemOp::UQ, 0, 0);
            }
        }
    });
    let checked = checked.load(Ordering::Relaxed);
    assert!(checked > 100, "the race was exercised ({checked} checks)");
}

#[test]
fn write_page_filter_rebuilds_keep_live_entries_found() {
    let (phys, _ctx, mut env, _log) = setup(false);
    let e: *mut EnvHead = &mut *env;
    let code = RAM + 0x5000;
    // SAFETY: env and ctx live for the whole test; one thread.
    unsafe {
        access::store(e, code, 1, MemOp::UL, 0, 0);
        // Enough writable fills of other pages that the table's filter is recomputed
        // (more than a quarter of its entries newly set bits), several times.
        for round in 0..4u64 {
            for p in 0x10..0x100u64 {
                access::store(e, RAM + (p << 12), round, MemOp::UL, 0, 0);
            }
        }
        assert!((*e).tlb_stats().filter_rebuilds > 0, "no rebuild exercised");
        assert_eq!(
            write_tag(&*e, 0, code),
            code,
            "the entry is still live and clean"
        );
        assert!(phys.mark_code(code, |p| tlb_protect_code_page(e, p)));
        assert_eq!(write_tag(&*e, 0, code), code | TLB_NOTDIRTY);
    }
}
