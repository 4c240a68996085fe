//! The same TB gives the same results before and after promotion from the interpreter
//! to the JIT, and hot TBs chain.

#[path = "../../backend-cranelift/tests/common/mod.rs"]
mod common;

use backend_tiered::Tiered;
use common::{parse, run, Init};
use std::sync::Arc;
use tcg_ir::Backend;

fn tiered(threshold: u32) -> Tiered {
    Tiered::new(
        Arc::new(backend_interp::Interp::new()),
        Arc::new(backend_cranelift::CraneliftBackend::new().expect("host JIT")),
        threshold,
    )
}

/// The quick JIT as the cold tier, sharing the hot JIT's arenas, as `virt` runs it on
/// x86-64.
fn tiered_quick(threshold: u32) -> Tiered {
    let jit = Arc::new(backend_cranelift::CraneliftBackend::new().expect("host JIT"));
    Tiered::new(
        Arc::new(backend_cranelift::QuickTier::new(jit.clone(), threshold).expect("x86-64")),
        jit,
        threshold,
    )
}

/// The TB, its direct entry before it ran, and its code size after each run.
type Promoted = (Arc<dyn tcg_ir::CompiledTb>, Option<(u64, u64)>, Vec<usize>);

/// Compiles `x2 = x1 * x1 + 3` on `t` and runs it 8 times checking the result (its code
/// size grows or changes at promotion).
fn run_across_promotion(t: &Tiered) -> Promoted {
    let f = parse(
        "  insn_start 0x40000000\n  mul.i64 x2, x1, x1\n  add.i64 x2, x2, $0x3\n  exit_tb 0x20\n",
    );
    let tb = t.compile(&f).expect("compile");
    let entry = t.direct_entry(&*tb);
    let mut sizes = Vec::new();
    for i in 0..8u64 {
        let out = run(&*tb, &Init::new(&[(1, i + 10)]));
        assert_eq!(out.exit, 0x20);
        assert_eq!(out.regs[2], (i + 10) * (i + 10) + 3, "run {i}");
        sizes.push(tb.code_size());
    }
    (tb, entry, sizes)
}

#[test]
fn results_match_across_promotion_from_quick_code() {
    let t = tiered_quick(4);
    let (tb, cold_entry, sizes) = run_across_promotion(&t);
    assert!(cold_entry.is_some(), "quick code can be jumped to");
    assert_ne!(
        sizes[7], sizes[0],
        "promoted to Cranelift's code: {sizes:?}"
    );
    let hot_entry = t.direct_entry(&*tb);
    assert!(
        hot_entry.is_some() && hot_entry != cold_entry,
        "the jump cache gets the hot code"
    );
}

#[test]
fn results_match_across_promotion() {
    let (_, _, sizes) = run_across_promotion(&tiered(4));
    assert!(sizes[7] > sizes[0], "promoted to the JIT: {sizes:?}");
}
