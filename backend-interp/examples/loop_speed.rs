//! Quick side-by-side of the guest loop (`benches/guest_loop`): best of several
//! interleaved runs per configuration, as ns per guest instruction (robust against a busy
//! machine, unlike a mean). `cargo run --release -p backend-interp --example loop_speed`.

#[path = "../benches/guest_loop/mod.rs"]
mod guest_loop;

use backend_cranelift::CraneliftBackend;
use backend_interp::Interp;
use guest_loop::Machine;
use std::time::Instant;
use tcg_ir::Backend;

fn main() {
    let iters = 20;
    let interp = Interp::new();
    let jit = CraneliftBackend::new().expect("host JIT");
    let (_, _, insns) = Machine::new(false).run(&interp, iters);
    let configs: [(&str, &dyn Backend, bool); 3] = [
        ("interp chained", &interp, true),
        ("interp unchained", &interp, false),
        ("jit chained", &jit, true),
    ];
    let mut machines: Vec<Machine> = configs.iter().map(|c| Machine::new(c.2)).collect();
    let mut best = [f64::MAX; 3];
    for _ in 0..30 {
        for (k, (_, be, _)) in configs.iter().enumerate() {
            let t = Instant::now();
            machines[k].run(*be, iters);
            let ns = t.elapsed().as_nanos() as f64 / insns as f64;
            best[k] = best[k].min(ns);
        }
    }
    println!("{insns} guest instructions per run");
    for (k, (name, _, _)) in configs.iter().enumerate() {
        println!("{name:18} {:6.2} ns/insn", best[k]);
    }

    // Compile time of the loop's TBs (verify + compile; the IR is made once).
    let mut m = Machine::new(false);
    m.run(&interp, 1);
    let mut pcs: Vec<(u64, u64)> = m.tbs.iter().map(|(&pc, t)| (pc, t.0)).collect();
    pcs.sort();
    let funcs: Vec<_> = pcs.iter().map(|&(pc, _)| guest_loop::tb_ir(pc)).collect();
    let ninsns: u64 = pcs.iter().map(|p| p.1).sum();
    let mut best = f64::MAX;
    let reps = std::env::var("COMPILE_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    for _ in 0..reps {
        let t = Instant::now();
        for f in &funcs {
            std::hint::black_box(interp.compile(f).expect("compile"));
        }
        best = best.min(t.elapsed().as_nanos() as f64);
    }
    let mut vbest = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        for f in &funcs {
            std::hint::black_box(tcg_ir::verify::verify(f).is_ok());
        }
        vbest = vbest.min(t.elapsed().as_nanos() as f64);
    }
    println!(
        "of which IR verification: {:.0} ns/TB",
        vbest / funcs.len() as f64
    );
    println!(
        "compile: {} TBs, {ninsns} guest instructions: {:.0} ns/TB, {:.0} ns/insn",
        funcs.len(),
        best / funcs.len() as f64,
        best / ninsns as f64
    );
}
