//! `virt`: run an AArch64 guest on the emulated virt board.

mod signals;

use anyhow::Context;
use backend_cranelift::{CraneliftBackend, JitOptions, QuickTier};
use backend_interp::Interp;
use backend_tiered::{TierOptions, Tiered};
use clap::{Parser, ValueEnum};
use machine_virt::board::{Exit, GicVersion, Serial};
use machine_virt::cpu_model::CpuModel;
use machine_virt::qemu_args;
use machine_virt::stdin::Console;
use machine_virt::{Board, BoardConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tcg_ir::Backend;
use vcpu_sched::trace::{self, Items, Tracer};
use vcpu_sched::{Control, SchedMode};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BackendArg {
    /// Cranelift JIT.
    Jit,
    /// IR interpreter.
    Interp,
    /// Quick JIT: x86-64 code straight from the IR, op by op (fast to compile).
    Quick,
    /// Cold code on `--cold-tier`, Cranelift for hot TBs (see `--tier-threshold`).
    Tiered,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ColdTierArg {
    /// The quick JIT (x86-64 hosts).
    Quick,
    /// The IR interpreter.
    Interp,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SchedArg {
    /// All vCPUs on one host thread, time-sliced.
    Rr,
    /// One host thread per vCPU.
    Mttcg,
}

/// Run an AArch64 guest on an emulated "virt" board (like `qemu-system-aarch64 -M virt`).
/// QEMU's own command line for this board is accepted too (see below).
#[derive(Parser, Debug)]
#[command(name = "virt", version, args_override_self = true, after_help = qemu_args::HELP)]
struct Args {
    /// Guest kernel: an AArch64 ELF executable, an arm64 Linux Image (plain or gzip), or
    /// a raw binary (loaded at RAM + 512 KiB and entered like an Image).
    #[arg(long)]
    kernel: PathBuf,
    /// Number of vCPUs (at most 8 with GICv2, 123 with GICv3).
    #[arg(long, default_value_t = 1)]
    smp: usize,
    /// Interrupt controller: 2 (GICv2, the default, as QEMU's) or 3 (GICv3: ICC_* system
    /// registers, more than 8 vCPUs); `max` and `host` mean 3 (QEMU's
    /// `-M virt,gic-version=`).
    #[arg(long, value_name = "2|3", default_value = "2", value_parser = parse_gic_version)]
    gic_version: GicVersion,
    /// Code generation back end.
    #[arg(long, value_enum, default_value = "tiered")]
    backend: BackendArg,
    /// With `--backend tiered`: where TBs run before they are hot (default: quick on
    /// x86-64 hosts, interp elsewhere).
    #[arg(long, value_enum)]
    cold_tier: Option<ColdTierArg>,
    /// With `--backend tiered`: runs of a TB in the cold tier before Cranelift compiles
    /// it. The quick cold tier counts only entries from the execution loop (its chained
    /// code counts nothing) and also promotes a TB where 4 profiling samples (exit
    /// requests: the scheduler's every 2 ms, timer interrupts) found the vCPU; the
    /// interpreter counts every run.
    #[arg(long, default_value_t = backend_tiered::DEFAULT_THRESHOLD)]
    tier_threshold: u32,
    /// With `--backend tiered` and the quick cold tier: guest instructions a TB needs to be
    /// promoted to Cranelift unless it loops to itself or has vector ops (0: any TB).
    /// Short TBs between short TBs run as fast in quick code, which chains without
    /// Cranelift's register saves.
    #[arg(long, default_value_t = backend_tiered::DEFAULT_MIN_INSNS)]
    tier_min_insns: usize,
    /// With `--backend tiered`: compile hot TBs on the vCPU's own thread when they cross
    /// the threshold (deterministic) instead of on background compile threads.
    #[arg(long)]
    jit_sync: bool,
    /// Map generated code twice, writable and executable, instead of once read-write-execute
    /// (QEMU's `-accel tcg,split-wx=on`). W^X, at the price of counting code memory twice
    /// in the RSS.
    #[arg(long)]
    split_wx: bool,
    /// Size of the generated-code buffer in MiB (QEMU's `-accel tcg,tb-size=N`); when it
    /// fills, all code is flushed and translated again.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(16..=2048))]
    tb_size: u32,
    /// With `--backend tiered`: number of background compile threads (default: host cores
    /// minus one, at least 1, at most 4).
    #[arg(long, value_name = "N")]
    jit_workers: Option<usize>,
    /// vCPU scheduler.
    #[arg(long, value_enum, default_value = "mttcg")]
    sched: SchedArg,
    /// Lockstep self-check: run every TB on CHECKED (jit, quick, interp or tiered) and on
    /// the interpreter from the same state, and stop at the first difference with a
    /// report (exit status 3). Written `CHECKED,interp`; `--backend` is ignored; runs
    /// with the round-robin scheduler; TBs are not chained. See crate `backend-check`.
    #[arg(long, value_name = "CHECKED,interp", value_parser = parse_check)]
    check: Option<BackendArg>,
    /// Guest RAM size: a number with optional suffix K, M, G (no suffix = MiB, as QEMU).
    #[arg(short = 'm', default_value = "512M", value_parser = parse_size)]
    m: u64,
    /// Kernel command line (`/chosen/bootargs` in the device tree).
    #[arg(long)]
    append: Option<String>,
    /// Initial ramdisk, loaded into RAM after the kernel and named in the device tree.
    #[arg(long)]
    initrd: Option<std::path::PathBuf>,
    /// Log unimplemented instructions and guest errors (same as `--trace unimp,guest_errors`).
    #[arg(long)]
    log_unimp: bool,
    /// QEMU's `-d`: log ITEMS (comma separated: in_asm, op, op_opt, out_asm, exec, cpu,
    /// nochain, int, mmu, unimp, guest_errors) to standard error or `--log-file`;
    /// `--trace help` lists them.
    #[arg(long, value_name = "ITEMS", value_parser = parse_trace)]
    trace: Option<Items>,
    /// Do not read standard input (by default it feeds the UART; on a terminal, in raw
    /// mode, with Ctrl-A x to stop the machine).
    #[arg(long)]
    no_stdin: bool,
    /// Write the board's device tree blob to FILE and exit (like QEMU's dumpdtb).
    #[arg(long, value_name = "FILE")]
    dump_dtb: Option<PathBuf>,
    /// CPU model the guest sees (MIDR_EL1, device tree).
    #[arg(long, default_value = "cortex-a57", value_parser = parse_cpu)]
    cpu: CpuModel,
    /// Use this device tree blob instead of the board's own (QEMU's changes: /memory,
    /// /chosen bootargs and initrd, fresh random seeds).
    #[arg(long, value_name = "FILE")]
    dtb: Option<PathBuf>,
    /// On PSCI SYSTEM_RESET, exit (status 0) instead of rebooting the machine.
    #[arg(long)]
    no_reboot: bool,
    /// Where the UART's output goes: stdio, null, or file:FILE.
    #[arg(long, default_value = "stdio", value_parser = parse_serial)]
    serial: SerialArg,
    /// No rng-seed / kaslr-seed in the device tree (QEMU's dtb-randomness=off).
    #[arg(long)]
    no_dtb_randomness: bool,
    /// Write the log (--trace, --log-unimp) to FILE instead of standard error (QEMU's `-D`).
    #[arg(long, value_name = "FILE")]
    log_file: Option<PathBuf>,
    /// QEMU's `-drive`: a disk image (raw) for a virtio-blk device (repeatable).
    #[arg(long, value_name = "SPEC")]
    drive: Vec<String>,
    /// QEMU's `-device`: virtio-rng-device, virtio-blk-device,drive=ID (repeatable).
    #[arg(long, value_name = "SPEC")]
    device: Vec<String>,
    /// QEMU's `-chardev` (repeatable).
    #[arg(long, value_name = "SPEC")]
    chardev: Vec<String>,
    /// QEMU's `-netdev` (repeatable).
    #[arg(long, value_name = "SPEC")]
    netdev: Vec<String>,
    /// Serve GDB's remote protocol on ADDR: PORT or HOST:PORT (QEMU's `-gdb tcp::PORT`,
    /// `tcp:HOST:PORT`; `-s` is port 1234). Without a host: localhost only.
    #[arg(long, value_name = "ADDR")]
    gdb: Option<String>,
    /// Start with every vCPU stopped until GDB continues it (QEMU's `-S`; needs --gdb).
    #[arg(long)]
    halted: bool,
}

#[derive(Clone, Debug)]
enum SerialArg {
    Stdio,
    Null,
    File(PathBuf),
}

fn parse_serial(s: &str) -> Result<SerialArg, String> {
    match s {
        "stdio" => Ok(SerialArg::Stdio),
        "null" => Ok(SerialArg::Null),
        _ => match s.strip_prefix("file:") {
            Some(f) if !f.is_empty() => Ok(SerialArg::File(f.into())),
            _ => Err(format!("`{s}`: expected stdio, null or file:FILE")),
        },
    }
}

fn parse_trace(s: &str) -> Result<Items, String> {
    trace::parse_items(s)
}

fn parse_gic_version(s: &str) -> Result<GicVersion, String> {
    GicVersion::parse(s)
}

fn parse_cpu(s: &str) -> Result<CpuModel, String> {
    CpuModel::from_name(s).ok_or_else(|| {
        format!(
            "unknown CPU `{s}` (known: {})",
            CpuModel::ALL.map(|m| m.name()).join(", ")
        )
    })
}

/// What is read once and reused by every boot (a reboot reloads these images).
struct Files {
    /// The kernel and initrd as read at startup, for the first boot only: a reboot reads
    /// the files again rather than keep a copy (an uncompressed arm64 kernel is ~33 MiB,
    /// an initramfs can be hundreds) for the whole run.
    kernel: std::cell::Cell<Option<Vec<u8>>>,
    initrd: std::cell::Cell<Option<Vec<u8>>>,
    dtb: Option<Vec<u8>>,
    serial: SerialArg,
    serial_file: Option<std::fs::File>,
    /// The virtio devices (disks open for every boot).
    virtio: Vec<virtio_devices::DeviceSpec>,
}

fn read_file(what: &str, p: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("cannot read {what} {}", p.display()))
}

fn read_files(args: &Args) -> anyhow::Result<Files> {
    let read = read_file;
    let serial_file = match &args.serial {
        SerialArg::File(p) => Some(
            std::fs::File::create(p)
                .with_context(|| format!("cannot create the serial output {}", p.display()))?,
        ),
        _ => None,
    };
    let virtio =
        machine_virt::device_args::plan(&args.drive, &args.device, &args.chardev, &args.netdev)
            .map_err(|e| anyhow::anyhow!(e))?;
    Ok(Files {
        virtio,
        kernel: std::cell::Cell::new(Some(read("kernel", &args.kernel)?)),
        initrd: std::cell::Cell::new(
            args.initrd
                .as_ref()
                .map(|p| read("initrd", p))
                .transpose()?,
        ),
        dtb: args
            .dtb
            .as_ref()
            .map(|p| read("device tree", p))
            .transpose()?,
        serial: args.serial.clone(),
        serial_file,
    })
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mul) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mul = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix `{c}` (use K, M or G)")),
            };
            (&s[..i], mul)
        }
        _ => (s, 1 << 20),
    };
    let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a size"))?;
    n.checked_mul(mul)
        .ok_or_else(|| format!("size `{s}` is too large"))
}

