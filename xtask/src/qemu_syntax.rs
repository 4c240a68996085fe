//! QEMU command lines run unchanged on `virt` (with `virt` in place of
//! `qemu-system-aarch64`): the same arguments go to both, the outputs must be equal.
//! They also cover the boot conventions: raw images, where the device tree and the
//! initrd go, /chosen, `-cpu` models, `-dtb`, and reboots.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::guests;
use crate::paths::Paths;
use crate::run;
use crate::tools::QEMU;
use crate::Report;

const TIMEOUT: Duration = Duration::from_secs(60);

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|a| a.to_string()).collect()
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// The console options of every case.
const CONSOLE: &[&str] = &["-nographic", "-monitor", "none", "-serial", "stdio"];

/// Runs `args` on QEMU and on `virt`; `None` if both succeed with the same output.
fn compare(virt: &Path, args: &[String]) -> Result<Option<String>> {
    let mut q = Command::new(QEMU);
    q.args(args);
    let mut v = Command::new(virt);
    v.args(args);
    let qemu = run::run(q, TIMEOUT)?;
    let ours = run::run(v, TIMEOUT)?;
    if !qemu.status.is_some_and(|s| s.success()) {
        return Ok(Some(format!(
            "QEMU did not succeed ({:?}): {}",
            qemu.status,
            qemu.stderr.trim_end()
        )));
    }
    if qemu.stdout.trim().is_empty() {
        return Ok(Some("QEMU printed nothing".into()));
    }
    Ok(run::check(&ours, &qemu.stdout, TIMEOUT))
}

