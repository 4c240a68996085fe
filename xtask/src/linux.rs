//! Debian's arm64 Linux kernel: fetching it (as a Debian package, with `apt-get download`
//! for the arm64 architecture, leaving the host's apt configuration alone) into
//! `target/linux/`, and booting it until a line that ends the run appears.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::paths::Paths;

/// The line Linux prints when it has booted as far as it can without a root file system.
pub const VFS_PANIC: &str = "Kernel panic - not syncing: VFS: Unable to mount root fs";

/// The meta-package whose dependency names the current kernel package.
const META_PACKAGE: &str = "linux-image-arm64";

pub(crate) fn cache_dir(paths: &Paths) -> PathBuf {
    paths.target.join("linux")
}

/// apt options that point apt at a private package-list directory for arm64.
pub(crate) fn apt_opts(lists: &Path) -> Vec<String> {
    vec![
        "-oAPT::Architecture=arm64".into(),
        "-oAPT::Architectures=arm64".into(),
        format!("-oDir::State::Lists={}", lists.display()),
        "-oDebug::NoLocking=1".into(),
    ]
}

pub(crate) fn run_ok(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.output().with_context(|| format!("starting {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The kernel Image (`target/linux/vmlinuz`), downloaded and unpacked on first use.
pub fn kernel(paths: &Paths) -> Result<PathBuf> {
    let dir = cache_dir(paths);
    let image = dir.join("vmlinuz");
    if image.is_file() {
        return Ok(image);
    }
    let lists = dir.join("lists");
    let dl = dir.join("dl");
    std::fs::create_dir_all(lists.join("partial"))?;
    std::fs::create_dir_all(&dl)?;
    let opts = apt_opts(&lists);
    eprintln!(
        "fetching Debian's arm64 kernel package into {}",
        dl.display()
    );
    run_ok(
        Command::new("apt-get").args(&opts).arg("update"),
        "apt-get update (arm64 lists)",
    )?;
    let deps = run_ok(
        Command::new("apt-cache")
            .args(&opts)
            .args(["depends", META_PACKAGE]),
        "apt-cache depends",
    )?;
    let Some(pkg) = deps
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-") && p.ends_with("-arm64"))
    else {
        bail!("no linux-image-*-arm64 dependency in `apt-cache depends {META_PACKAGE}`:\n{deps}");
    };
    run_ok(
        Command::new("apt-get")
            .args(&opts)
            .args(["download", pkg])
            .current_dir(&dl),
        "apt-get download",
    )?;
    let deb = std::fs::read_dir(&dl)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy().starts_with(pkg) && p.extension().is_some_and(|x| x == "deb")
            })
        })
        .with_context(|| format!("{pkg}*.deb not found in {}", dl.display()))?;
    let unpacked = dir.join("pkg");
    run_ok(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked),
        "dpkg-deb -x",
    )?;
    let boot = unpacked.join("boot");
    let found = std::fs::read_dir(&boot)
        .with_context(|| format!("reading {}", boot.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .with_context(|| format!("no vmlinuz-* in {}", boot.display()))?;
    std::fs::copy(&found, &image)
        .with_context(|| format!("copying {} to {}", found.display(), image.display()))?;
    std::fs::write(dir.join("VERSION"), format!("{pkg}\n"))?;
    Ok(image)
}

/// How a boot run ended.
#[derive(Debug)]
pub struct Boot {
    /// Console output up to the end (stdout and stderr interleaved by line).
    pub log: String,
    /// Time from start to the `until` line, if it appeared.
    pub reached: Option<Duration>,
    pub elapsed: Duration,
    /// The child's peak resident set (VmHWM) just before it was stopped, in KiB, when it
    /// was still running then (Linux hosts).
    pub peak_rss_kib: Option<u64>,
}

/// The peak resident set (`VmHWM`) of the running process `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `cmd` (stdin closed) until a line of its output contains `until` (then kills it),
/// it exits, or `timeout` passes.
pub fn boot_until(mut cmd: Command, until: &str, timeout: Duration) -> Result<Boot> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {program}"))?;
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(out).split(b'\n').map_while(|l| l.ok()) {
                if tx
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        }));
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(err).split(b'\n').map_while(|l| l.ok()) {
                if tx
                    .send(format!("[stderr] {}", String::from_utf8_lossy(&line)))
                    .is_err()
                {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let mut log = String::new();
    let mut reached = None;
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        match rx.recv_timeout(left.min(Duration::from_millis(200))) {
            Ok(line) => {
                log.push_str(line.trim_end_matches('\r'));
                log.push('\n');
                if line.contains(until) {
                    reached = Some(start.elapsed());
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if start.elapsed() >= timeout {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let elapsed = start.elapsed();
    let peak_rss_kib = peak_rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    // Collect what is still buffered (the output after the line, for the log).
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
        log.push_str(&line);
        log.push('\n');
    }
    for r in readers {
        let _ = r.join();
    }
    Ok(Boot {
        log,
        reached,
        elapsed,
        peak_rss_kib,
    })
}

/// The number of CPUs Linux reports online ("smp: Brought up 1 node, N CPUs").
pub fn cpus_online(log: &str) -> Option<u32> {
    log.lines().find_map(|l| {
        let rest = l.split("smp: Brought up ").nth(1)?;
        let n = rest.split(", ").nth(1)?.split_whitespace().next()?;
        n.parse().ok()
    })
}

/// Why a boot log does not show a successful boot to the VFS panic with `smp` CPUs.
pub fn check_boot(boot: &Boot, smp: u32) -> Option<String> {
    let tail = |log: &str| {
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    };
    if boot.reached.is_none() {
        return Some(format!(
            "no \"{VFS_PANIC}\" after {:.1} s; last lines:\n{}",
            boot.elapsed.as_secs_f64(),
            tail(&boot.log)
        ));
    }
    match cpus_online(&boot.log) {
        Some(n) if n == smp => None,
        n => Some(format!(
            "expected {smp} CPUs online, the kernel reported {n:?}; last lines:\n{}",
            tail(&boot.log)
        )),
    }
}

/// The command booting `kernel` to the VFS panic on `runner` with `smp` CPUs.
pub fn command(runner: crate::run::Runner, virt: &Path, kernel: &Path, smp: u32) -> Command {
    command_with(runner, virt, kernel, smp, None, "console=ttyAMA0")
}

/// The command booting `kernel` with an optional initrd and the kernel command line
/// `append` on `runner` with `smp` CPUs.
pub fn command_with(
    runner: crate::run::Runner,
    virt: &Path,
    kernel: &Path,
    smp: u32,
    initrd: Option<&Path>,
    append: &str,
) -> Command {
    let mut cmd = runner.command(virt, kernel, smp);
    if runner == crate::run::Runner::Qemu {
        cmd.args(["-append", append, "-no-reboot"]);
        if let Some(i) = initrd {
            cmd.arg("-initrd").arg(i);
        }
    } else {
        cmd.args(["--append", append]);
        if let Some(i) = initrd {
            cmd.arg("--initrd").arg(i);
        }
    }
    cmd
}

/// vCPUs of the GICv3 boot check (more than GICv2's 8).
pub const GICV3_SMP: u32 = 16;

/// `command` with the GICv3 (`-M virt,gic-version=3` on QEMU, `--gic-version 3` on
/// ours: the QEMU-style option would also switch our RAM default to QEMU's).
pub fn gicv3_command(runner: crate::run::Runner, virt: &Path, kernel: &Path, smp: u32) -> Command {
    let mut cmd = command(runner, virt, kernel, smp);
    if runner == crate::run::Runner::Qemu {
        cmd.args(["-M", "virt,gic-version=3"]);
    } else {
        cmd.args(["--gic-version", "3"]);
    }
    cmd
}

/// The lines of a boot log about the interrupt controller and the CPUs brought up,
/// without timestamps: the GIC probe ("GICv3: ..."), each CPU's redistributor, the
/// system-register interface, "smp: Brought up ...". LPI lines are left out: QEMU's
/// GICv3 has LPIs, ours does not.
pub fn gic_summary(log: &str) -> Vec<String> {
    log.lines()
        .map(|l| match l.trim_start().strip_prefix('[') {
            Some(rest) => rest.split_once("] ").map_or(l, |(_, m)| m),
            None => l,
        })
        .filter(|l| {
            (l.starts_with("GICv3: ") && !l.contains("LPI"))
                || l.contains("GIC system register CPU interface")
                || l.starts_with("Root IRQ handler")
                || l.starts_with("smp: Brought up")
        })
        .map(str::to_string)
        .collect()
}

/// Debian's kernel with a GICv3 and `smp` vCPUs ([`GICV3_SMP`] in `cargo xtask test`),
/// to the VFS panic on QEMU, then on tiered and jit with MTTCG: all CPUs up, and the
/// GIC lines equal QEMU's.
pub fn gicv3_checks(report: &mut crate::Report, paths: &Paths, smp: u32, timeout: Duration) {
    use crate::run::{Backend, Runner, Sched};
    let kernel = match kernel(paths) {
        Ok(k) => k,
        Err(e) => {
            report.fail("fetch Debian's arm64 kernel", &format!("{e:#}"));
            return;
        }
    };
    let what = format!("linux gicv3 smp{smp} on qemu");
    let cmd = gicv3_command(Runner::Qemu, &paths.virt(), &kernel, smp);
    let reference = match boot_until(cmd, VFS_PANIC, timeout) {
        Ok(boot) => match check_boot(&boot, smp) {
            None => {
                report.pass(&what, boot.reached.unwrap_or(boot.elapsed));
                gic_summary(&boot.log)
            }
            Some(why) => return report.fail(&what, &why),
        },
        Err(e) => return report.fail(&what, &format!("{e:#}")),
    };
    for runner in [
        Runner::Virt(Backend::Tiered, Sched::Mttcg),
        Runner::Virt(Backend::Jit, Sched::Mttcg),
    ] {
        let what = format!(
            "linux gicv3 smp{smp} {} (GIC lines as QEMU's)",
            runner.label()
        );
        let cmd = gicv3_command(runner, &paths.virt(), &kernel, smp);
        match boot_until(cmd, VFS_PANIC, timeout) {
            Ok(boot) => {
                let ours = gic_summary(&boot.log);
                match check_boot(&boot, smp) {
                    Some(why) => report.fail(&what, &why),
                    None if ours != reference => report.fail(
                        &what,
                        &format!(
                            "GIC lines differ from QEMU's:\nqemu:\n  {}\nours:\n  {}",
                            reference.join("\n  "),
                            ours.join("\n  ")
                        ),
                    ),
                    None => report.pass(&what, boot.reached.unwrap_or(boot.elapsed)),
                }
            }
            Err(e) => report.fail(&what, &format!("{e:#}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gic_summary_keeps_the_gic_and_smp_lines() {
        let log = "[    0.000000] GICv3: 224 SPIs implemented\n\
                   [    0.000000] GICv3: using LPI property table @0x0000000042600000\n\
                   [    0.000000] Root IRQ handler: gic_handle_irq\n\
                   [    0.100000] smp: Bringing up secondary CPUs ...\n\
                   [    0.117456] GICv3: CPU1: found redistributor 1 region 0:0x00000000080c0000\n\
                   [    0.260628] smp: Brought up 1 node, 16 CPUs\n";
        assert_eq!(
            gic_summary(log),
            [
                "GICv3: 224 SPIs implemented",
                "Root IRQ handler: gic_handle_irq",
                "GICv3: CPU1: found redistributor 1 region 0:0x00000000080c0000",
                "smp: Brought up 1 node, 16 CPUs"
            ]
        );
    }

    #[test]
    fn cpus_online_parses_the_smp_line() {
        let log = "[    0.1] smp: Bringing up secondary CPUs ...\n[    0.2] smp: Brought up 1 node, 4 CPUs\n";
        assert_eq!(cpus_online(log), Some(4));
        assert_eq!(
            cpus_online("[ 0.2] smp: Brought up 1 node, 1 CPU\n"),
            Some(1)
        );
        assert_eq!(cpus_online("nothing"), None);
    }
}
