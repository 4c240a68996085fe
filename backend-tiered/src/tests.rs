//! Unit tests with stub back ends (no code generation): promotion at the threshold, no
//! promotion after unchain, chaining within each tier, CodeFull propagation, background
//! promotion (ordering, back-pressure, invalidation and flushes while compiling).

use super::*;
use std::sync::atomic::AtomicUsize;

/// A TB returning a fixed value; `size` tells the tiers apart.
struct StubTb {
    ret: u64,
    size: usize,
    /// The last `set_run_limit` (0: never set).
    limit: AtomicU32,
}

impl StubTb {
    fn new(ret: u64, size: usize) -> StubTb {
        StubTb {
            ret,
            size,
            limit: AtomicU32::new(0),
        }
    }
}

impl CompiledTb for StubTb {
    unsafe fn exec(&self, _env: *mut u8) -> u64 {
        self.ret
    }
    fn code_size(&self) -> usize {
        self.size
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
    fn set_run_limit(&self, limit: u32) {
        self.limit.store(limit, Ordering::Relaxed);
    }
}

struct StubBackend {
    size: usize,
    compiles: AtomicUsize,
    chains: AtomicUsize,
    unchains: AtomicUsize,
    full: AtomicBool,
}

impl StubBackend {
    fn new(size: usize) -> Arc<StubBackend> {
        Arc::new(StubBackend {
            size,
            compiles: AtomicUsize::new(0),
            chains: AtomicUsize::new(0),
            unchains: AtomicUsize::new(0),
            full: AtomicBool::new(false),
        })
    }
}

impl Backend for StubBackend {
    fn name(&self) -> &'static str {
        "stub"
    }
    fn compile(&self, _func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError> {
        if self.full.load(Ordering::Relaxed) {
            return Err(BackendError::CodeFull);
        }
        self.compiles.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(StubTb::new(7, self.size)))
    }
    fn chain(&self, _from: u64, _target: &Arc<dyn CompiledTb>) -> bool {
        self.chains.fetch_add(1, Ordering::Relaxed);
        true
    }
    fn unchain(&self, _tb: &dyn CompiledTb) {
        self.unchains.fetch_add(1, Ordering::Relaxed);
    }
}

fn setup(threshold: u32) -> (Arc<StubBackend>, Arc<StubBackend>, Tiered) {
    let cold = StubBackend::new(1);
    let hot = StubBackend::new(100);
    let t = Tiered::new(cold.clone(), hot.clone(), threshold);
    (cold, hot, t)
}

fn run(tb: &Arc<dyn CompiledTb>) -> u64 {
    // SAFETY: stub TBs do not touch the env.
    unsafe { tb.exec_chained(std::ptr::null_mut()) }
}

#[test]
fn promotes_exactly_at_the_threshold() {
    let (_, hot, t) = setup(3);
    let tb = t.compile(&Func::default()).unwrap();
    assert_eq!(run(&tb), 7);
    assert_eq!(run(&tb), 7);
    assert_eq!(tb.code_size(), 1, "cold after two runs");
    assert_eq!(hot.compiles.load(Ordering::Relaxed), 0);
    run(&tb);
    assert_eq!(tb.code_size(), 101, "hot code added on the third run");
    for _ in 0..10 {
        run(&tb);
    }
    assert_eq!(hot.compiles.load(Ordering::Relaxed), 1, "compiled once");
}

#[test]
fn cold_targets_chain_in_the_cold_back_end_hot_ones_in_the_hot() {
    let (cold, hot, t) = setup(2);
    let a = t.compile(&Func::default()).unwrap();
    assert!(t.chain(1 << 63, &a), "cold target");
    assert_eq!(
        (
            cold.chains.load(Ordering::Relaxed),
            hot.chains.load(Ordering::Relaxed)
        ),
        (1, 0)
    );
    run(&a);
    run(&a);
    assert_eq!(
        cold.unchains.load(Ordering::Relaxed),
        1,
        "chains into the promoted TB's cold code were cut"
    );
    assert!(t.chain(1 << 63, &a), "hot target");
    assert_eq!(
        (
            cold.chains.load(Ordering::Relaxed),
            hot.chains.load(Ordering::Relaxed)
        ),
        (1, 1)
    );
}

