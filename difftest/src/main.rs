//! `difftest`: random A64 sequences on qemu-aarch64 and on our emulator, compared.
//! Usually started by `cargo xtask difftest`, which builds the harness.

use difftest::gen::{Case, Generator, Only};
use difftest::ours::{BackendKind, OurSide};
use difftest::{compare, initial, known_bug, listing, qemu, State};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: difftest --harness PATH [--qemu PATH] [--seed S] [--count N]
                [--backend jit|interp|quick|both|all] [--max-len L] [--batch B] [--case K]
                [--only PART]
  --count N     tested instructions to generate (default 100000)
  --max-len L   tested instructions per sequence: 1..=L (default 16)
  --batch B     sequences per qemu-aarch64 process (default 1000)
  --case K      replay only case K of the seed and print it (same --only as the run)
  --only PART   generate only one part of the ISA: all (default, mixed), base,
                fp (= fp-scalar + fp-vector), fp-scalar, fp-vector, simd (all FP/SIMD),
                int (AdvSIMD integer), crypto, ldst (SIMD&FP loads/stores)";

struct Args {
    harness: PathBuf,
    qemu: PathBuf,
    seed: u64,
    count: u64,
    backends: Vec<BackendKind>,
    max_len: u64,
    batch: u64,
    case: Option<u64>,
    only: Only,
    only_name: String,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        harness: PathBuf::new(),
        qemu: PathBuf::from("qemu-aarch64"),
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 % 1_000_000_007)
            .unwrap_or(1),
        count: 100_000,
        backends: vec![BackendKind::Jit, BackendKind::Interp, BackendKind::Quick],
        max_len: 16,
        batch: 1000,
        case: None,
        only: Only::All,
        only_name: "all".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        let num = |s: String| -> Result<u64, String> {
            let r = match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            r.map_err(|_| format!("`{s}` is not a number"))
        };
        match k.as_str() {
            "--harness" => a.harness = v()?.into(),
            "--qemu" => a.qemu = v()?.into(),
            "--seed" => a.seed = num(v()?)?,
            "--count" => a.count = num(v()?)?,
            "--max-len" => a.max_len = num(v()?)?.clamp(1, 200),
            "--batch" => a.batch = num(v()?)?.max(1),
            "--case" => a.case = Some(num(v()?)?),
            "--only" => {
                let o = v()?;
                a.only = Only::parse(&o)
                    .ok_or(format!("unknown part `{o}` (one of: {})", Only::NAMES))?;
                a.only_name = o;
            }
            "--backend" => {
                a.backends = match v()?.as_str() {
                    "jit" => vec![BackendKind::Jit],
                    "interp" => vec![BackendKind::Interp],
                    "quick" => vec![BackendKind::Quick],
                    "both" => vec![BackendKind::Jit, BackendKind::Interp],
                    "all" => vec![BackendKind::Jit, BackendKind::Interp, BackendKind::Quick],
                    o => {
                        return Err(format!(
                            "unknown backend `{o}` (jit, interp, quick, both, all)"
                        ))
                    }
                }
            }
            "-h" | "--help" => return Err(USAGE.into()),
            o => return Err(format!("unexpected argument `{o}`\n{USAGE}")),
        }
    }
    if a.harness.as_os_str().is_empty() {
        return Err(format!("--harness is required\n{USAGE}"));
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("difftest: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn per_min(insns: u64, t: Duration) -> f64 {
    insns as f64 * 60.0 / t.as_secs_f64().max(1e-9)
}

fn label(backends: &[BackendKind]) -> String {
    backends
        .iter()
        .map(|b| b.name())
        .collect::<Vec<_>>()
        .join("+")
}

fn report(args: &Args, case: &Case, backend: &str, qemu: &str, detail: &str) {
    println!(
        "difftest: MISMATCH seed={} case={} backend={backend}",
        args.seed, case.index
    );
    println!(
        "  reproduce: cargo xtask difftest --seed {} --case {} --backend {backend}{}",
        args.seed,
        case.index,
        if args.only == Only::All {
            String::new()
        } else {
            format!(" --only {}", args.only_name)
        }
    );
    println!("  sequence:\n{}", listing(case));
    println!("  initial state:");
    for l in initial(case).lines() {
        println!("    {l}");
    }
    println!("  qemu: {qemu}");
    print!("{detail}");
}

/// Compares one case on every back end; prints and returns false on an unexpected
/// mismatch.
fn check(
    args: &Args,
    case: &Case,
    q: Option<&State>,
    q_problem: Option<&str>,
    ours: &[(BackendKind, Result<State, String>)],
    known: &mut u64,
) -> bool {
    for (kind, r) in ours {
        let detail = match (q, r) {
            (Some(q), Ok(o)) => match compare(q, o) {
                None => continue,
                Some(d) => d,
            },
            (Some(_), Err(e)) => format!("  ours: {e}\n"),
            (None, Ok(_)) => format!(
                "  qemu did not finish this case: {}\n  ours: finished\n",
                q_problem.unwrap_or("?")
            ),
            (None, Err(e)) => format!(
                "  qemu did not finish this case: {}\n  ours: {e}\n",
                q_problem.unwrap_or("?")
            ),
        };
        if let Some(bug) = known_bug(case) {
            *known += 1;
            println!(
                "difftest: known bug tolerated (case {}, {}): {}",
                case.index,
                kind.name(),
                bug.what
            );
            return true;
        }
        report(
            args,
            case,
            kind.name(),
            if q.is_some() { "finished" } else { "stopped" },
            &detail,
        );
        return false;
    }
    true
}

fn run(args: &Args) -> Result<bool, String> {
    let gen = Generator::with_only(args.only);
    let mut sides: Vec<OurSide> = args
        .backends
        .iter()
        .map(|&b| OurSide::new(b))
        .collect::<Result<_, _>>()?;

    if let Some(k) = args.case {
        let case = gen.case(args.seed, k, args.max_len);
        println!("seed {} case {k}:\n{}", args.seed, listing(&case));
        println!("{}", initial(&case));
        let q = qemu::run(&args.qemu, &args.harness, std::slice::from_ref(&case))?;
        let ours: Vec<_> = sides.iter_mut().map(|s| (s.kind(), s.run(&case))).collect();
        let mut known = 0;
        let ok = check(
            args,
            &case,
            q.states.first(),
            q.problem.as_deref(),
            &ours,
            &mut known,
        );
        if ok {
            let s = &q.states[0];
            println!("all sides agree; final state:");
            for (i, x) in s.x.iter().enumerate() {
                print!("x{i:<2}={x:#018x}{}", if i % 4 == 3 { "\n" } else { "  " });
            }
            println!("sp ={:#018x}  nzcv={:#x}", s.sp, s.nzcv >> 28);
            println!("fpcr={:#010x}  fpsr={:#010x}", s.fpcr, s.fpsr);
            for (i, v) in s.v.iter().enumerate() {
                print!(
                    "v{i:<2}={}{}",
                    difftest::vreg(*v),
                    if i % 2 == 1 { "\n" } else { "  " }
                );
            }
        }
        return Ok(ok);
    }

    println!(
        "difftest: seed {} count {} backend {} only {} ({} pattern rows)",
        args.seed,
        args.count,
        label(&args.backends),
        args.only_name,
        gen.rows().len()
    );
    let start = Instant::now();
    let mut qemu_time = Duration::ZERO;
    let mut our_time = vec![Duration::ZERO; sides.len()];
    let (mut insns, mut seqs, mut index, mut known) = (0u64, 0u64, 0u64, 0u64);
    while insns < args.count {
        let mut batch = Vec::new();
        let mut batch_insns = 0;
        while batch.len() < args.batch as usize && insns + batch_insns < args.count {
            let c = gen.case(args.seed, index, args.max_len);
            index += 1;
            batch_insns += c.insn_count() as u64;
            batch.push(c);
        }
        let batch = std::sync::Arc::new(batch);
        let qb = batch.clone();
        let (qemu_path, harness) = (args.qemu.clone(), args.harness.clone());
        let qemu_thread = std::thread::spawn(move || {
            let t = Instant::now();
            let r = qemu::run(&qemu_path, &harness, &qb);
            (r, t.elapsed())
        });
        let mut results: Vec<Vec<Result<State, String>>> = Vec::new();
        for (i, side) in sides.iter_mut().enumerate() {
            let t = Instant::now();
            results.push(batch.iter().map(|c| side.run(c)).collect());
            our_time[i] += t.elapsed();
        }
        let (q, qt) = qemu_thread.join().map_err(|_| "qemu thread panicked")?;
        let q = q?;
        qemu_time += qt;
        for (i, case) in batch.iter().enumerate() {
            let ours: Vec<_> = sides
                .iter()
                .zip(&results)
                .map(|(s, r)| (s.kind(), r[i].clone()))
                .collect();
            if !check(
                args,
                case,
                q.states.get(i),
                q.problem.as_deref(),
                &ours,
                &mut known,
            ) {
                println!(
                    "difftest: stopped at the first mismatch after {seqs} sequences, {insns} \
                     instructions"
                );
                return Ok(false);
            }
            seqs += 1;
            insns += case.insn_count() as u64;
        }
        if let Some(p) = &q.problem {
            // Every case compared, yet the harness failed (e.g. at exit).
            return Err(p.clone());
        }
    }
    let wall = start.elapsed();
    println!(
        "difftest: {seqs} sequences, {insns} instructions, 0 mismatches ({}){}, {:.0} insns/min",
        label(&args.backends),
        if known > 0 {
            format!(", {known} tolerated known-bug case(s)")
        } else {
            String::new()
        },
        per_min(insns, wall)
    );
    let mut detail = format!(
        "difftest: wall {:.2} s; qemu {:.2} s ({:.0} insns/min)",
        wall.as_secs_f64(),
        qemu_time.as_secs_f64(),
        per_min(insns, qemu_time)
    );
    for (s, t) in sides.iter().zip(&our_time) {
        detail += &format!(
            "; {} {:.2} s ({:.0} insns/min)",
            s.kind().name(),
            t.as_secs_f64(),
            per_min(insns, *t)
        );
    }
    println!("{detail}");
    Ok(true)
}
