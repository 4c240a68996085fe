//! `cargo xtask fuzz`: coverage-guided fuzzing with libFuzzer (`fuzz/`, its own cargo
//! workspace).
//!
//! The targets are built the way cargo-fuzz builds them, on the stable toolchain: release,
//! `--cfg fuzzing`, debug assertions and overflow checks on, and LLVM's sanitizer coverage
//! (inline 8-bit counters, PC table, compare tracing) that libFuzzer (from the
//! `libfuzzer-sys` crate) reads. `--target` keeps the flags off build scripts and proc
//! macros. Binaries, the growing corpora and crash artifacts live under `target/fuzz/`;
//! the seed corpora in the repo (`fuzz/corpus/TARGET/`) are only read, and inputs of fixed
//! findings (`fuzz/regressions/TARGET/`) are replayed before every run.

use crate::paths::Paths;
use crate::Report;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Target name, whether it needs the JIT (the `jit` feature), what it fuzzes.
pub const TARGETS: &[(&str, bool, &str)] = &[
    (
        "decode",
        false,
        "A64 decoder and disassembler on random words",
    ),
    (
        "translate",
        true,
        "translator + optimiser + interp vs jit/quick at EL0/EL1; IR text round trip",
    ),
    (
        "loaders",
        false,
        "ELF / Image / raw / gzip / DTB loaders, boot layout",
    ),
    (
        "mmio",
        false,
        "PL011, PL031, GIC distributor and CPU interface, virtio-mmio",
    ),
    (
        "virtq",
        false,
        "virtqueue descriptor chains, rings, indirect tables",
    ),
];

/// Seconds per target in `cargo xtask test`.
pub const CI_SECONDS: u64 = 15;

const SANCOV_FLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "--cfg",
    "fuzzing",
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

fn host_triple() -> Result<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("running rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .context("no host triple in rustc -vV")
}

fn fuzz_dir(paths: &Paths) -> PathBuf {
    paths.root.join("fuzz")
}

fn out_dir(paths: &Paths) -> PathBuf {
    paths.root.join("target").join("fuzz")
}

/// Builds the fuzz binaries named (all targets of the features needed).
fn build(paths: &Paths, targets: &[&str]) -> Result<PathBuf> {
    let triple = host_triple()?;
    let jit = targets
        .iter()
        .any(|t| TARGETS.iter().any(|(n, j, _)| n == t && *j));
    let features = if jit { "fuzzer,jit" } else { "fuzzer" };
    let mut cmd = crate::cargo();
    cmd.args(["build", "--release", "--manifest-path"])
        .arg(fuzz_dir(paths).join("Cargo.toml"))
        .args(["--target", &triple, "--features", features])
        .env("CARGO_TARGET_DIR", out_dir(paths))
        .env("RUSTFLAGS", SANCOV_FLAGS.join(" "));
    for t in targets {
        cmd.args(["--bin", t]);
    }
    let status = cmd.status().context("running cargo build for fuzz/")?;
    if !status.success() {
        bail!("building the fuzz targets failed ({status})");
    }
    Ok(out_dir(paths).join(triple).join("release"))
}

/// The files of `dir` (none if it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The outcome of one fuzzing run.
struct Run {
    ok: bool,
    log_tail: String,
    artifacts: Vec<PathBuf>,
    execs: Option<u64>,
}