#[test]
fn unchained_tbs_are_never_promoted_or_chained() {
    let (_, hot, t) = setup(1);
    let a = t.compile(&Func::default()).unwrap();
    t.unchain(&*a);
    run(&a);
    assert_eq!(hot.compiles.load(Ordering::Relaxed), 0);
    assert!(!t.chain(1 << 63, &a));
    let b = t.compile(&Func::default()).unwrap();
    run(&b);
    t.unchain(&*b);
    assert_eq!(
        hot.unchains.load(Ordering::Relaxed),
        1,
        "hot code unchained"
    );
    assert!(!t.chain(1 << 63, &b));
}

#[test]
fn hot_code_full_asks_for_a_flush() {
    let (_, hot, t) = setup(1);
    hot.full.store(true, Ordering::Relaxed);
    let a = t.compile(&Func::default()).unwrap();
    assert_eq!(run(&a), 7, "stays cold");
    assert!(matches!(
        t.compile(&Func::default()),
        Err(BackendError::CodeFull)
    ));
    hot.full.store(false, Ordering::Relaxed);
    t.reset();
    assert!(t.compile(&Func::default()).is_ok());
}

// --- background compilation -------------------------------------------------------------

/// A hot back end whose `compile` waits for a permit from the test; it records which
/// TBs it compiled (by their IR's `nb_labels`, a tag the tests set).
struct GatedBackend {
    permits: Mutex<usize>,
    cv: std::sync::Condvar,
    started: AtomicUsize,
    compiles: AtomicUsize,
    unchains: AtomicUsize,
    order: Mutex<Vec<u32>>,
    /// Only compiles of IR with this tag (`nb_labels`) wait for permits (0: all do).
    gate_tag: AtomicUsize,
}

impl GatedBackend {
    fn new() -> Arc<GatedBackend> {
        Arc::new(GatedBackend {
            gate_tag: AtomicUsize::new(0),
            permits: Mutex::new(0),
            cv: std::sync::Condvar::new(),
            started: AtomicUsize::new(0),
            compiles: AtomicUsize::new(0),
            unchains: AtomicUsize::new(0),
            order: Mutex::new(Vec::new()),
        })
    }

    /// Lets every compile through from now on.
    fn open(&self) {
        self.permit(usize::MAX / 2);
    }

    fn permit(&self, n: usize) {
        *self.permits.lock().unwrap() += n;
        self.cv.notify_all();
    }

    fn wait_started(&self, n: usize) {
        while self.started.load(Ordering::Acquire) < n {
            std::thread::yield_now();
        }
    }
}

impl Backend for GatedBackend {
    fn name(&self) -> &'static str {
        "gated"
    }
    fn compile(&self, func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError> {
        self.started.fetch_add(1, Ordering::AcqRel);
        let tag = self.gate_tag.load(Ordering::Relaxed);
        if tag == 0 || tag == func.nb_labels as usize {
            let mut g = self.permits.lock().unwrap();
            while *g == 0 {
                g = self.cv.wait(g).unwrap();
            }
            *g -= 1;
        }
        self.order.lock().unwrap().push(func.nb_labels);
        self.compiles.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(StubTb::new(9, 100)))
    }
    fn unchain(&self, _tb: &dyn CompiledTb) {
        self.unchains.fetch_add(1, Ordering::Relaxed);
    }
    fn direct_entry(&self, _tb: &dyn CompiledTb) -> Option<(u64, u64)> {
        Some((1, 2))
    }
}