fn parse_check(s: &str) -> Result<BackendArg, String> {
    let (checked, reference) = s
        .split_once(',')
        .ok_or_else(|| format!("`{s}`: expected CHECKED,interp (e.g. jit,interp)"))?;
    if reference != "interp" {
        return Err(format!(
            "`{reference}`: the reference back end must be `interp` (the only one that runs \
             against a write log)"
        ));
    }
    BackendArg::from_str(checked, true)
        .map_err(|_| format!("`{checked}`: expected jit, quick, interp or tiered"))
}

/// The checker's divergence hook stops this machine (set once the board exists).
static CHECK_STOP: std::sync::Mutex<Option<Control<arm_cpu::ArmCpu>>> = std::sync::Mutex::new(None);
/// The checker's counters, for the summary at exit.
static CHECK_STATS: std::sync::Mutex<Option<Arc<backend_check::CheckStats>>> =
    std::sync::Mutex::new(None);
/// Exit status after a lockstep divergence.
const CHECK_DIVERGED: i32 = 3;

/// `--check`: wraps `checked` in the lockstep checker.
fn checker(checked: Arc<dyn Backend>) -> Arc<dyn Backend> {
    let reported = std::sync::atomic::AtomicBool::new(false);
    let spec = machine_virt::check::spec(Box::new(move |d| {
        if reported.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        eprintln!("\nvirt: --check: {}", d.report);
        if let Some(c) = CHECK_STOP
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            c.shutdown(CHECK_DIVERGED);
        }
    }));
    let check = backend_check::Check::new(checked, spec);
    *CHECK_STATS.lock().unwrap_or_else(|p| p.into_inner()) = Some(check.stats());
    Arc::new(check)
}