/// The first `n` lines a command prints (it is killed then, or after `timeout`).
fn first_lines(mut cmd: Command, n: usize, timeout: Duration) -> Result<Vec<String>> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {program}"))?;
    let (tx, rx) = mpsc::channel();
    let reader = child.stdout.take().map(|out| {
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
    });
    let start = Instant::now();
    let mut lines = Vec::new();
    while lines.len() < n {
        let left = timeout.saturating_sub(start.elapsed());
        match rx.recv_timeout(left) {
            Ok(l) => lines.push(l.trim_end_matches('\r').to_string()),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(rx);
    if let Some(r) = reader {
        let _ = r.join();
    }
    Ok(lines)
}

/// Every check, each recorded in `report`.
pub fn checks(report: &mut Report, paths: &Paths) {
    let virt = paths.virt();
    let guest = |name: &str| guests::find(name).map(|g| (g.elf(paths), g.bin(paths)));
    let (Ok((hello_elf, hello_bin)), Ok((info_elf, info_bin)), Ok((_, reset_bin))) =
        (guest("hello"), guest("bootinfo"), guest("reset"))
    else {
        report.fail("qemu syntax", "guest table lacks hello, bootinfo or reset");
        return;
    };
    let mut cases: Vec<(String, Vec<String>)> = Vec::new();
    // The command line xtask gives QEMU, unchanged.
    let mut a = s(&["-M", "virt", "-cpu", "cortex-a57", "-m", "512M"]);
    a.extend(s(CONSOLE));
    a.extend(s(&["-smp", "2", "-accel", "tcg,thread=multi", "-kernel"]));
    a.push(path(&hello_elf));
    cases.push(("hello elf".into(), a));
    // A raw image on every CPU model, with QEMU's default RAM (128 MiB: the initrd at
    // half of it), an initrd and a command line: x0, MIDR, the tree's place, /chosen.
    for (cpu, accel) in [
        ("cortex-a57", "tcg"),
        ("cortex-a53", "tcg,thread=single"),
        ("cortex-a72", "tcg,thread=multi"),
        ("max", "tcg"),
    ] {
        let mut a = s(&["-M", "virt,gic-version=2", "-cpu", cpu, "-accel", accel]);
        a.extend(s(CONSOLE));
        a.extend([
            "-kernel".into(),
            path(&info_bin),
            "-initrd".into(),
            path(&hello_bin),
        ]);
        a.extend(s(&["-append", "console=ttyAMA0 xtask=1"]));
        cases.push((format!("bootinfo raw -cpu {cpu}"), a));
    }
    // No seeds in /chosen.
    let mut a = s(&[
        "-M",
        "virt,dtb-randomness=off",
        "-cpu",
        "cortex-a57",
        "-m",
        "256M",
    ]);
    a.extend(s(CONSOLE));
    a.extend(["-kernel".into(), path(&info_bin)]);
    cases.push(("bootinfo raw dtb-randomness=off".into(), a));
    // An ELF: no tree (QEMU's 1 MiB tree does not fit below it), the initrd ignored.
    let mut a = s(&[
        "-machine",
        "virt",
        "-cpu",
        "cortex-a57",
        "-m",
        "size=1G",
        "-smp",
        "2",
    ]);
    a.extend(s(CONSOLE));
    a.extend([
        "-kernel".into(),
        path(&info_elf),
        "-initrd".into(),
        path(&hello_bin),
    ]);
    a.extend(s(&["-append", "ignored by the guest"]));
    cases.push(("bootinfo elf".into(), a));
    // -dtb: QEMU's own tree (for 256 MiB) given back to both with 512 MiB.
    let dtb = paths.guest_out().join("qemu-virt.dtb");
    let dump = Command::new(QEMU)
        .args([
            "-M",
            &format!("virt,dumpdtb={}", dtb.display()),
            "-cpu",
            "cortex-a57",
        ])
        .args(["-m", "256M", "-nographic", "-monitor", "none"])
        .stdin(Stdio::null())
        .output();
    match dump {
        Ok(_) if dtb.is_file() => {
            let mut a = s(&["-M", "virt", "-cpu", "cortex-a57", "-m", "512M"]);
            a.extend(s(CONSOLE));
            a.extend(["-dtb".into(), path(&dtb), "-kernel".into(), path(&info_bin)]);
            a.extend([
                "-initrd".into(),
                path(&hello_bin),
                "-append".into(),
                "x".into(),
            ]);
            cases.push(("bootinfo raw -dtb".into(), a));
        }
        Ok(o) => report.fail(
            "qemu syntax: QEMU dumpdtb",
            &String::from_utf8_lossy(&o.stderr),
        ),
        Err(e) => report.fail("qemu syntax: QEMU dumpdtb", &format!("{e}")),
    }
    for (what, args) in cases {
        let what = format!("qemu syntax {what} (virt vs qemu)");
        let start = Instant::now();
        match compare(&virt, &args) {
            Ok(None) => report.pass(&what, start.elapsed()),
            Ok(Some(why)) => report.fail(&what, &format!("{why}\nargs: {}", args.join(" "))),
            Err(e) => report.fail(&what, &format!("{e:#}")),
        }
    }

    // Without -no-reboot, SYSTEM_RESET reboots: the first boots print the same lines.
    let what = "qemu syntax reset raw smp2 reboots (virt vs qemu)";
    let start = Instant::now();
    let mut a = s(&[
        "-M",
        "virt",
        "-cpu",
        "cortex-a57",
        "-m",
        "512M",
        "-smp",
        "2",
    ]);
    a.extend(s(CONSOLE));
    a.extend(["-kernel".into(), path(&reset_bin)]);
    let lines = |program: &Path| {
        let mut c = Command::new(program);
        c.args(&a);
        first_lines(c, 7, TIMEOUT)
    };
    match (lines(Path::new(QEMU)), lines(&virt)) {
        (Ok(q), Ok(v)) if q == v && q.len() == 7 => report.pass(what, start.elapsed()),
        (Ok(q), Ok(v)) => report.fail(
            what,
            &format!("--- qemu\n{}\n--- ours\n{}", q.join("\n"), v.join("\n")),
        ),
        (Err(e), _) | (_, Err(e)) => report.fail(what, &format!("{e:#}")),
    }
}
