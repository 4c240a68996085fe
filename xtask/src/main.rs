//! `cargo xtask run | test | bench | build-guests`: the project's task runner.

mod check;
mod debian_disk;
mod difftest;
mod fuzz;
mod gdb;
mod guests;
mod initramfs;
mod linux;
mod paths;
mod qemu_syntax;
mod run;
mod soak;
mod tools;
mod torture;
mod userland;
mod virtio;

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::guests::{Guest, BENCH_ORDER, GUESTS};
use crate::paths::Paths;
use crate::run::Runner;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  run [--guest NAME | --linux | --disk | --disk-image FILE] [--snapshot] [virt args...]
        build the emulator and run target/release/virt with the arguments; with
        --disk (or --debian) it boots the Debian disk of `cargo xtask debian` (or
        FILE) under systemd to a login prompt (root, no password; user networking,
        2 vCPUs, 1 GiB; the image keeps the guest's writes, unless --snapshot); with
        neither --guest nor --kernel (or with --linux) it boots Debian's arm64
        kernel with a busybox initramfs (both fetched into target/linux/) to a
        shell; --guest NAME builds the guests and runs guests/NAME
  test [--skip-cargo-test] [--no-stress] [--stress-runs N] [--guest NAME] [--timeout SECS]
       [--pending] [--no-linux] [--no-debian] [--torture] [--no-fuzz]
        install missing tools (as root), build the guests, cargo test --workspace,
        check the expected outputs against QEMU, run every guest on every
        backend x scheduler, then the SMP stress runs; guests not yet expected
        to pass on our emulator (`ours: false` in xtask/src/guests.rs) are only
        checked against QEMU, unless --pending or --guest NAME is given; then
        gdb-multiarch against the GDB stub on every backend x scheduler; finally
        Debian's arm64 kernel (fetched into target/linux/) boots to its VFS panic
        on every backend x scheduler with 4 CPUs, and with 2 CPUs and a busybox
        initramfs runs a check script whose output must equal QEMU's, then the
        virtio check below, the GICv3 boots, and the Debian disk under systemd to
        its login prompt with a DHCP address on tiered/mttcg, and the lockstep checks
        (--check jit,interp on a short boot, and an injected JIT miscompile it must
        catch) (unless --no-linux; --no-debian skips only the Debian disk); then each
        fuzz target for a few seconds (unless --no-fuzz); --torture: only the MTTCG torture
        guests (litmus*, torture-*: QEMU comparison, every backend x scheduler at
        2, 4 and 8 CPUs, the self-checked ones, torture-locks 20x)
  gicv3 [--smp N]
        only the GICv3 checks: the gicv3* guests against QEMU and on every backend x
        scheduler, then Debian's kernel with -M virt,gic-version=3 and N CPUs (default
        16; `test` runs these with 16) to its VFS panic on QEMU, tiered/mttcg and
        jit/mttcg (the GIC probe lines and \"Brought up 1 node, N CPUs\" must equal
        QEMU's); --smp 64 is the heavy variant (minutes on two cores)
  soak [--runs N] [--smp N] [--backend jit|interp|quick|tiered]
        boots Debian's kernel with the busybox initramfs N times (default 100, 4
        CPUs, tiered) under mttcg, running the check script each time; no console
        output for 30 s is a hang: virt gets SIGUSR1 (its vCPU dump is printed)
        and the soak fails
  litmus [--smp N] [--runner B/S,...]
        the litmus tests with 10^6 iterations each (default jit/mttcg and
        tiered/mttcg, 4 CPUs): forbidden outcomes must be 0; prints the relaxed
        outcomes observed
  virtio
        only the virtio check: Debian's kernel loads its virtio modules, reads,
        writes and syncs three raw disks (plain, snapshot=on, readonly=on), reads
        /dev/hwrng, writes to hvc0, then gets a DHCP lease on -netdev user, fetches
        a page from a host HTTP server and serves one the host fetches through
        hostfwd, on QEMU, tiered/mttcg and interp/rr; the output must equal QEMU's
        and the host files must hold exactly what the guest wrote
  bench [--runs N] [--guest NAME] [--no-qemu] [--no-linux] [--no-userland]
        [--userland short|full] [--no-debian]
        median wall time of the benchmark guests on every backend x scheduler
        and on QEMU, then the time to Debian's kernel's VFS panic (1 and 4 CPUs) and to
        the end of the busybox check script (2 CPUs) with each runner's peak RSS
        (largest of the runs, against QEMU's), then the Debian disk under
        systemd to its login prompt and a guest dd (64 MiB, O_DIRECT) on QEMU and
        tiered/mttcg (one boot each; --no-debian skips it), then the Debian userland
        workloads (xz, bzip2, gzip, openssl, python3, perl, gcc, a shell loop; packages
        fetched into target/userland/) on QEMU and every backend x scheduler with 2 CPUs
        and 1 GiB: guest seconds, ratio to QEMU, geometric mean (default short); QEMU
        and tiered/mttcg run N times, alternating, and give per-workload medians
  debian [--runner qemu,BACKEND/SCHED,...] [--dd] [--build-only] [--bench]
        build the Debian arm64 root disk (packages fetched into target/debian-disk/,
        unpacked with dpkg-deb, configured by hand, mkfs.ext4 -d) and its initramfs,
        then boot it (snapshot=on) on the runners (default qemu,tiered/mttcg) until
        systemd's serial getty prints `login: ` and networkd's DHCP address
        (10.0.2.15) is printed; --dd also times a 64 MiB O_DIRECT dd in the guest;
        --bench prints the rows `cargo xtask bench` has for it instead
  userland [--userland short|full] [--runner qemu,BACKEND/SCHED,...] [--only W1,W2]
        the userland workloads on the given runners (default qemu,tiered/mttcg)
  build-guests
        only build the guests into target/guests/
  fuzz --list | TARGET [--seconds N]
        build the libFuzzer targets in fuzz/ (sanitizer coverage, stable toolchain) and
        fuzz TARGET for N seconds (default 600) at nice 19; crash inputs go to
        target/fuzz/artifacts/TARGET/; `cargo xtask test` runs each for a few seconds
  difftest [--seed S] [--count N] [--backend jit|interp|quick|both|all] [--only PART] [--case K]
        random A64 sequences on qemu-aarch64 vs our back ends (difftest/)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => cmd_run(&args[1..]),
        Some("test") => cmd_test(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("bench") => cmd_bench(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("userland") => cmd_userland(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("difftest") => difftest::cmd(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("gicv3") => cmd_gicv3(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("fuzz") => fuzz::cmd(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("virtio") => cmd_virtio().map(|()| ExitCode::SUCCESS),
        Some("debian") => cmd_debian(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("litmus") => cmd_litmus(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("soak") => cmd_soak(&args[1..]).map(|()| ExitCode::SUCCESS),
        Some("build-guests") => guests::build_all(&Paths::new()).map(|()| ExitCode::SUCCESS),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!("{USAGE}");
            Ok(ExitCode::from(2))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A tiny option parser: flags and `--name value` pairs, in any order.
struct Opts {
    args: Vec<String>,
}

impl Opts {
    fn new(args: &[String]) -> Opts {
        Opts {
            args: args.to_vec(),
        }
    }

    fn flag(&mut self, name: &str) -> bool {
        match self.args.iter().position(|a| a == name) {
            Some(i) => {
                self.args.remove(i);
                true
            }
            None => false,
        }
    }

    fn value(&mut self, name: &str) -> Result<Option<String>> {
        let Some(i) = self.args.iter().position(|a| a == name) else {
            return Ok(None);
        };
        if i + 1 >= self.args.len() {
            bail!("{name} needs a value");
        }
        let v = self.args.remove(i + 1);
        self.args.remove(i);
        Ok(Some(v))
    }

    fn number(&mut self, name: &str, default: u64) -> Result<u64> {
        match self.value(name)? {
            Some(v) => v
                .parse()
                .with_context(|| format!("{name}: `{v}` is not a number")),
            None => Ok(default),
        }
    }

    fn finish(self) -> Result<()> {
        if let Some(a) = self.args.first() {
            bail!("unexpected argument `{a}`\n{USAGE}");
        }
        Ok(())
    }
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(Paths::new().root);
    cmd
}

fn cargo_run(args: &[&str]) -> Result<()> {
    let status = cargo()
        .args(args)
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// `cargo build --release -p machine-virt`, then checks the binary exists.
fn build_virt(paths: &Paths) -> Result<()> {
    if !tools::have_slirp() {
        bail!(
            "libslirp's development files are missing (the emulator links libslirp for -netdev \
             user); install them with:\n    {}",
            tools::APT_HINT
        );
    }
    cargo_run(&["build", "--release", "-p", "machine-virt"])?;
    let virt = paths.virt();
    if !virt.is_file() {
        bail!(
            "the emulator binary {} is missing after building machine-virt (does it define the \
             `virt` bin target?)",
            virt.display()
        );
    }
    Ok(())
}

fn cmd_run(args: &[String]) -> Result<ExitCode> {
    let paths = Paths::new();
    let mut opts = Opts::new(args);
    let guest = opts.value("--guest")?;
    let linux_flag = opts.flag("--linux");
    let disk_image = opts.value("--disk-image")?;
    let snapshot = opts.flag("--snapshot");
    let disk_flag = opts.flag("--disk") || opts.flag("--debian") || disk_image.is_some();
    if snapshot && !disk_flag {
        bail!("--snapshot goes with --disk or --disk-image");
    }
    let mut virt_args = opts.args;
    let has_kernel = virt_args.iter().any(|a| a == "--kernel" || a == "-kernel");
    if [linux_flag, guest.is_some(), has_kernel, disk_flag]
        .iter()
        .filter(|x| **x)
        .count()
        > 1
    {
        bail!("give one of --linux, --disk, --guest and --kernel");
    }
    if disk_flag {
        // The Debian disk (built into target/debian-disk/ on first use) under systemd,
        // with user networking; the image keeps what the guest writes.
        let f = debian_disk::files(&paths)?;
        let image = match disk_image {
            Some(p) => std::path::PathBuf::from(p),
            None => f.image.clone(),
        };
        if !image.is_file() {
            bail!("no disk image {}", image.display());
        }
        let mut args = vec![
            "--kernel".to_string(),
            f.kernel.display().to_string(),
            "--initrd".to_string(),
            f.initrd.display().to_string(),
            "--append".to_string(),
            debian_disk::append(""),
            "-m".to_string(),
            debian_disk::MEMORY.to_string(),
        ];
        if !virt_args.iter().any(|a| a == "--smp" || a == "-smp") {
            args.extend(["--smp".to_string(), debian_disk::SMP.to_string()]);
        }
        args.extend(debian_disk::device_args(&image, snapshot));
        virt_args.splice(0..0, args);
        eprintln!(
            "booting {} (log in as root, no password; `poweroff` to stop, Ctrl-A x quits)",
            image.display()
        );
    }
    // The main job: with no guest and no kernel named, Debian's kernel boots to the
    // busybox shell.
    let boot_linux = linux_flag || (guest.is_none() && !has_kernel && !disk_flag);
    if boot_linux {
        let kernel = linux::kernel(&paths)?;
        let initrd = initramfs::initramfs(&paths)?;
        virt_args.splice(
            0..0,
            [
                "--kernel".to_string(),
                kernel.display().to_string(),
                "--initrd".to_string(),
                initrd.display().to_string(),
                "--append".to_string(),
                "console=ttyAMA0".to_string(),
            ],
        );
    }
    if let Some(name) = guest.as_deref() {
        if has_kernel {
            bail!("give either --guest or --kernel, not both");
        }
        if tools::find_in_path(guests::CROSS_CC).is_some() {
            guests::build_all(&paths)?;
        } else {
            eprintln!(
                "note: {} not installed; guests not rebuilt ({})",
                guests::CROSS_CC,
                tools::APT_HINT
            );
        }
        let g = guests::find(name)?;
        let elf = g.elf(&paths);
        if !elf.is_file() {
            bail!("guest {} not built ({} missing)", g.name, elf.display());
        }
        virt_args.splice(0..0, ["--kernel".to_string(), elf.display().to_string()]);
    }
    build_virt(&paths)?;
    let status = Command::new(paths.virt())
        .args(&virt_args)
        .status()
        .with_context(|| format!("starting {}", paths.virt().display()))?;
    Ok(exit_code(status))
}

fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => ExitCode::from(c.clamp(0, 255) as u8),
        (None, Some(sig)) => ExitCode::from((128 + sig).clamp(0, 255) as u8),
        _ => ExitCode::FAILURE,
    }
}

/// Pass/fail bookkeeping, one printed line per check.
#[derive(Default)]
pub(crate) struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    pub(crate) fn pass(&mut self, what: &str, elapsed: Duration) {
        self.passed += 1;
        println!("ok   {what} ({:.2} s)", elapsed.as_secs_f64());
    }

    pub(crate) fn fail(&mut self, what: &str, why: &str) {
        self.failed += 1;
        println!("FAIL {what}");
        for line in why.lines() {
            println!("     {line}");
        }
    }
}

fn selected_guests(
    filter: Option<&str>,
    pick: impl Fn(&Guest) -> bool,
) -> Result<Vec<&'static Guest>> {
    if let Some(name) = filter {
        return Ok(vec![guests::find(name)?]);
    }
    Ok(GUESTS.iter().filter(|g| pick(g)).collect())
}

/// Runs one guest once and records the result.
fn check_run(
    report: &mut Report,
    paths: &Paths,
    guest: &Guest,
    runner: Runner,
    smp: u32,
    timeout: Duration,
) {
    let what = format!("{} {} smp{smp}", guest.name, runner.label());
    match run_and_check(paths, guest, runner, smp, timeout) {
        Ok((elapsed, None)) => report.pass(&what, elapsed),
        Ok((_, Some(why))) => report.fail(&what, &why),
        Err(e) => report.fail(&what, &format!("{e:#}")),
    }
}

fn run_and_check(
    paths: &Paths,
    guest: &Guest,
    runner: Runner,
    smp: u32,
    timeout: Duration,
) -> Result<(Duration, Option<String>)> {
    let expected = guest.expected(paths, smp)?;
    let mut cmd = runner.command_cpu(&paths.virt(), &guest.elf(paths), smp, guest.qemu_cpu);
    cmd.args(guest.args);
    let outcome = run::run_input(cmd, timeout, guest.stdin.map(str::as_bytes))?;
    Ok((outcome.elapsed, run::check(&outcome, &expected, timeout)))
}

fn cmd_test(args: &[String]) -> Result<()> {
    let paths = Paths::new();
    let mut opts = Opts::new(args);
    let skip_cargo_test = opts.flag("--skip-cargo-test");
    let no_stress = opts.flag("--no-stress");
    let no_linux = opts.flag("--no-linux");
    let no_debian = opts.flag("--no-debian");
    let no_fuzz = opts.flag("--no-fuzz");
    let stress_runs = opts.number("--stress-runs", 20)?;
    let filter = opts.value("--guest")?;
    let timeout = Duration::from_secs(opts.number("--timeout", 120)?);
    let pending = opts.flag("--pending") || filter.is_some();
    let only_torture = opts.flag("--torture");
    opts.finish()?;
    if only_torture && filter.is_some() {
        bail!("give either --torture or --guest");
    }

    // 1. tools, 2. guests
    tools::ensure()?;
    guests::build_all(&paths)?;
    let selected = selected_guests(filter.as_deref(), |g| {
        g.in_test && (!only_torture || is_torture(g.name))
    })?;
    let mut report = Report::default();
    let skip_cargo_test = skip_cargo_test || only_torture;
    let no_linux = no_linux || only_torture;

    // 3. the workspace's own tests
    if !skip_cargo_test {
        let start = Instant::now();
        let status = cargo().args(["test", "--workspace"]).status();
        match status {
            Ok(s) if s.success() => report.pass("cargo test --workspace", start.elapsed()),
            Ok(s) => report.fail("cargo test --workspace", &format!("exit status: {s}")),
            Err(e) => report.fail("cargo test --workspace", &format!("cannot run cargo: {e}")),
        }
    }

    // 3b. fixed-seed random differential test against qemu-aarch64, both back ends
    let start = Instant::now();
    match if only_torture {
        Ok(())
    } else {
        difftest::ci(&paths)
    } {
        Ok(()) if only_torture => {}
        Ok(()) => report.pass(
            "difftest (fixed seed, jit+interp vs qemu-aarch64)",
            start.elapsed(),
        ),
        Err(e) => report.fail(
            "difftest (fixed seed, jit+interp vs qemu-aarch64)",
            &format!("{e:#}"),
        ),
    }

    // 4. the expected outputs are what QEMU prints
    let qemu_timeout = Duration::from_secs(60);
    for guest in &selected {
        for &smp in guest.smp {
            check_run(&mut report, &paths, guest, Runner::Qemu, smp, qemu_timeout);
        }
    }

    // 5. our emulator on every backend x scheduler, then the stress runs
    match build_virt(&paths) {
        Err(e) => report.fail("cargo build --release -p machine-virt", &format!("{e:#}")),
        Ok(()) => {
            for guest in &selected {
                if !guest.ours && !pending {
                    println!(
                        "skip {} on our emulator (not expected to pass yet; --pending runs it)",
                        guest.name
                    );
                    continue;
                }
                for &smp in guest.smp {
                    for runner in Runner::all_virt() {
                        check_run(&mut report, &paths, guest, runner, smp, timeout);
                    }
                }
            }
            let syntax_guests = ["hello", "bootinfo", "reset"];
            if !only_torture && filter.as_deref().is_none_or(|f| syntax_guests.contains(&f)) {
                qemu_syntax::checks(&mut report, &paths);
            }
            if !only_torture && filter.as_deref().is_none_or(|f| f == "gdbtarget") {
                gdb::checks(&mut report, &paths);
            }
            if filter.is_none() {
                torture::checks(&mut report, &paths, timeout);
                soak::signal_checks(&mut report, &paths);
            }
            // The hidden-variable tests: torture-locks 20x on two combinations.
            let locks = guests::find("torture-locks")?;
            if !no_stress && selected.iter().any(|g| g.name == locks.name) {
                for runner in [
                    Runner::Virt(run::Backend::Tiered, run::Sched::Mttcg),
                    Runner::Virt(run::Backend::Interp, run::Sched::Mttcg),
                ] {
                    stress_series(&mut report, &paths, locks, runner, stress_runs, timeout * 2);
                }
            }
            let stress = guests::find("smp-counter")?;
            let run_stress = !no_stress && selected.iter().any(|g| g.name == stress.name);
            if run_stress {
                for runner in Runner::all_virt() {
                    stress_series(
                        &mut report,
                        &paths,
                        stress,
                        runner,
                        stress_runs,
                        timeout * 2,
                    );
                }
            }
        }
    }

    // 6. Debian's arm64 kernel boots to its "no root file system" panic everywhere
    if !no_linux && filter.is_none() {
        linux_boots(&mut report, &paths);
        linux_shell_checks(&mut report, &paths);
        virtio::checks(&mut report, &paths, LINUX_TIMEOUT);
        virtio::net_checks(&mut report, &paths, LINUX_TIMEOUT);
        linux::gicv3_checks(&mut report, &paths, linux::GICV3_SMP, LINUX_TIMEOUT);
        if !no_debian {
            // The Debian disk under systemd to login: with its DHCP address, on the
            // default back end only (a boot is 40-110 s on two shared cores).
            match debian_disk::files(&paths) {
                Ok(f) => {
                    let runner = Runner::Virt(run::Backend::Tiered, run::Sched::Mttcg);
                    debian_disk::check_one(
                        &mut report,
                        &paths,
                        &f,
                        runner,
                        false,
                        debian_disk::TIMEOUT,
                    );
                }
                Err(e) => report.fail("build the Debian disk image", &format!("{e:#}")),
            }
        }
        check::checks(&mut report, &paths);
    }

    // 7. a short run of every fuzz target
    if !no_fuzz && !only_torture && filter.is_none() {
        fuzz::ci(&mut report, &paths);
    }

    println!("{} passed, {} failed", report.passed, report.failed);
    if report.failed > 0 {
        bail!("{} check(s) failed", report.failed);
    }
    Ok(())
}

/// `cargo xtask gicv3 [--smp N]`: the GICv3 checks alone (the `gicv3*` guests against
/// QEMU and on every back end x scheduler, then Debian's kernel with N vCPUs, default 16).
fn cmd_gicv3(args: &[String]) -> Result<()> {
    let mut opts = Opts::new(args);
    let smp = opts.number("--smp", linux::GICV3_SMP as u64)? as u32;
    opts.finish()?;
    let paths = Paths::new();
    tools::ensure()?;
    guests::build_all(&paths)?;
    build_virt(&paths)?;
    let mut report = Report::default();
    let timeout = Duration::from_secs(120);
    for guest in GUESTS
        .iter()
        .filter(|g| g.name.starts_with("gicv3") && g.in_test)
    {
        for &smp in guest.smp {
            check_run(&mut report, &paths, guest, Runner::Qemu, smp, timeout);
            for runner in Runner::all_virt() {
                check_run(&mut report, &paths, guest, runner, smp, timeout);
            }
        }
    }
    linux::gicv3_checks(&mut report, &paths, smp, LINUX_TIMEOUT);
    println!("{} passed, {} failed", report.passed, report.failed);
    if report.failed > 0 {
        bail!("{} check(s) failed", report.failed);
    }
    Ok(())
}

/// `cargo xtask debian`: builds the Debian disk (and its initramfs), then boots it on the
/// given runners to the login prompt (and the DHCP address), with `--dd` the disk
/// throughput too.
fn cmd_debian(args: &[String]) -> Result<()> {
    let paths = Paths::new();
    let mut opts = Opts::new(args);
    let runners = opts
        .value("--runner")?
        .unwrap_or_else(|| "qemu,tiered/mttcg".to_string());
    let build_only = opts.flag("--build-only");
    let dd = opts.flag("--dd");
    let bench = opts.flag("--bench");
    opts.finish()?;
    let f = debian_disk::files(&paths)?;
    let size = std::fs::metadata(&f.image)?;
    use std::os::unix::fs::MetadataExt;
    println!(
        "{} ({} MiB, {} MiB used on the host), {}",
        f.image.display(),
        size.len() >> 20,
        (size.blocks() * 512) >> 20,
        f.initrd.display()
    );
    if build_only {
        return Ok(());
    }
    let runners: Vec<Runner> = runners
        .split(',')
        .map(userland::runner_from_label)
        .collect::<Result<_>>()?;
    if runners.iter().any(|r| *r != Runner::Qemu) {
        build_virt(&paths)?;
    }
    if bench {
        println!(
            "{:<18} {:>4}  {:<13} {:>10}  {:>10}",
            "guest", "smp", "runner", "s", "time/QEMU"
        );
        return bench_debian(&paths, &runners);
    }
    let mut report = Report::default();
    for r in runners {
        debian_disk::check_one(&mut report, &paths, &f, r, dd, debian_disk::TIMEOUT);
    }
    println!("{} passed, {} failed", report.passed, report.failed);
    if report.failed > 0 {
        bail!("{} check(s) failed", report.failed);
    }
    Ok(())
}

/// The MTTCG torture guests (issue 14).
fn is_torture(name: &str) -> bool {
    name.starts_with("torture-") || name.starts_with("litmus")
}

fn cmd_litmus(args: &[String]) -> Result<()> {
    let paths = Paths::new();
    let mut opts = Opts::new(args);
    let smp = opts.number("--smp", 4)? as u32;
    let runners = match opts.value("--runner")? {
        Some(list) => list
            .split(',')
            .map(torture::parse_runner)
            .collect::<Result<Vec<_>>>()?,
        None => torture::default_litmus_runners(),
    };
    opts.finish()?;
    guests::build_all(&paths)?;
    build_virt(&paths)?;
    torture::cmd_litmus(smp, &runners)
}

fn cmd_soak(args: &[String]) -> Result<()> {
    let paths = Paths::new();
    let mut opts = Opts::new(args);
    let runs = opts.number("--runs", 100)?.max(1);
    let smp = opts.number("--smp", 4)? as u32;
    let backend = match opts.value("--backend")?.as_deref().unwrap_or("tiered") {
        "jit" => run::Backend::Jit,
        "interp" => run::Backend::Interp,
        "quick" => run::Backend::Quick,
        "tiered" => run::Backend::Tiered,
        other => bail!("unknown back end `{other}` (jit, interp, quick, tiered)"),
    };
    opts.finish()?;
    build_virt(&paths)?;
    soak::cmd(runs, smp, backend)
}

fn cmd_virtio() -> Result<()> {
    let paths = Paths::new();
    build_virt(&paths)?;
    let mut report = Report::default();
    virtio::checks(&mut report, &paths, LINUX_TIMEOUT);
    virtio::net_checks(&mut report, &paths, LINUX_TIMEOUT);
    println!("{} passed, {} failed", report.passed, report.failed);
    if report.failed > 0 {
        bail!("{} check(s) failed", report.failed);
    }
    Ok(())
}

/// Boots Debian's kernel to the VFS panic on every back end x scheduler, with 4
/// CPUs (all reported online).
fn linux_boots(report: &mut Report, paths: &Paths) {
    let kernel = match linux::kernel(paths) {
        Ok(k) => k,
        Err(e) => {
            report.fail("fetch Debian's arm64 kernel", &format!("{e:#}"));
            return;
        }
    };
    for smp in [4] {
        for runner in Runner::all_virt() {
            let what = format!("linux to VFS panic {} smp{smp}", runner.label());
            let cmd = linux::command(runner, &paths.virt(), &kernel, smp);
            match linux::boot_until(cmd, linux::VFS_PANIC, LINUX_TIMEOUT) {
                Ok(boot) => match linux::check_boot(&boot, smp) {
                    None => report.pass(&what, boot.reached.unwrap_or(boot.elapsed)),
                    Some(why) => report.fail(&what, &why),
                },
                Err(e) => report.fail(&what, &format!("{e:#}")),
            }
        }
    }
}

/// Boots Debian's kernel with the busybox initramfs running its check script on QEMU
/// and on every back end x scheduler with 2 CPUs; each output must equal QEMU's.
fn linux_shell_checks(report: &mut Report, paths: &Paths) {
    let setup = linux::kernel(paths).and_then(|k| Ok((k, initramfs::initramfs(paths)?)));
    let (kernel, initrd) = match setup {
        Ok(v) => v,
        Err(e) => {
            report.fail("fetch Debian's kernel and busybox", &format!("{e:#}"));
            return;
        }
    };
    let append = format!("console=ttyAMA0 {}", initramfs::CHECK_PARAM);
    let smp = 2;
    let run = |runner: Runner| -> Result<(Vec<String>, Duration), String> {
        let cmd = linux::command_with(runner, &paths.virt(), &kernel, smp, Some(&initrd), &append);
        let boot = linux::boot_until(cmd, initramfs::CHECK_END, LINUX_TIMEOUT)
            .map_err(|e| format!("{e:#}"))?;
        match initramfs::check_output(&boot.log) {
            Some(lines) => Ok((lines, boot.reached.unwrap_or(boot.elapsed))),
            None => {
                let lines: Vec<&str> = boot.log.lines().collect();
                Err(format!(
                    "the check script did not finish in {:.1} s; last lines:\n{}",
                    boot.elapsed.as_secs_f64(),
                    lines[lines.len().saturating_sub(25)..].join("\n")
                ))
            }
        }
    };
    let expected = match run(Runner::Qemu) {
        Ok((lines, t)) => {
            report.pass("linux busybox check script on qemu smp2", t);
            lines
        }
        Err(why) => {
            report.fail("linux busybox check script on qemu smp2", &why);
            return;
        }
    };
    // QEMU's own command line, unchanged, on virt (its default back end; -accel absent:
    // multi-threaded, as QEMU).
    let what = format!("linux busybox check script qemu-syntax smp{smp}");
    let qemu = linux::command_with(
        Runner::Qemu,
        &paths.virt(),
        &kernel,
        smp,
        Some(&initrd),
        &append,
    );
    let mut cmd = Command::new(paths.virt());
    cmd.args(qemu.get_args());
    let result = linux::boot_until(cmd, initramfs::CHECK_END, LINUX_TIMEOUT)
        .map_err(|e| format!("{e:#}"))
        .and_then(|boot| {
            let t = boot.reached.unwrap_or(boot.elapsed);
            initramfs::check_output(&boot.log)
                .map(|lines| (lines, t))
                .ok_or_else(|| {
                    let lines: Vec<&str> = boot.log.lines().collect();
                    format!(
                        "the check script did not finish; last lines:\n{}",
                        lines[lines.len().saturating_sub(25)..].join("\n")
                    )
                })
        });
    // Each run's script output must equal QEMU's.
    let mut judge = |what: &str, result: Result<(Vec<String>, Duration), String>| match result {
        Ok((lines, t)) if lines == expected => report.pass(what, t),
        Ok((lines, _)) => report.fail(
            what,
            &format!(
                "output differs from QEMU's:\n--- qemu\n{}\n--- ours\n{}",
                expected.join("\n"),
                lines.join("\n")
            ),
        ),
        Err(why) => report.fail(what, &why),
    };
    judge(&what, result);
    for runner in Runner::all_virt() {
        let what = format!("linux busybox check script {} smp{smp}", runner.label());
        judge(&what, run(runner));
    }
}

/// Generous: a boot takes 15-30 s here (2 cores, JIT or interpreter).
const LINUX_TIMEOUT: Duration = Duration::from_secs(300);

/// smp-counter at --smp 4, `runs` times in a row; each run counts as a check,
/// one summary line per series (plus a line for every failed run).
fn stress_series(
    report: &mut Report,
    paths: &Paths,
    guest: &Guest,
    runner: Runner,
    runs: u64,
    timeout: Duration,
) {
    let smp = 4;
    let what = format!("stress {} {} smp{smp}", guest.name, runner.label());
    let mut failed = 0;
    let mut slowest = Duration::ZERO;
    for i in 1..=runs {
        match run_and_check(paths, guest, runner, smp, timeout) {
            Ok((elapsed, None)) => {
                report.passed += 1;
                slowest = slowest.max(elapsed);
            }
            Ok((_, Some(why))) => {
                failed += 1;
                report.fail(&format!("{what} run {i}/{runs}"), &why);
            }
            Err(e) => {
                failed += 1;
                report.fail(&format!("{what} run {i}/{runs}"), &format!("{e:#}"));
            }
        }
    }
    let status = if failed == 0 { "ok  " } else { "FAIL" };
    println!(
        "{status} {what}: {}/{runs} runs passed (slowest {:.2} s)",
        runs - failed,
        slowest.as_secs_f64()
    );
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn cmd_bench(args: &[String]) -> Result<()> {
    let paths = Paths::new();
    let mut opts = Opts::new(args);
    let runs = opts.number("--runs", 3)?.max(1);
    let filter = opts.value("--guest")?;
    let no_qemu = opts.flag("--no-qemu");
    let no_linux = opts.flag("--no-linux");
    let no_userland = opts.flag("--no-userland");
    let no_debian = opts.flag("--no-debian");
    let mode = userland::Mode::parse(opts.value("--userland")?.as_deref().unwrap_or("short"))?;
    opts.finish()?;

    guests::build_all(&paths)?;
    let virt_ok = match build_virt(&paths) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("warning: {e:#}; benchmarking QEMU only");
            false
        }
    };
    let qemu = !no_qemu && tools::find_in_path(tools::QEMU).is_some();
    if !qemu && !no_qemu {
        eprintln!("note: {} not installed; no QEMU column", tools::QEMU);
    }
    let benches: Vec<&Guest> = match filter.as_deref() {
        Some(name) => vec![guests::find(name)?],
        None => BENCH_ORDER
            .iter()
            .map(|n| guests::find(n))
            .collect::<Result<_>>()?,
    };
    let mut runners = Vec::new();
    if qemu {
        runners.push(Runner::Qemu);
    }
    if virt_ok {
        runners.extend(Runner::all_virt());
    }
    let timeout = Duration::from_secs(300);

    println!(
        "{:<18} {:>4}  {:<13} {:>10}  {:>10}",
        "guest", "smp", "runner", "median s", "time/QEMU"
    );
    for guest in benches {
        let smp = guest.bench_smp.unwrap_or(1);
        let expected = guest.expected(&paths, smp).ok();
        let mut qemu_time = None;
        let mut medians: Vec<(Runner, Duration)> = Vec::new();
        for &runner in &runners {
            let mut times = Vec::new();
            let mut problem = None;
            for _ in 0..runs {
                let mut cmd =
                    runner.command_cpu(&paths.virt(), &guest.elf(&paths), smp, guest.qemu_cpu);
                cmd.args(guest.args);
                match run::run(cmd, timeout) {
                    Ok(o) => {
                        let bad = match &expected {
                            Some(e) => run::check(&o, e, timeout),
                            None if o.status.is_some_and(|s| s.success()) => None,
                            None => Some(format!("exit status {:?}", o.status)),
                        };
                        if let Some(why) = bad {
                            problem = Some(why);
                            break;
                        }
                        times.push(o.elapsed);
                    }
                    Err(e) => {
                        problem = Some(format!("{e:#}"));
                        break;
                    }
                }
            }
            let label = runner.label();
            if let Some(why) = problem {
                println!(
                    "{:<18} {:>4}  {:<13} {:>10}",
                    guest.name, smp, label, "FAILED"
                );
                for line in why.lines().take(6) {
                    println!("      {line}");
                }
                continue;
            }
            let m = median(times);
            medians.push((runner, m));
            print_bench_row(guest.name, smp, runner, m, &mut qemu_time);
        }
        print_interp_over_jit(&medians);
    }
    if !no_linux && filter.is_none() {
        bench_linux(&paths, &runners, runs)?;
    }
    if !no_debian && filter.is_none() {
        bench_debian(&paths, &runners)?;
    }
    if !no_userland && filter.is_none() {
        userland::bench(&paths, &runners, mode, None, runs as usize)?;
    }
    Ok(())
}

/// The Debian disk under systemd to its `login:` prompt, once per runner (QEMU and the
/// default back end, tiered/mttcg: a boot takes a minute or two), each on a fresh copy
/// of the image, with the guest's `dd` (64 MiB, O_DIRECT) throughput.
fn bench_debian(paths: &Paths, runners: &[Runner]) -> Result<()> {
    let f = debian_disk::files(paths)?;
    let scratch = debian_disk::dir(paths).join("bench.img");
    let default = Runner::Virt(run::Backend::Tiered, run::Sched::Mttcg);
    let mut qemu_time = None;
    let mut rates = Vec::new();
    for &runner in runners
        .iter()
        .filter(|r| **r == Runner::Qemu || **r == default)
    {
        let copy = Command::new("cp")
            .arg("--sparse=always")
            .arg(&f.image)
            .arg(&scratch)
            .status()
            .context("copying the Debian image")?;
        if !copy.success() {
            bail!("cp {} {} failed", f.image.display(), scratch.display());
        }
        let cmd = debian_disk::command(paths, &f, &scratch, runner, false, debian_disk::DD_PARAM);
        let b = debian_disk::boot(
            cmd,
            &[debian_disk::IP_LINE, debian_disk::DD_LINE],
            debian_disk::TIMEOUT,
        )?;
        let _ = std::fs::remove_file(&scratch);
        match b.login {
            Some(t) => print_bench_row(
                "debian-systemd",
                debian_disk::SMP,
                runner,
                t,
                &mut qemu_time,
            ),
            None => {
                println!(
                    "{:<18} {:>4}  {:<13} {:>10}",
                    "debian-systemd",
                    debian_disk::SMP,
                    runner.label(),
                    "FAILED"
                );
                for l in debian_disk::tail(&b.log, 6).lines() {
                    println!("      {l}");
                }
            }
        }
        rates.push((runner, b.dd.as_deref().and_then(debian_disk::dd_rate)));
    }
    let q = rates
        .iter()
        .find(|(r, _)| *r == Runner::Qemu)
        .and_then(|(_, x)| *x);
    for (runner, rate) in rates {
        let cell = rate.map_or("FAILED".to_string(), |r| format!("{r:.1}"));
        let ratio = match (rate, q) {
            (Some(r), Some(q)) if q > 0.0 => format!("{:.2}", r / q),
            _ => "-".to_string(),
        };
        println!(
            "{:<18} {:>4}  {:<13} {:>10}  {:>10}   (guest dd 64 MiB O_DIRECT, MB/s; ratio = ours / QEMU)",
            "debian-dd-write",
            debian_disk::SMP,
            runner.label(),
            cell,
            ratio
        );
    }
    Ok(())
}

/// `cargo xtask userland`: the userland workloads on the given runners.
fn cmd_userland(args: &[String]) -> Result<()> {
    let paths = Paths::new();
    let mut opts = Opts::new(args);
    let mode = userland::Mode::parse(opts.value("--userland")?.as_deref().unwrap_or("short"))?;
    let runners = opts
        .value("--runner")?
        .unwrap_or_else(|| "qemu,tiered/mttcg".to_string());
    let only = opts.value("--only")?;
    opts.finish()?;
    let runners: Vec<Runner> = runners
        .split(',')
        .map(userland::runner_from_label)
        .collect::<Result<_>>()?;
    if runners.iter().any(|r| *r != Runner::Qemu) {
        build_virt(&paths)?;
    }
    userland::bench(&paths, &runners, mode, only.as_deref(), 1)
}

/// One line of the bench table; QEMU's time (the first runner) is what later rows of
/// the same benchmark are compared with.
/// The interpreter's time over the JIT's per scheduler (issue 11 wants at most 10x).
fn print_interp_over_jit(medians: &[(Runner, Duration)]) {
    let of = |b: run::Backend, s: run::Sched| {
        medians
            .iter()
            .find(|(r, _)| *r == Runner::Virt(b, s))
            .map(|&(_, d)| d.as_secs_f64())
    };
    let mut parts = Vec::new();
    for s in run::SCHEDS {
        if let (Some(i), Some(j)) = (of(run::Backend::Interp, s), of(run::Backend::Jit, s)) {
            if j > 0.0 {
                parts.push(format!("{} {:.1}x", s.arg(), i / j));
            }
        }
    }
    if !parts.is_empty() {
        println!("  interp/jit         {}", parts.join("  "));
    }
}

fn print_bench_row(
    name: &str,
    smp: u32,
    runner: Runner,
    m: Duration,
    qemu_time: &mut Option<Duration>,
) {
    if runner == Runner::Qemu {
        *qemu_time = Some(m);
    }
    let ratio = match *qemu_time {
        Some(q) if !q.is_zero() => format!("{:.2}", m.as_secs_f64() / q.as_secs_f64()),
        _ => "-".to_string(),
    };
    println!(
        "{:<18} {:>4}  {:<13} {:>10.3}  {:>10}",
        name,
        smp,
        runner.label(),
        m.as_secs_f64(),
        ratio
    );
}

/// Time from start to Debian's kernel's VFS panic and to the end of the busybox check
/// script, median of `runs`, per runner.
fn bench_linux(paths: &Paths, runners: &[Runner], runs: u64) -> Result<()> {
    let kernel = linux::kernel(paths)?;
    let initrd = initramfs::initramfs(paths)?;
    let check = format!("console=ttyAMA0 {}", initramfs::CHECK_PARAM);
    // Boot to the VFS panic (kernel only), and boot + the busybox check script.
    let rows = [
        (
            "linux-vfs-panic",
            1,
            None,
            "console=ttyAMA0",
            linux::VFS_PANIC,
        ),
        (
            "linux-vfs-panic",
            4,
            None,
            "console=ttyAMA0",
            linux::VFS_PANIC,
        ),
        (
            "linux-busybox",
            2,
            Some(&initrd),
            &check,
            initramfs::CHECK_END,
        ),
    ];
    for (name, smp, initrd, append, until) in rows {
        let mut qemu_time = None;
        let mut qemu_rss = None;
        for &runner in runners {
            let mut times = Vec::new();
            // The largest peak RSS of the runs.
            let mut rss = None;
            for _ in 0..runs {
                let cmd = linux::command_with(
                    runner,
                    &paths.virt(),
                    &kernel,
                    smp,
                    initrd.map(|p| p.as_path()),
                    append,
                );
                let boot = linux::boot_until(cmd, until, LINUX_TIMEOUT)?;
                match boot.reached {
                    Some(t) => times.push(t),
                    None => break,
                }
                rss = rss.max(boot.peak_rss_kib);
            }
            let label = runner.label();
            if times.len() as u64 != runs {
                println!("{:<18} {:>4}  {:<13} {:>10}", name, smp, label, "FAILED");
                continue;
            }
            print_bench_row(name, smp, runner, median(times), &mut qemu_time);
            // Peak memory on its own line, against QEMU's (issue 11: at most QEMU's).
            if runner == Runner::Qemu {
                qemu_rss = rss;
            }
            if let Some(kib) = rss {
                let ratio = match qemu_rss {
                    Some(q) if q > 0 => format!("{:.2}", kib as f64 / q as f64),
                    _ => "-".to_string(),
                };
                println!(
                    "{:<18} {:>4}  {:<13} {:>7} MiB  {:>10}",
                    "  peak RSS",
                    "",
                    label,
                    kib / 1024,
                    ratio
                );
            }
        }
    }
    Ok(())
}