/// A JIT back end with `opts`.
fn jit(opts: JitOptions) -> anyhow::Result<CraneliftBackend> {
    CraneliftBackend::with_options(opts).map_err(|e| anyhow::anyhow!("cannot start the JIT: {e}"))
}

fn build(
    args: &Args,
    files: &Files,
    stdin: Option<Arc<Console>>,
    debugger: Option<Arc<vcpu_sched::Debugger>>,
) -> anyhow::Result<Board> {
    let jit_opts = JitOptions {
        split_wx: args.split_wx,
        arena_size: (args.tb_size as usize) << 20,
        ..Default::default()
    };
    // TEST ONLY: with --check, VIRT_TEST_MISCOMPILE_ADD_IMM=C makes the JIT compile every
    // `add x, y, $C` as a subtraction (the checker's own test; see JitOptions).
    let miscompile = args
        .check
        .and_then(|_| std::env::var("VIRT_TEST_MISCOMPILE_ADD_IMM").ok())
        .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok());
    let jit = |o: JitOptions| {
        jit(JitOptions {
            miscompile_add_imm: miscompile,
            ..o
        })
    };
    let backend: Arc<dyn Backend> = match args.check.unwrap_or(args.backend) {
        BackendArg::Jit => Arc::new(jit(jit_opts.clone())?),
        BackendArg::Interp => Arc::new(Interp::new()),
        BackendArg::Quick => Arc::new(jit(JitOptions {
            quick: true,
            ..jit_opts.clone()
        })?),
        BackendArg::Tiered => {
            let mut opts = TierOptions::background(args.tier_threshold);
            if let Some(n) = args.jit_workers {
                opts.workers = n.min(backend_tiered::service::MAX_WORKERS);
            }
            if args.jit_sync {
                opts.workers = 0;
            }
            // Chains into a cold TB stop at the threshold, so the loop sees it again and
            // promotes it.
            let default_cold = if cfg!(target_arch = "x86_64") {
                ColdTierArg::Quick
            } else {
                ColdTierArg::Interp
            };
            // Quick code shares the hot JIT's arenas, so cold and hot TBs chain to each
            // other.
            let hot = Arc::new(jit(jit_opts.clone())?);
            let cold: Arc<dyn Backend> = match args.cold_tier.unwrap_or(default_cold) {
                ColdTierArg::Quick => Arc::new({
                    // Quick code is nearly as fast as Cranelift's on most code, so it
                    // does not count runs (that cost ~8 % of every chained TB entry);
                    // the loop-entry count and profiling samples promote instead. A vCPU
                    // must not stop for hundreds of microseconds to compile a TB the
                    // workers are late with either.
                    opts.sample_promote = backend_tiered::DEFAULT_SAMPLE_PROMOTE;
                    opts.steal_after = 0;
                    opts.min_insns = args.tier_min_insns;
                    QuickTier::uncounted(hot.clone())
                        .map_err(|e| anyhow::anyhow!("cannot start the quick JIT: {e}"))?
                }),
                ColdTierArg::Interp => Arc::new(Interp::with_chain_limit(args.tier_threshold)),
            };
            let tiered = Tiered::with_options(cold, hot, opts);
            if let Some(t) = trace::enabled(Items::OUT_ASM) {
                tiered.on_install(Box::new(move |hot| log_hot_code(t, hot)));
            }
            Arc::new(tiered)
        }
    };
    let backend = if args.check.is_some() {
        checker(backend)
    } else {
        backend
    };
    let mode = match args.sched {
        // The checker compares memory before and after a TB: no other vCPU may store
        // meanwhile.
        _ if args.check.is_some() => SchedMode::RoundRobin,
        SchedArg::Rr => SchedMode::RoundRobin,
        SchedArg::Mttcg => SchedMode::Mttcg,
    };
    let serial = match (&files.serial, &files.serial_file) {
        (SerialArg::File(_), Some(f)) => Serial::File(
            f.try_clone()
                .context("cannot share the serial output file")?,
        ),
        (SerialArg::Null, _) | (SerialArg::File(_), None) => Serial::Null,
        (SerialArg::Stdio, _) => Serial::Stdout,
    };
    let board = Board::new(BoardConfig {
        kernel: match files.kernel.take() {
            Some(k) => k,
            None => read_file("kernel", &args.kernel)?,
        },
        initrd: match (files.initrd.take(), &args.initrd) {
            (Some(i), _) => Some(i),
            (None, Some(p)) => Some(read_file("initrd", p)?),
            (None, None) => None,
        },
        append: args.append.clone(),
        ram_size: args.m,
        smp: args.smp,
        gic_version: args.gic_version,
        mode,
        backend,
        log_unimp: log_items(args).intersects(Items::UNIMP | Items::GUEST_ERRORS),
        stdin,
        cpu: args.cpu,
        dtb: files.dtb.clone(),
        dtb_randomness: !args.no_dtb_randomness,
        serial,
        virtio: files.virtio.clone(),
        debugger,
    })
    .with_context(|| {
        format!(
            "cannot start the machine with kernel {}",
            args.kernel.display()
        )
    })?;
    Ok(board)
}

