//! `cargo xtask soak`: Debian's kernel with the busybox initramfs, booted N times in a
//! row under MTTCG, running the check script each time. A boot that prints nothing for
//! `HANG` is a hang: the emulator is sent SIGUSR1 (its vCPU dump goes to standard
//! error), then killed, and the soak fails with the dump and the last console lines.
//!
//! Also the signal checks of `cargo xtask test`: SIGTERM/SIGINT stop `virt` cleanly
//! (status 0 as QEMU, QEMU's message, the serial file complete) and SIGUSR1 dumps
//! every vCPU without stopping the machine.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::paths::Paths;
use crate::run::{Backend, Runner, Sched};
use crate::{initramfs, linux, Report};

/// No console output for this long is a hang (`XTASK_SOAK_HANG_SECS` overrides it, to
/// try the hang path).
fn hang_limit() -> Duration {
    let secs = std::env::var("XTASK_SOAK_HANG_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    Duration::from_secs(secs)
}
/// A boot that never finishes, even while printing.
const BOOT_LIMIT: Duration = Duration::from_secs(600);

fn signal(child: &Child, sig: &str) -> Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .context("running kill")?;
    if !status.success() {
        bail!("kill -{sig} {} failed", child.id());
    }
    Ok(())
}

enum Line {
    Out(String),
    Err(String),
}

/// Starts `cmd` with its output lines arriving on a channel.
fn spawn_lines(mut cmd: Command) -> Result<(Child, mpsc::Receiver<Line>)> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", cmd.get_program().to_string_lossy()))?;
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).split(b'\n').map_while(|l| l.ok()) {
                let s = String::from_utf8_lossy(&l)
                    .trim_end_matches('\r')
                    .to_string();
                if tx.send(Line::Out(s)).is_err() {
                    break;
                }
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            for l in BufReader::new(err).split(b'\n').map_while(|l| l.ok()) {
                let s = String::from_utf8_lossy(&l)
                    .trim_end_matches('\r')
                    .to_string();
                if tx.send(Line::Err(s)).is_err() {
                    break;
                }
            }
        });
    }
    Ok((child, rx))
}

enum BootEnd {
    /// The check script's lines.
    Done(Vec<String>, Duration),
    /// Why not, with the log (and the dump for a hang).
    Failed(String),
}

fn boot_once(cmd: Command) -> Result<BootEnd> {
    let start = Instant::now();
    let (mut child, rx) = spawn_lines(cmd)?;
    let mut log = String::new();
    let mut last_output = Instant::now();
    let tail = |log: &str| {
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    };
    let end = loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Line::Out(l)) => {
                last_output = Instant::now();
                let end = l.contains(initramfs::CHECK_END);
                log.push_str(&l);
                log.push('\n');
                if end {
                    break match initramfs::check_output(&log) {
                        Some(lines) => BootEnd::Done(lines, start.elapsed()),
                        None => BootEnd::Failed(format!(
                            "check script output unreadable:\n{}",
                            tail(&log)
                        )),
                    };
                }
            }
            Ok(Line::Err(l)) => {
                log.push_str("[stderr] ");
                log.push_str(&l);
                log.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().ok();
                break BootEnd::Failed(format!(
                    "virt exited ({status:?}) before the end:\n{}",
                    tail(&log)
                ));
            }
        }
        if last_output.elapsed() >= hang_limit() {
            // The hang dump: SIGUSR1, then whatever arrives on stderr for a while.
            let sent = signal(&child, "USR1");
            let mut dump = String::new();
            let until = Instant::now() + Duration::from_secs(5);
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                match rx.recv_timeout(left) {
                    Ok(Line::Err(l)) => {
                        dump.push_str(&l);
                        dump.push('\n');
                    }
                    Ok(Line::Out(l)) => {
                        log.push_str(&l);
                        log.push('\n');
                    }
                    Err(_) => break,
                }
            }
            break BootEnd::Failed(format!(
                "HANG: no console output for {} s (SIGUSR1 {}); vCPU dump:\n{}\nlast console lines:\n{}",
                hang_limit().as_secs(),
                if sent.is_ok() { "sent" } else { "not sent" },
                dump,
                tail(&log)
            ));
        }
        if start.elapsed() >= BOOT_LIMIT {
            break BootEnd::Failed(format!(
                "not finished after {} s:\n{}",
                BOOT_LIMIT.as_secs(),
                tail(&log)
            ));
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    Ok(end)
}