fn background(threshold: u32, cap: usize, hot: Arc<dyn Backend>) -> Tiered {
    Tiered::with_options(
        StubBackend::new(1),
        hot,
        TierOptions {
            threshold,
            workers: 1,
            queue_cap: cap,
            sample_promote: 0,
            steal_after: 0,
            min_insns: 0,
        },
    )
}

#[test]
fn background_promotion_keeps_running_cold_until_installed() {
    let hot = GatedBackend::new();
    let t = background(2, 16, hot.clone());
    let tb = t.compile(&Func::default()).unwrap();
    run(&tb);
    run(&tb);
    hot.wait_started(1);
    for _ in 0..5 {
        assert_eq!(run(&tb), 7, "cold while the worker compiles");
    }
    assert!(t.direct_entry(&*tb).is_none(), "no direct entry while cold");
    hot.open();
    t.wait_idle();
    assert_eq!(run(&tb), 9, "hot once installed");
    assert_eq!(t.direct_entry(&*tb), Some((1, 2)));
    assert_eq!(t.background_compiles(), 1);
    assert_eq!(hot.compiles.load(Ordering::Relaxed), 1);
}

#[test]
fn invalidation_while_compiling_discards_the_hot_code() {
    let hot = GatedBackend::new();
    let t = background(1, 16, hot.clone());
    let tb = t.compile(&Func::default()).unwrap();
    run(&tb);
    hot.wait_started(1);
    // The guest rewrote the code: the TB is unchained while its compile is in flight.
    t.unchain(&*tb);
    hot.open();
    t.wait_idle();
    assert!(
        t.direct_entry(&*tb).is_none(),
        "a dead TB is never entered directly"
    );
    assert!(!t.chain(1 << 63, &tb), "nor chained into");
    assert_eq!(
        hot.unchains.load(Ordering::Relaxed),
        1,
        "the hot code installed after the unchain was unchained by the worker"
    );
}

#[test]
fn dead_tbs_in_the_queue_are_not_compiled() {
    let hot = GatedBackend::new();
    let t = background(1, 16, hot.clone());
    let a = t.compile(&Func::default()).unwrap();
    let b = t.compile(&Func::default()).unwrap();
    run(&a);
    hot.wait_started(1); // the worker holds `a`; `b` waits in the queue
    run(&b);
    t.unchain(&*b);
    hot.open();
    t.wait_idle();
    assert_eq!(hot.compiles.load(Ordering::Relaxed), 1, "only `a` compiled");
    assert_eq!(run(&b), 7);
}

#[test]
fn a_flush_drops_queued_work() {
    let hot = GatedBackend::new();
    let t = background(1, 16, hot.clone());
    let a = t.compile(&Func::default()).unwrap();
    let b = t.compile(&Func::default()).unwrap();
    run(&a);
    hot.wait_started(1);
    run(&b);
    t.reset();
    hot.open();
    t.wait_idle();
    assert_eq!(hot.compiles.load(Ordering::Relaxed), 1, "`b` was dropped");
}

#[test]
fn a_full_queue_pushes_back_and_the_tb_asks_again() {
    let hot = GatedBackend::new();
    let t = background(2, 1, hot.clone());
    let a = t.compile(&Func::default()).unwrap();
    let b = t.compile(&Func::default()).unwrap();
    let c = t.compile(&Func::default()).unwrap();
    run(&a);
    run(&a);
    hot.wait_started(1); // `a` compiling, queue empty
    run(&b);
    run(&b); // `b` queued: the queue is full
    run(&c);
    run(&c); // refused
    hot.open();
    t.wait_idle();
    assert_eq!(hot.compiles.load(Ordering::Relaxed), 2);
    assert_eq!(run(&c), 7, "still cold");
    run(&c); // fourth run: asks again
    t.wait_idle();
    assert_eq!(run(&c), 9);
}

