//! Running a guest (on the emulator or on QEMU) with a timeout, and comparing
//! its output with the expected file.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::tools::QEMU;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Jit,
    Interp,
    /// The JIT's quick code generator alone.
    Quick,
    /// Quick code first, Cranelift for hot TBs (compiled on background threads).
    Tiered,
    /// Tiered with hot TBs compiled on the vCPU's own thread (`--jit-sync`), promoted
    /// after 100 entries from the execution loop, so that short guests run much of their
    /// code in Cranelift's tier and across promotions too.
    TieredSync,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sched {
    Rr,
    Mttcg,
}

pub const BACKENDS: [Backend; 5] = [
    Backend::Jit,
    Backend::Interp,
    Backend::Quick,
    Backend::Tiered,
    Backend::TieredSync,
];
pub const SCHEDS: [Sched; 2] = [Sched::Rr, Sched::Mttcg];

impl Backend {
    /// The name in labels.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Jit => "jit",
            Backend::Interp => "interp",
            Backend::Quick => "quick",
            Backend::Tiered => "tiered",
            Backend::TieredSync => "tiered-sync",
        }
    }

    /// The emulator's arguments selecting this back end.
    pub fn args(self) -> &'static [&'static str] {
        match self {
            Backend::Jit => &["--backend", "jit"],
            Backend::Interp => &["--backend", "interp"],
            Backend::Quick => &["--backend", "quick"],
            Backend::Tiered => &["--backend", "tiered"],
            Backend::TieredSync => &[
                "--backend",
                "tiered",
                "--jit-sync",
                "--tier-threshold",
                "100",
                // Every TB may be promoted: the hot code of short TBs gets tested too.
                "--tier-min-insns",
                "0",
            ],
        }
    }
}

impl Sched {
    pub fn arg(self) -> &'static str {
        match self {
            Sched::Rr => "rr",
            Sched::Mttcg => "mttcg",
        }
    }
}

/// What runs a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    Virt(Backend, Sched),
    Qemu,
}

impl Runner {
    pub fn all_virt() -> Vec<Runner> {
        let mut v = Vec::new();
        for b in BACKENDS {
            for s in SCHEDS {
                v.push(Runner::Virt(b, s));
            }
        }
        v
    }

    pub fn label(self) -> String {
        match self {
            Runner::Virt(b, s) => format!("{}/{}", b.name(), s.arg()),
            Runner::Qemu => "qemu".to_string(),
        }
    }

    /// The command line running `kernel` with `smp` CPUs (QEMU as a cortex-a57).
    pub fn command(self, virt: &Path, kernel: &Path, smp: u32) -> Command {
        self.command_cpu(virt, kernel, smp, "cortex-a57")
    }

    /// As [`command`](Self::command), with QEMU's `-cpu` given.
    pub fn command_cpu(self, virt: &Path, kernel: &Path, smp: u32, qemu_cpu: &str) -> Command {
        match self {
            Runner::Virt(b, s) => {
                let mut cmd = Command::new(virt);
                cmd.arg("--kernel")
                    .arg(kernel)
                    .arg("--smp")
                    .arg(smp.to_string())
                    .args(b.args())
                    .arg("--sched")
                    .arg(s.arg());
                cmd
            }
            Runner::Qemu => qemu_command(kernel, smp, qemu_cpu),
        }
    }
}

/// QEMU with the same board as ours; only the UART goes to stdout. Multi-threaded
/// TCG (QEMU's default for this guest on this host, said explicitly: the SMP and
/// torture guests' expected outputs are checked against it).
pub fn qemu_command(kernel: &Path, smp: u32, cpu: &str) -> Command {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-M", "virt", "-cpu", cpu, "-m", "512M"])
        .args(["-accel", "tcg,thread=multi"])
        .args(["-nographic", "-monitor", "none", "-serial", "stdio"])
        .arg("-smp")
        .arg(smp.to_string())
        .arg("-kernel")
        .arg(kernel);
    cmd
}

#[derive(Debug)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    /// `None` when the run timed out and the child was killed.
    pub status: Option<ExitStatus>,
    pub elapsed: Duration,
}

fn reader<R: Read + Send + 'static>(mut r: R) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Result<Option<ExitStatus>> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if start.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `cmd` with stdin closed and stdout/stderr captured; kills it after `timeout`.
pub fn run(cmd: Command, timeout: Duration) -> Result<Outcome> {
    run_input(cmd, timeout, None)
}

/// Like [`run`], but with `input` (if any) written to the child's standard
/// input, which is then closed.
pub fn run_input(mut cmd: Command, timeout: Duration, input: Option<&[u8]>) -> Result<Outcome> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let start = Instant::now();
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {program}"))?;
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        let input = input.to_vec();
        // A thread, so a child that never reads cannot block us; a write
        // error (the child exited early) shows up in its output check.
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&input);
        });
    }
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        anyhow::bail!("{program}: no pipe for its output");
    };
    let out = reader(stdout);
    let err = reader(stderr);
    let status = wait_with_timeout(&mut child, timeout)?;
    let elapsed = start.elapsed();
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(Outcome {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        status,
        elapsed,
    })
}

/// Output with CR/LF line ends turned into LF (QEMU's and ours may differ).
pub fn normalise(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// `None` if the run passed, else a few lines saying why.
pub fn check(outcome: &Outcome, expected: &str, timeout: Duration) -> Option<String> {
    let mut why = Vec::new();
    match outcome.status {
        None => why.push(format!("timed out after {} s (killed)", timeout.as_secs())),
        Some(s) if !s.success() => why.push(format!("exit status: {s}")),
        Some(_) => {}
    }
    let got = normalise(&outcome.stdout);
    let want = normalise(expected);
    if got != want {
        why.push(diff_excerpt(&want, &got));
    }
    if why.is_empty() {
        return None;
    }
    let stderr = outcome.stderr.trim_end();
    if !stderr.is_empty() {
        let lines: Vec<&str> = stderr.lines().collect();
        let tail = &lines[lines.len().saturating_sub(8)..];
        why.push(format!("stderr (last {} lines):", tail.len()));
        why.extend(tail.iter().map(|l| format!("  | {l}")));
    }
    Some(why.join("\n"))
}

/// The first differing line with a little context.
pub fn diff_excerpt(want: &str, got: &str) -> String {
    let w: Vec<&str> = want.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let first = w
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(w.len().min(g.len()));
    let mut s = format!(
        "output differs at line {} (expected {} lines, got {}):",
        first + 1,
        w.len(),
        g.len()
    );
    let from = first.saturating_sub(2);
    for line in &w[from..first] {
        s.push_str(&format!("\n    {line}"));
    }
    for i in first..(first + 3) {
        match (w.get(i), g.get(i)) {
            (Some(a), Some(b)) if a == b => s.push_str(&format!("\n    {a}")),
            (a, b) => {
                if let Some(a) = a {
                    s.push_str(&format!("\n  - {a}"));
                }
                if let Some(b) = b {
                    s.push_str(&format!("\n  + {b}"));
                }
            }
        }
    }
    if !want.ends_with('\n') || !got.ends_with('\n') {
        s.push_str("\n  (note: a final newline is missing on one side)");
    }
    s
}
