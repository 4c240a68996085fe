//! `cargo xtask difftest`: builds the qemu-user harness (`guests/difftest/`) and the
//! `difftest` runner (release), then runs random A64 sequences on `qemu-aarch64` and on
//! our back ends and compares them (see `difftest/src/lib.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};

use crate::guests::CROSS_CC;
use crate::paths::Paths;

/// qemu-user: the reference the sequences run on.
pub const QEMU_USER: &str = "qemu-aarch64";

/// The fixed-seed run of `cargo xtask test`: 20 000 tested instructions on every back end
/// the default mix (about 40% base ISA, 60% FP, AdvSIMD, crypto and SIMD&FP loads/stores).
pub const CI_ARGS: &[&str] = &["--seed", "20240601", "--count", "20000", "--backend", "all"];

const HARNESS_SOURCES: &[&str] = &["harness.S", "harness.c"];

/// Static freestanding Linux program; runs under qemu-aarch64.
const HARNESS_CFLAGS: &[&str] = &[
    "-O2",
    "-ffreestanding",
    "-nostdlib",
    "-nostartfiles",
    "-static",
    "-mgeneral-regs-only",
    "-fno-pic",
    "-no-pie",
    "-fno-stack-protector",
    "-fno-tree-loop-distribute-patterns",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wl,--build-id=none",
    "-Wl,--no-warn-rwx-segments",
];

fn harness_path(paths: &Paths) -> PathBuf {
    paths.guest_out().join("difftest-harness")
}

fn newest(dir: &Path) -> Result<SystemTime> {
    let mut t = SystemTime::UNIX_EPOCH;
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        if let Ok(m) = e?.metadata().and_then(|m| m.modified()) {
            t = t.max(m);
        }
    }
    Ok(t)
}

/// Builds the harness if it is older than its sources.
pub fn build_harness(paths: &Paths) -> Result<PathBuf> {
    if crate::tools::find_in_path(CROSS_CC).is_none() {
        bail!(
            "the AArch64 cross compiler `{CROSS_CC}` is not installed; install it with\n    {}",
            crate::tools::APT_HINT
        );
    }
    let src = paths.guests_src().join("difftest");
    let out = harness_path(paths);
    let up_to_date = out
        .metadata()
        .and_then(|m| m.modified())
        .is_ok_and(|t| newest(&src).is_ok_and(|n| t >= n));
    if up_to_date {
        return Ok(out);
    }
    std::fs::create_dir_all(paths.guest_out())?;
    eprintln!("building the difftest harness");
    let status = Command::new(CROSS_CC)
        .current_dir(&src)
        .args(HARNESS_CFLAGS)
        .arg("-o")
        .arg(&out)
        .args(HARNESS_SOURCES)
        .status()
        .with_context(|| format!("running {CROSS_CC}"))?;
    if !status.success() {
        let _ = std::fs::remove_file(&out);
        bail!("building the difftest harness failed ({status})");
    }
    Ok(out)
}

/// Builds everything and runs the difftest binary with `args`.
pub fn run(paths: &Paths, args: &[String]) -> Result<()> {
    if crate::tools::find_in_path(QEMU_USER).is_none() {
        bail!(
            "`{QEMU_USER}` (qemu-user) is not installed; install it with\n    {}",
            crate::tools::APT_HINT
        );
    }
    let harness = build_harness(paths)?;
    crate::cargo_run(&["build", "--release", "-p", "difftest"])?;
    let bin = paths.target.join("release").join("difftest");
    let status = Command::new(&bin)
        .arg("--harness")
        .arg(&harness)
        .arg("--qemu")
        .arg(QEMU_USER)
        .args(args)
        .status()
        .with_context(|| format!("starting {}", bin.display()))?;
    if !status.success() {
        bail!("difftest failed ({status})");
    }
    Ok(())
}

pub fn cmd(args: &[String]) -> Result<()> {
    run(&Paths::new(), args)
}

/// The fixed-seed run `cargo xtask test` does.
pub fn ci(paths: &Paths) -> Result<()> {
    let args: Vec<String> = CI_ARGS.iter().map(|s| s.to_string()).collect();
    run(paths, &args)
}