#[test]
fn the_hottest_queued_tb_is_compiled_first() {
    let hot = GatedBackend::new();
    let t = background(1, 16, hot.clone());
    let tagged = |tag: u32| {
        t.compile(&Func {
            nb_labels: tag,
            ..Func::default()
        })
        .unwrap()
    };
    let (first, cool, warm, hottest) = (tagged(1), tagged(2), tagged(3), tagged(4));
    run(&first);
    hot.wait_started(1); // the worker holds `first`; the others queue up behind it
    run(&cool);
    for _ in 0..20 {
        run(&warm);
    }
    for _ in 0..50 {
        run(&hottest);
    }
    hot.open();
    t.wait_idle();
    assert_eq!(*hot.order.lock().unwrap(), vec![1, 4, 3, 2]);
    assert_eq!(run(&cool), 9);
}

/// Gives the IR again at promotion (counting the calls), or nothing.
struct Source {
    calls: AtomicUsize,
    give: bool,
}

impl IrSource for Source {
    fn ir(&self) -> Option<Func> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.give.then(Func::default)
    }
}

#[test]
fn with_a_source_the_ir_is_had_again_at_promotion() {
    for give in [true, false] {
        let (_, hot, t) = setup(2);
        let src = Arc::new(Source {
            calls: AtomicUsize::new(0),
            give,
        });
        let tb = t
            .compile_with_source(&Func::default(), Some(src.clone()))
            .unwrap();
        run(&tb);
        assert_eq!(src.calls.load(Ordering::Relaxed), 0, "not before promotion");
        run(&tb);
        assert_eq!(src.calls.load(Ordering::Relaxed), 1);
        let promoted = hot.compiles.load(Ordering::Relaxed) == 1;
        assert_eq!(promoted, give, "promoted only when the IR could be had");
        assert_eq!(tb.code_size(), if give { 101 } else { 1 });
    }
}

#[test]
fn a_tb_left_waiting_in_the_queue_is_compiled_by_its_vcpu() {
    let hot = GatedBackend::new();
    let t = Tiered::with_options(
        StubBackend::new(1),
        hot.clone(),
        TierOptions {
            threshold: 2,
            workers: 1,
            queue_cap: 16,
            sample_promote: 0,
            steal_after: 4,
            min_insns: 0,
        },
    );
    hot.gate_tag.store(1, Ordering::Relaxed); // only `busy` waits
    let tagged = |tag: u32| {
        t.compile(&Func {
            nb_labels: tag,
            ..Func::default()
        })
        .unwrap()
    };
    let (busy, waiting) = (tagged(1), tagged(2));
    run(&busy);
    run(&busy);
    hot.wait_started(1); // the worker is stuck on `busy`
    for _ in 0..7 {
        assert_eq!(run(&waiting), 7, "queued, cold");
    }
    // The 8th run (4 thresholds) compiles it on this thread and runs the hot code.
    assert_eq!(
        run(&waiting),
        9,
        "stolen and compiled by the running thread"
    );
    let stolen = hot.compiles.load(Ordering::Relaxed);
    hot.open();
    assert_eq!(stolen, 1, "only the stolen one so far");
    t.wait_idle();
    assert_eq!(run(&busy), 9);
    assert_eq!(
        hot.compiles.load(Ordering::Relaxed),
        2,
        "the worker skipped `waiting`"
    );
}

/// The cold TB's run limit (where chains into it stop and the loop sees it again).
fn cold_limit(tb: &Arc<dyn CompiledTb>) -> u32 {
    let t = tiered(&**tb).expect("a tiered TB");
    let stub = t.cold.as_any().and_then(|a| a.downcast_ref::<StubTb>());
    stub.expect("a stub cold TB").limit.load(Ordering::Relaxed)
}

