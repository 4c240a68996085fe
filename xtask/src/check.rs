//! `cargo xtask test`'s lockstep checks (`virt --check`, crate `backend-check`): a short
//! Linux boot must pass `--check jit,interp`, and a deliberate JIT miscompile must be
//! caught and reported with its TB.

use crate::linux;
use crate::paths::Paths;
use crate::Report;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The kernel log line the checked boot stops at: early enough to stay short (about 9x
/// the time of a plain jit/rr boot to it), late enough to have run KASLR relocation, the
/// MMU bring-up, the memory allocators, the timer and interrupt setup.
pub const BOOT_UNTIL: &str = "Console: colour dummy device";
const BOOT_TIMEOUT: Duration = Duration::from_secs(150);

fn boot(virt: &Path, kernel: &Path, checked: &str) -> Command {
    let mut cmd = Command::new(virt);
    cmd.arg("--kernel")
        .arg(kernel)
        .args(["--append", "console=ttyAMA0", "--no-stdin", "--smp", "1"])
        .args(["--check", &format!("{checked},interp")]);
    cmd
}

pub fn checks(report: &mut Report, paths: &Paths) {
    let kernel = match linux::kernel(paths) {
        Ok(k) => k,
        Err(e) => {
            report.fail("fetch Debian's arm64 kernel", &format!("{e:#}"));
            return;
        }
    };
    let virt = paths.virt();
    // 1. A boot passes: no divergence before the line.
    let what = format!("linux --check jit,interp to \"{BOOT_UNTIL}\"");
    match linux::boot_until(boot(&virt, &kernel, "jit"), BOOT_UNTIL, BOOT_TIMEOUT) {
        Ok(b) if b.reached.is_some() && !b.log.contains("divergence") => {
            report.pass(&what, b.reached.unwrap_or(b.elapsed))
        }
        Ok(b) => report.fail(&what, &last_lines(&b.log, 40)),
        Err(e) => report.fail(&what, &format!("{e:#}")),
    }
    // 2. A JIT that compiles `add x, y, #1` as a subtraction is caught, with a report
    // naming the TB, its code, its IR and the differing register.
    let what = "--check catches an injected JIT miscompile (add #1 -> sub)";
    let mut cmd = boot(&virt, &kernel, "jit");
    cmd.env("VIRT_TEST_MISCOMPILE_ADD_IMM", "1");
    match linux::boot_until(cmd, "-- differences", BOOT_TIMEOUT) {
        Ok(b) => {
            let named = b.log.contains("divergence in the TB at guest pc 0x")
                && b.log.contains("-- guest code --")
                && b.log.contains("-- IR (optimised) --")
                && b.log.contains("add.i64");
            if b.reached.is_some() && named {
                report.pass(what, b.reached.unwrap_or(b.elapsed))
            } else {
                report.fail(what, &last_lines(&b.log, 40))
            }
        }
        Err(e) => report.fail(what, &format!("{e:#}")),
    }
}

fn last_lines(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