/// `-d out_asm` with the tiered back end: a TB's hot code was installed.
fn log_hot_code(t: &Tracer, hot: &dyn tcg_ir::CompiledTb) {
    let Some(code) = hot.host_code() else {
        return;
    };
    let pc = hot
        .as_any()
        .and_then(|a| a.downcast_ref::<backend_cranelift::JitTb>())
        .and_then(|j| j.guest_pc());
    let mut s = String::new();
    trace::out_asm_block(&mut s, pc, " (tiered: hot code installed)", code);
    t.write(&s);
}

/// Whether `virt`'s flag `--long` takes a value (for the QEMU-syntax pre-parser).
fn takes_value(long: &str) -> bool {
    use clap::CommandFactory;
    Args::command()
        .get_arguments()
        .any(|a| a.get_long() == Some(long) && a.get_action().takes_values())
}

/// The log items asked for (`--log-unimp` is `unimp,guest_errors`).
fn log_items(args: &Args) -> Items {
    let mut items = args.trace.unwrap_or(Items::empty());
    if args.log_unimp {
        items |= Items::UNIMP | Items::GUEST_ERRORS;
    }
    items
}

/// Whether the (translated) command line asks for `--trace help` (QEMU's `-d help`),
/// which needs no other flag.
fn wants_trace_help(args: &[String]) -> bool {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        let v = match a.strip_prefix("--trace") {
            Some("") => it.next().map(String::as_str),
            Some(v) => v.strip_prefix('='),
            None => continue,
        };
        if v.is_some_and(trace::wants_help) {
            return true;
        }
        if takes_value(a.trim_start_matches('-')) {
            it.next();
        }
    }
    false
}