/// `cargo xtask soak [--runs N] [--smp N] [--backend B]`.
pub fn cmd(runs: u64, smp: u32, backend: Backend) -> Result<()> {
    let paths = Paths::new();
    let kernel = linux::kernel(&paths)?;
    let initrd = initramfs::initramfs(&paths)?;
    let append = format!("console=ttyAMA0 {}", initramfs::CHECK_PARAM);
    let runner = Runner::Virt(backend, Sched::Mttcg);
    let mut first: Option<Vec<String>> = None;
    let (mut ok, mut failed) = (0u64, 0u64);
    let mut slowest = Duration::ZERO;
    let start = Instant::now();
    for i in 1..=runs {
        let cmd = linux::command_with(runner, &paths.virt(), &kernel, smp, Some(&initrd), &append);
        match boot_once(cmd)? {
            BootEnd::Done(lines, t) => match &first {
                Some(f) if *f != lines => {
                    failed += 1;
                    println!(
                        "FAIL soak run {i}/{runs}: the check script's output differs from run 1's:\n--- run 1\n{}\n--- run {i}\n{}",
                        f.join("\n"),
                        lines.join("\n")
                    );
                }
                _ => {
                    ok += 1;
                    slowest = slowest.max(t);
                    println!(
                        "ok   soak run {i}/{runs} {} smp{smp} ({:.1} s)",
                        runner.label(),
                        t.as_secs_f64()
                    );
                    first.get_or_insert(lines);
                }
            },
            BootEnd::Failed(why) => {
                failed += 1;
                println!("FAIL soak run {i}/{runs} {} smp{smp}", runner.label());
                for l in why.lines() {
                    println!("     {l}");
                }
            }
        }
    }
    println!(
        "soak: {ok}/{runs} boots passed, {failed} failed ({} smp{smp}, slowest {:.1} s, total {:.0} s)",
        runner.label(),
        slowest.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    if failed > 0 {
        bail!("{failed} soak run(s) failed");
    }
    Ok(())
}

/// Runs `guest` (a long-running guest) on `virt` with the serial port in a file, waits
/// for `first_line` in it, sends `sig`, and checks a clean stop.
fn signal_check(virt: &Path, elf: &Path, sig: &str, signo: i32) -> Result<Option<String>> {
    let dir = std::env::temp_dir().join(format!("xtask-signal-{}-{sig}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let serial = dir.join("serial.txt");
    let mut cmd = Command::new(virt);
    cmd.arg("--kernel")
        .arg(elf)
        .args(["--smp", "4", "--sched", "mttcg", "--serial"])
        .arg(format!("file:{}", serial.display()));
    let (mut child, rx) = spawn_lines(cmd)?;
    let result = (|| -> Result<Option<String>> {
        let start = Instant::now();
        let want = "litmus: start\n";
        while std::fs::read_to_string(&serial).unwrap_or_default() != want {
            if start.elapsed() > Duration::from_secs(30) {
                return Ok(Some(
                    "the guest's first line never reached the serial file".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut why = Vec::new();
        if sig == "TERM" {
            // First a dump, which must not stop the machine.
            signal(&child, "USR1")?;
            let mut dump = String::new();
            let until = Instant::now() + Duration::from_secs(10);
            while !dump.contains("vcpu 3:") || !dump.contains("pc 0x") {
                let Some(left) = until.checked_duration_since(Instant::now()) else {
                    why.push(format!(
                        "SIGUSR1: no dump of 4 vCPUs with pcs in 10 s:\n{dump}"
                    ));
                    break;
                };
                if let Ok(Line::Err(l)) = rx.recv_timeout(left) {
                    dump.push_str(&l);
                    dump.push('\n');
                }
            }
            if child.try_wait()?.is_some() {
                why.push("SIGUSR1 stopped the machine".into());
            }
        }
        signal(&child, sig)?;
        let until = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = child.try_wait()? {
                break Some(s);
            }
            if Instant::now() > until {
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut stderr = String::new();
        while let Ok(l) = rx.recv_timeout(Duration::from_millis(500)) {
            if let Line::Err(l) = l {
                stderr.push_str(&l);
                stderr.push('\n');
            }
        }
        match status {
            None => why.push(format!("still running 20 s after SIG{sig}")),
            Some(s) if s.code() != Some(0) => {
                why.push(format!("exit status {s} (QEMU exits with 0)"))
            }
            Some(_) => {}
        }
        let msg = format!("virt: terminating on signal {signo} from pid ");
        if !stderr.contains(&msg) {
            why.push(format!("no `{msg}...` on stderr:\n{stderr}"));
        }
        let got = std::fs::read_to_string(&serial).unwrap_or_default();
        if got != want {
            why.push(format!("serial file holds {got:?}, expected {want:?}"));
        }
        Ok((!why.is_empty()).then(|| why.join("\n")))
    })();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// SIGTERM (after a SIGUSR1 dump) and SIGINT on a running 4-vCPU guest.
pub fn signal_checks(report: &mut Report, paths: &Paths) {
    let elf = match crate::guests::find("litmus-1m") {
        Ok(g) => g.elf(paths),
        Err(e) => {
            report.fail("signals", &format!("{e:#}"));
            return;
        }
    };
    for (sig, signo) in [("TERM", 15), ("INT", 2)] {
        let what = format!("virt stops cleanly on SIG{sig}");
        let start = Instant::now();
        match signal_check(&paths.virt(), &elf, sig, signo) {
            Ok(None) => report.pass(&what, start.elapsed()),
            Ok(Some(why)) => report.fail(&what, &why),
            Err(e) => report.fail(&what, &format!("{e:#}")),
        }
    }
}