#[test]
fn a_queued_tb_runs_chained_until_the_next_ask() {
    let hot = GatedBackend::new();
    let t = background(3, 16, hot.clone());
    let tb = t.compile(&Func::default()).unwrap();
    run(&tb);
    run(&tb);
    let before = cold_limit(&tb);
    run(&tb);
    hot.wait_started(1);
    let queued = cold_limit(&tb);
    let cold_runs: Vec<u64> = (0..3).map(|_| run(&tb)).collect();
    let asked_again = cold_limit(&tb);
    // Let the worker finish before asserting: a failure must not leave it blocked.
    hot.open();
    t.wait_idle();
    assert_eq!(
        before, 0,
        "the cold back end's own limit until the first ask"
    );
    assert_eq!(
        queued, 6,
        "queued at run 3: chains continue until run 6, not back to the loop every run"
    );
    assert_eq!(cold_runs, [7, 7, 7], "cold while the worker compiles");
    assert_eq!(asked_again, 9, "asked again at run 6");
    assert_eq!(run(&tb), 9);
}

#[test]
fn samples_promote_when_the_cold_tier_counts_nothing() {
    let cold = StubBackend::new(1);
    let hot = StubBackend::new(100);
    let opts = TierOptions {
        sample_promote: 3,
        ..TierOptions::sync(1_000_000)
    };
    let t = Tiered::with_options(cold, hot.clone(), opts);
    let tb = t.compile(&Func::default()).unwrap();
    t.sample(&*tb);
    t.sample(&*tb);
    assert_eq!(tb.code_size(), 1, "cold after two samples");
    t.sample(&*tb);
    assert_eq!(tb.code_size(), 101, "hot after the third");
    assert_eq!(hot.compiles.load(Ordering::Relaxed), 1);
    // Samples of a promoted TB change nothing.
    t.sample(&*tb);
    assert_eq!(hot.compiles.load(Ordering::Relaxed), 1);
}

/// With `min_insns`, a short TB stays cold however hot it is, unless it loops to itself
/// or has vector ops; a TB with enough guest instructions is promoted as before.
#[test]
fn short_tbs_stay_cold_unless_they_loop_or_use_vectors() {
    let insns = |head: &str, n: usize, tail: &str| {
        let mut src = format!("global x0:i64 @0x100\n{head}");
        for k in 0..n {
            src += &format!(
                "  insn_start {:#x}\n  add.i64 x0, x0, $0x1\n",
                0x1000 + 4 * k
            );
        }
        src += tail;
        tcg_ir::text::parse(&src, &[]).expect("parses")
    };
    let cases = [
        (insns("", 3, "  exit_tb 0\n"), false, "3 instructions"),
        (insns("", 4, "  exit_tb 0\n"), true, "4 instructions"),
        (
            insns("self_loops 0x1\n", 1, "  goto_tb 0\n  exit_tb 0\n"),
            true,
            "a self loop",
        ),
    ];
    for (f, hot_expected, what) in cases {
        let (cold, hot) = (StubBackend::new(1), StubBackend::new(100));
        let opts = TierOptions {
            min_insns: 4,
            ..TierOptions::sync(2)
        };
        let t = Tiered::with_options(cold, hot.clone(), opts);
        let tb = t.compile(&f).unwrap();
        for _ in 0..10 {
            // SAFETY: the stub back ends never touch env.
            unsafe { tb.exec(std::ptr::null_mut()) };
        }
        assert_eq!(tb.code_size() == 101, hot_expected, "{what}");
    }
}

#[test]
fn samples_are_ignored_when_off_and_for_dead_tbs() {
    let (_, hot, t) = setup(1_000_000);
    let tb = t.compile(&Func::default()).unwrap();
    for _ in 0..100 {
        t.sample(&*tb);
    }
    assert_eq!(tb.code_size(), 1, "sample_promote 0: samples do nothing");
    let opts = TierOptions {
        sample_promote: 1,
        ..TierOptions::sync(1_000_000)
    };
    let t = Tiered::with_options(StubBackend::new(1), hot.clone(), opts);
    let tb = t.compile(&Func::default()).unwrap();
    t.unchain(&*tb);
    t.sample(&*tb);
    assert_eq!(tb.code_size(), 1, "an unchained TB is never promoted");
    assert_eq!(hot.compiles.load(Ordering::Relaxed), 0);
}