/// The command line, QEMU syntax translated into `virt`'s flags; `Ok(None)` after
/// printing the log items for `-d help`.
fn parse_args() -> Result<Option<Args>, String> {
    let mut argv = Vec::new();
    for a in std::env::args_os().skip(1) {
        argv.push(
            a.into_string()
                .map_err(|a| format!("argument {a:?} is not valid UTF-8"))?,
        );
    }
    let translated = qemu_args::translate(&argv, &takes_value)?;
    if wants_trace_help(&translated) {
        print!("{}", trace::help_text());
        return Ok(None);
    }
    Ok(Some(Args::parse_from(
        std::iter::once("virt".to_string()).chain(translated),
    )))
}

/// Standard error redirected to a log file (`-D`) while the machine runs; the
/// emulator's own messages after the run go to the real standard error again.
struct LogRedirect {
    saved: libc::c_int,
}

impl LogRedirect {
    fn start(file: &std::fs::File) -> std::io::Result<LogRedirect> {
        use std::os::fd::AsRawFd;
        // SAFETY: dup/dup2 on valid descriptors; no memory is passed.
        unsafe {
            let saved = libc::dup(2);
            if saved < 0 || libc::dup2(file.as_raw_fd(), 2) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(LogRedirect { saved })
        }
    }
}