/// Replays the regression inputs, then fuzzes `target` for `seconds` at the lowest
/// priority.
fn run(paths: &Paths, bin_dir: &Path, target: &str, seconds: u64) -> Result<Run> {
    let bin = bin_dir.join(target);
    let seeds = fuzz_dir(paths).join("corpus").join(target);
    let regressions = files(&fuzz_dir(paths).join("regressions").join(target));
    let work = out_dir(paths).join("corpus").join(target);
    let artifacts = out_dir(paths).join("artifacts").join(target);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    std::fs::create_dir_all(&artifacts)?;
    let before = files(&artifacts);
    let nice = |c: &mut Command| {
        let mut n = Command::new("nice");
        n.args(["-n", "19"]).arg(c.get_program()).args(c.get_args());
        n
    };
    if !regressions.is_empty() {
        let mut c = Command::new(&bin);
        c.args(&regressions);
        let out = nice(&mut c)
            .output()
            .with_context(|| format!("starting {}", bin.display()))?;
        if !out.status.success() {
            return Ok(Run {
                ok: false,
                log_tail: tail(&String::from_utf8_lossy(&out.stderr), 30),
                artifacts: vec![],
                execs: None,
            });
        }
    }
    let mut c = Command::new(&bin);
    c.arg(&work)
        .arg(&seeds)
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .args(["-max_len=4096", "-timeout=20", "-rss_limit_mb=3072"])
        .args(["-print_final_stats=1"]);
    let out = nice(&mut c)
        .output()
        .with_context(|| format!("starting {}", bin.display()))?;
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    let execs = log
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|v| v.trim().parse().ok());
    let after = files(&artifacts);
    Ok(Run {
        ok: out.status.success(),
        log_tail: tail(&log, 40),
        artifacts: after.into_iter().filter(|a| !before.contains(a)).collect(),
        execs,
    })
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `cargo xtask fuzz --list | TARGET [--seconds N]`.
pub fn cmd(args: &[String]) -> Result<()> {
    let mut opts = crate::Opts::new(args);
    if opts.flag("--list") {
        for (name, jit, what) in TARGETS {
            let note = if *jit { " (builds the JIT)" } else { "" };
            println!("{name:<10} {what}{note}");
        }
        return opts.finish();
    }
    let seconds = opts.number("--seconds", 600)?;
    let Some(target) = opts.args.first().cloned() else {
        bail!("usage: cargo xtask fuzz --list | TARGET [--seconds N]");
    };
    opts.args.remove(0);
    opts.finish()?;
    if !TARGETS.iter().any(|(n, _, _)| *n == target) {
        bail!("no fuzz target `{target}` (cargo xtask fuzz --list)");
    }
    let paths = Paths::new();
    let bins = build(&paths, &[&target])?;
    let start = Instant::now();
    let r = run(&paths, &bins, &target, seconds)?;
    println!("{}", r.log_tail);
    println!(
        "fuzz {target}: {:.0} s, {} executions",
        start.elapsed().as_secs_f64(),
        r.execs.map_or("?".into(), |e| e.to_string())
    );
    if !r.ok {
        for a in &r.artifacts {
            println!("crash input: {}", a.display());
        }
        // A signal (Ctrl-C, or `cargo xtask test` rebuilding the binary) stops libFuzzer
        // with a failing status but no crash input: that is not a finding.
        if r.artifacts.is_empty() && r.log_tail.contains("run interrupted") {
            bail!("fuzz target {target} was interrupted before its time was up (no finding)");
        }
        bail!("fuzz target {target} found a failure");
    }
    Ok(())
}

/// The short runs of `cargo xtask test`: every target for [`CI_SECONDS`].
pub fn ci(report: &mut Report, paths: &Paths) {
    let start = Instant::now();
    let names: Vec<&str> = TARGETS.iter().map(|(n, _, _)| *n).collect();
    let bins = match build(paths, &names) {
        Ok(b) => {
            report.pass("fuzz: build the targets", start.elapsed());
            b
        }
        Err(e) => {
            report.fail("fuzz: build the targets", &format!("{e:#}"));
            return;
        }
    };
    for name in names {
        let what = format!("fuzz {name} ({CI_SECONDS} s)");
        let t = Instant::now();
        match run(paths, &bins, name, CI_SECONDS) {
            Ok(r) if r.ok => report.pass(
                &format!(
                    "{what}: {} executions",
                    r.execs.map_or("?".into(), |e| e.to_string())
                ),
                t.elapsed(),
            ),
            Ok(r) => {
                let inputs: Vec<String> = r
                    .artifacts
                    .iter()
                    .map(|a| a.display().to_string())
                    .collect();
                report.fail(
                    &what,
                    &format!("inputs: {}\n{}", inputs.join(" "), r.log_tail),
                )
            }
            Err(e) => report.fail(&what, &format!("{e:#}")),
        }
    }
}
