//! Unit tests with stub back ends (no code generation): promotion at the threshold, no
//! promotion after unchain, chaining only between hot TBs, CodeFull propagation.

use super::*;
use std::sync::atomic::AtomicUsize;

/// A TB returning a fixed value; `size` tells the tiers apart.
struct StubTb {
    ret: u64,
    size: usize,
}

impl CompiledTb for StubTb {
    unsafe fn exec(&self, _env: *mut u8) -> u64 {
        self.ret
    }
    fn code_size(&self) -> usize {
        self.size
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
        Ok(Arc::new(StubTb {
            ret: 7,
            size: self.size,
        }))
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
fn chains_only_into_hot_tbs() {
    let (_, hot, t) = setup(2);
    let a = t.compile(&Func::default()).unwrap();
    assert!(!t.chain(1 << 63, &a), "cold target");
    run(&a);
    run(&a);
    assert!(t.chain(1 << 63, &a), "hot target");
    assert_eq!(hot.chains.load(Ordering::Relaxed), 1);
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
