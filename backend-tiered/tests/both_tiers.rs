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

/// The quick JIT as the cold tier, as `virt` runs it on x86-64.
fn tiered_quick(threshold: u32) -> Tiered {
    Tiered::new(
        Arc::new(
            backend_cranelift::CraneliftBackend::with_options(backend_cranelift::JitOptions {
                quick: true,
                count_runs: true,
                chain_limit: threshold,
                ..Default::default()
            })
            .expect("host JIT"),
        ),
        Arc::new(backend_cranelift::CraneliftBackend::new().expect("host JIT")),
        threshold,
    )
}

#[test]
fn results_match_across_promotion_from_quick_code() {
    let t = tiered_quick(4);
    let f = parse(
        "  insn_start 0x40000000\n  mul.i64 x2, x1, x1\n  add.i64 x2, x2, $0x3\n  exit_tb 0x20\n",
    );
    let tb = t.compile(&f).expect("compile");
    let mut sizes = Vec::new();
    for i in 0..8u64 {
        let out = run(&*tb, &Init::new(&[(1, i + 10)]));
        assert_eq!(out.exit, 0x20);
        assert_eq!(out.regs[2], (i + 10) * (i + 10) + 3, "run {i}");
        sizes.push(tb.code_size());
    }
    assert_ne!(
        sizes[7], sizes[0],
        "promoted to Cranelift's code: {sizes:?}"
    );
}

#[test]
fn results_match_across_promotion() {
    let t = tiered(4);
    let f = parse(
        "  insn_start 0x40000000\n  mul.i64 x2, x1, x1\n  add.i64 x2, x2, $0x3\n  exit_tb 0x20\n",
    );
    let tb = t.compile(&f).expect("compile");
    let mut sizes = Vec::new();
    for i in 0..8u64 {
        let out = run(&*tb, &Init::new(&[(1, i + 10)]));
        assert_eq!(out.exit, 0x20);
        assert_eq!(out.regs[2], (i + 10) * (i + 10) + 3, "run {i}");
        sizes.push(tb.code_size());
    }
    assert!(sizes[7] > sizes[0], "promoted to the JIT: {sizes:?}");
}