impl Drop for LogRedirect {
    fn drop(&mut self) {
        // SAFETY: `saved` is the descriptor dup returned; restoring and closing it.
        unsafe {
            libc::dup2(self.saved, 2);
            libc::close(self.saved);
        }
    }
}

/// The GDB stub of a run: its server, its debugger, and the slot naming the machine.
struct Gdb {
    server: gdb_stub::GdbServer,
    debugger: Arc<vcpu_sched::Debugger>,
    slot: Arc<gdb_stub::MachineSlot>,
}

/// How long the end of the machine waits for a connected GDB to be told.
const GDB_EXIT_REPORT: std::time::Duration = std::time::Duration::from_secs(2);

/// Starts the stub `--gdb` asks for (`--halted` without it is an error: nothing could
/// start the machine).
fn start_gdb(args: &Args) -> anyhow::Result<Option<Gdb>> {
    let Some(spec) = &args.gdb else {
        if args.halted {
            anyhow::bail!(
                "--halted (-S) needs a GDB stub (--gdb, -gdb or -s): nothing else can start \
                 the machine"
            );
        }
        return Ok(None);
    };
    if args.dump_dtb.is_some() {
        return Ok(None);
    }
    let addr = gdb_stub::listen_address(spec)?;
    let debugger = Arc::new(vcpu_sched::Debugger::new(args.smp, args.halted));
    let slot = Arc::new(gdb_stub::MachineSlot::new());
    let server = gdb_stub::GdbServer::start(&addr, debugger.clone(), slot.clone())?;
    Ok(Some(Gdb {
        server,
        debugger,
        slot,
    }))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("virt: {e}");
            return ExitCode::from(2);
        }
    };
    let files = match read_files(&args) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("virt: {e:#}");
            return ExitCode::from(2);
        }
    };
    let log = match &args.log_file {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("virt: cannot create the log file {}: {e}", p.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let items = log_items(&args);
    if !items.is_empty() {
        let sink: Box<dyn std::io::Write + Send> = match log.as_ref().map(|f| f.try_clone()) {
            Some(Ok(f)) => Box::new(std::io::BufWriter::with_capacity(1 << 16, f)),
            Some(Err(e)) => {
                eprintln!("virt: cannot share the log file: {e}");
                return ExitCode::from(2);
            }
            None => Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                std::io::stderr(),
            )),
        };
        trace::install(Tracer::new(items, sink));
    }
    // The GDB stub: listening before the machine starts; its debugger (breakpoints, run
    // state) outlives a guest reboot.
    let gdb = match start_gdb(&args) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("virt: {e}");
            return ExitCode::from(2);
        }
    };
    let use_stdin =
        !args.no_stdin && args.dump_dtb.is_none() && matches!(args.serial, SerialArg::Stdio);
    // One reader of standard input for every boot (a reboot must not add threads).
    let console = use_stdin.then(Console::start).flatten().map(Arc::new);
    // SIGINT/SIGTERM/SIGHUP: a clean stop; SIGUSR1: a vCPU dump (signals.rs).
    let signals = args
        .dump_dtb
        .is_none()
        .then(signals::Signals::install)
        .flatten();
    let status = loop {
        if let Some((sig, pid)) = signals.as_ref().and_then(|s| s.terminated()) {
            eprintln!("virt: {}", signals::Signals::message(sig, pid));
            break 0;
        }
        let debugger = gdb.as_ref().map(|g| g.debugger.clone());
        let board = match build(&args, &files, console.clone(), debugger) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("virt: {e:#}");
                break 2;
            }
        };
        if let Some(path) = &args.dump_dtb {
            if let Err(e) = std::fs::write(path, board.dtb()) {
                eprintln!("virt: cannot write {}: {e}", path.display());
                break 2;
            }
            break 0;
        }
        let redirect = match log.as_ref().map(LogRedirect::start).transpose() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("virt: cannot log to the -D file: {e}");
                break 2;
            }
        };
        if let Some(g) = &gdb {
            g.slot.set(board.control());
        }
        if let Some(s) = &signals {
            s.attach(board.control());
        }
        if args.check.is_some() {
            *CHECK_STOP.lock().unwrap_or_else(|p| p.into_inner()) = Some(board.control());
        }
        let exit = board.run();
        if let Some(s) = &signals {
            s.detach();
        }
        if let Some(s) = CHECK_STATS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            eprintln!("virt: {}", s.summary());
        }
        trace::flush();
        drop(redirect);
        // A termination signal: QEMU's message and status, no reboot.
        if let Some((sig, pid)) = signals.as_ref().and_then(|s| s.terminated()) {
            if let Some(g) = &gdb {
                g.slot.clear();
            }
            eprintln!("virt: {}", signals::Signals::message(sig, pid));
            break 0;
        }
        if let Some(g) = &gdb {
            g.slot.clear();
        }
        let killed = gdb.as_ref().is_some_and(|g| g.server.killed());
        let status = match exit {
            Exit::Reset
                if !args.no_reboot
                    && !killed
                    && !console.as_ref().is_some_and(|c| c.quit_requested()) =>
            {
                continue
            }
            Exit::Reset => machine_virt::psci::RESET_EXIT_STATUS,
            Exit::Stopped(out) => {
                if let Some(m) = &out.message {
                    eprintln!("virt: {m}");
                }
                out.status
            }
        };
        if killed {
            eprintln!("virt: terminated by the debugger (GDB kill)");
        } else if let Some(g) = &gdb {
            g.server.machine_exited(status, GDB_EXIT_REPORT);
        }
        break status;
    };
    drop(console);
    ExitCode::from(status.clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_and_cpu_values() {
        assert!(matches!(parse_serial("stdio"), Ok(SerialArg::Stdio)));
        assert!(matches!(parse_serial("null"), Ok(SerialArg::Null)));
        assert!(
            matches!(parse_serial("file:x"), Ok(SerialArg::File(p)) if p == std::path::Path::new("x"))
        );
        assert!(parse_serial("file:").is_err());
        assert!(parse_serial("pty").is_err());
        assert_eq!(parse_cpu("cortex-a72"), Ok(CpuModel::CortexA72));
        assert!(parse_cpu("cortex-a15")
            .unwrap_err()
            .contains("known: cortex-a57"));
    }

    #[test]
    fn takes_value_knows_the_flags() {
        assert!(takes_value("kernel") && takes_value("append") && takes_value("serial"));
        assert!(!takes_value("no-reboot") && !takes_value("jit-sync"));
        assert!(!takes_value("no-such-flag"));
    }

    #[test]
    fn sizes_parse_like_qemu() {
        assert_eq!(parse_size("512"), Ok(512 << 20));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("abc").is_err());
    }
}
