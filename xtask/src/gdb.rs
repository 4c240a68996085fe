//! The GDB stub against Debian's `gdb-multiarch` as the client, on every back end x
//! scheduler: `virt` starts halted with a stub on a free port, running the `gdbtarget`
//! guest (built with `-g`) on two vCPUs, and `gdb-multiarch -batch -nx -ex ...` drives it.
//!
//! 1. QEMU syntax (`-S -gdb tcp::PORT -smp 2`): break at a symbol, continue, the two
//!    threads, `stepi`, registers read and written (`info registers`, `set $x1`, `p $pc`,
//!    `$v0`, `$fpcr`), `finish`, memory read and written (`x/2gx`, `set var`), a hardware
//!    watchpoint hit with the old and new values, `next`/`step`, `detach`; the guest then
//!    runs to its end, and its output shows the register and memory writes took effect.
//! 2. `--gdb PORT --halted`: the guest spins, GDB's Ctrl-C (SIGINT to gdb) stops it, then
//!    `kill` ends the emulator.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::guests;
use crate::paths::Paths;
use crate::run::{self, Runner};
use crate::Report;

/// The client.
pub const GDB: &str = "gdb-multiarch";

const TIMEOUT: Duration = Duration::from_secs(60);

/// What the guest prints after session 1: `step_value` returned 8 instead of 1 at the
/// first call (x1 was set to 5 after its first instruction), and `counter` was set to
/// 100 before its first increment.
const SESSION1_OUTPUT: &str = "result: 0x000000000002a0bd\ncounter: 110\n";

/// A port nobody listens on now (the OS's pick; the stub binds it right after).
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free TCP port")?;
    Ok(l.local_addr()?.port())
}

fn gdb_command(elf: &Path, port: u16, cmds: &[&str]) -> Command {
    let mut c = Command::new(GDB);
    c.args(["-batch", "-nx"])
        .args(["-ex", "set tcp connect-timeout 30"])
        .args(["-ex", &format!("target remote 127.0.0.1:{port}")]);
    for cmd in cmds {
        c.args(["-ex", cmd]);
    }
    c.arg(elf);
    c
}

/// `virt` with `args`, run to its end on a thread (its outcome from the handle).
fn spawn_virt(virt: &Path, args: Vec<String>) -> std::thread::JoinHandle<Result<run::Outcome>> {
    let mut cmd = Command::new(virt);
    cmd.args(args);
    std::thread::spawn(move || run::run(cmd, TIMEOUT))
}

/// Checks `text` holds each of `needles`, in this order.
fn in_order(text: &str, needles: &[&str]) -> Result<()> {
    let mut at = 0;
    for n in needles {
        match text[at..].find(n) {
            Some(i) => at += i + n.len(),
            None => bail!("gdb's output lacks `{n}` (after byte {at})"),
        }
    }
    Ok(())
}

fn with_output(e: anyhow::Error, gdb: &str, virt: Option<&run::Outcome>) -> anyhow::Error {
    let mut s = format!("{e:#}\n--- gdb:\n{}", gdb.trim_end());
    if let Some(v) = virt {
        s.push_str(&format!(
            "\n--- virt (status {:?}):\n{}{}",
            v.status,
            v.stdout,
            v.stderr.trim_end()
        ));
    }
    anyhow::anyhow!(s)
}

fn virt_base(runner: Runner, elf: &Path) -> Vec<String> {
    let mut a = vec!["-kernel".to_string(), elf.display().to_string()];
    if let Runner::Virt(b, s) = runner {
        a.extend(b.args().iter().map(|s| s.to_string()));
        a.extend(["--sched".to_string(), s.arg().to_string()]);
    }
    a
}

/// Session 1 (see the module docs).
fn session_debug(virt: &Path, elf: &Path, runner: Runner) -> Result<()> {
    let port = free_port()?;
    let mut args = virt_base(runner, elf);
    args.extend(
        ["-smp", "2", "-S", "-gdb", &format!("tcp::{port}")]
            .iter()
            .map(|s| s.to_string()),
    );
    let machine = spawn_virt(virt, args);
    let cmds = [
        "break step_value",
        "continue",
        "info threads",
        "p $pc",
        "stepi",
        "p $pc",
        "info registers x0 x1",
        "set $x1 = 5",
        "p $x1",
        "set var $v0.d.u[0] = 0x1122334455667788",
        "p/x $v0.d.u",
        "set $fpcr = 0x400000",
        "p/x $fpcr",
        "p/x $cpsr & 0x3ff",
        "finish",
        "set var counter = 100",
        "x/2gx &counter",
        "p counter",
        "delete",
        "watch counter",
        "continue",
        "delete",
        "next",
        "step",
        "x/2gx 0",
        "detach",
    ];
    let out = run::run(gdb_command(elf, port, &cmds), TIMEOUT)?;
    // Error messages go to standard error, the rest to standard output.
    let text = format!("{}{}", out.stdout, out.stderr);
    let vm = machine
        .join()
        .map_err(|_| anyhow::anyhow!("the virt thread panicked"))??;
    let check = || -> Result<()> {
        if out.status.is_none() {
            bail!("gdb timed out");
        }
        in_order(
            &out.stdout,
            &[
                "hit Breakpoint 1, step_value (",
                "gdbtarget.c:",
                // Both vCPUs are threads.
                "Thread 1.1 (CPU#0)",
                "Thread 1.2 (CPU#1",
                "<step_value>",
                // One instruction: add x0, x0, x0, lsl #1.
                "<step_value+4>",
                "x0             0x3 ",
                "x1             0x0 ",
                "= 5\n",
                "{0x1122334455667788, 0x0}",
                "= 0x400000\n",
                "= 0x3c5\n",
                "Value returned is $",
                " = 8\n",
                "<counter>:\t0x0000000000000064\t0x0000000000000000",
                "= 100\n",
                "Hardware watchpoint 2: counter",
                "Hardware watchpoint 2: counter\n\nOld value = 100\nNew value = 101\n",
                "step_value (",
                "[Inferior 1 (process 1) detached]",
            ],
        )?;
        if !out.stderr.contains("Cannot access memory at address 0x0") {
            bail!("reading unmapped memory was not an error");
        }
        if text.lines().filter(|l| l.contains("Thread 1.")).count() != 2 {
            bail!("`info threads` does not list exactly 2 threads");
        }
        if vm.status.map(|s| s.success()) != Some(true) {
            bail!("virt did not exit with status 0 after the detach");
        }
        if run::normalise(&vm.stdout) != SESSION1_OUTPUT {
            bail!(
                "after the detach the guest printed {:?}, not {SESSION1_OUTPUT:?}",
                vm.stdout
            );
        }
        Ok(())
    };
    check().map_err(|e| with_output(e, &text, Some(&vm)))
}

/// Session 2 (see the module docs).
fn session_interrupt(virt: &Path, elf: &Path, runner: Runner) -> Result<()> {
    let port = free_port()?;
    let mut args = virt_base(runner, elf);
    args.extend(
        ["--smp", "2", "--halted", "--gdb", &port.to_string()]
            .iter()
            .map(|s| s.to_string()),
    );
    let machine = spawn_virt(virt, args);
    let cmds = [
        "break step_value",
        "continue",
        "delete",
        "set var hold = 1",
        "echo <continuing>\\n",
        "continue",
        "p hold",
        "info threads",
        "kill",
    ];
    let mut child = gdb_command(elf, port, &cmds)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {GDB}"))?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        bail!("{GDB}: no pipes");
    };
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    // Once GDB says it continues (an `echo` right before `continue`: GDB's output is
    // unbuffered), give it time to send the resume, then press Ctrl-C.
    let mut text = Vec::new();
    let start = Instant::now();
    let mut interrupted = false;
    let mut seen_at: Option<Instant> = None;
    let status = loop {
        while let Ok(chunk) = rx.try_recv() {
            text.extend_from_slice(&chunk);
        }
        if seen_at.is_none() && String::from_utf8_lossy(&text).contains("<continuing>") {
            seen_at = Some(Instant::now());
        }
        if !interrupted && seen_at.is_some_and(|t| t.elapsed() >= Duration::from_millis(400)) {
            Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .context("sending SIGINT to gdb")?;
            interrupted = true;
        }
        if let Some(s) = child.try_wait()? {
            break Some(s);
        }
        if start.elapsed() >= TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
        text.extend_from_slice(&chunk);
    }
    let mut text = String::from_utf8_lossy(&text).into_owned();
    text.push_str(&err_reader.join().unwrap_or_default());
    let vm = machine
        .join()
        .map_err(|_| anyhow::anyhow!("the virt thread panicked"))??;
    let check = || -> Result<()> {
        if status.is_none() {
            bail!("gdb timed out");
        }
        in_order(
            &text,
            &[
                "hit Breakpoint 1, step_value (",
                "<continuing>",
                "received signal SIGINT, Interrupt.",
                "while (hold)",
                "= 1\n",
                "Thread 1.1 (CPU#0)",
            ],
        )?;
        if vm.status.map(|s| s.success()) != Some(true) {
            bail!("virt did not exit with status 0 after the kill");
        }
        if !vm.stderr.contains("terminated by the debugger") {
            bail!("virt did not say the debugger ended it");
        }
        Ok(())
    };
    check().map_err(|e| with_output(e, &text, Some(&vm)))
}

/// Both sessions on every back end x scheduler.
pub fn checks(report: &mut Report, paths: &Paths) {
    let virt = paths.virt();
    let elf = match guests::find("gdbtarget") {
        Ok(g) => g.elf(paths),
        Err(e) => {
            report.fail("gdb", &format!("{e:#}"));
            return;
        }
    };
    for runner in Runner::all_virt() {
        for (what, f) in [
            (
                "break/step/registers/memory/watch/threads/detach",
                session_debug as fn(&Path, &Path, Runner) -> Result<()>,
            ),
            ("Ctrl-C/kill", session_interrupt),
        ] {
            let label = format!("gdb {what} {}", runner.label());
            let start = Instant::now();
            match f(&virt, &elf, runner) {
                Ok(()) => report.pass(&label, start.elapsed()),
                Err(e) => report.fail(&label, &format!("{e:#}")),
            }
        }
    }
}
