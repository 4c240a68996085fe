//! `virt`: run an AArch64 guest on the emulated virt board.

use anyhow::Context;
use backend_cranelift::CraneliftBackend;
use backend_interp::Interp;
use backend_tiered::{TierOptions, Tiered};
use clap::{Parser, ValueEnum};
use machine_virt::{Board, BoardConfig};
use std::process::ExitCode;
use std::sync::Arc;
use tcg_ir::Backend;
use vcpu_sched::SchedMode;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BackendArg {
    /// Cranelift JIT.
    Jit,
    /// IR interpreter.
    Interp,
    /// Interpreter first, Cranelift JIT for TBs that ran `--tier-threshold` times.
    Tiered,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SchedArg {
    /// All vCPUs on one host thread, time-sliced.
    Rr,
    /// One host thread per vCPU.
    Mttcg,
}

/// Run an AArch64 guest on an emulated "virt" board (like `qemu-system-aarch64 -M virt`).
#[derive(Parser, Debug)]
#[command(name = "virt", version)]
struct Args {
    /// Guest kernel: an AArch64 ELF executable or an arm64 Linux Image (plain or gzip).
    #[arg(long)]
    kernel: std::path::PathBuf,
    /// Number of vCPUs.
    #[arg(long, default_value_t = 1)]
    smp: usize,
    /// Code generation back end.
    #[arg(long, value_enum, default_value = "tiered")]
    backend: BackendArg,
    /// With `--backend tiered`: runs of a TB in the interpreter before it is compiled.
    #[arg(long, default_value_t = backend_tiered::DEFAULT_THRESHOLD)]
    tier_threshold: u32,
    /// With `--backend tiered`: compile hot TBs on the vCPU's own thread when they cross
    /// the threshold (deterministic) instead of on background compile threads.
    #[arg(long)]
    jit_sync: bool,
    /// With `--backend tiered`: number of background compile threads (default: host cores
    /// minus one, at least 1, at most 4).
    #[arg(long, value_name = "N")]
    jit_workers: Option<usize>,
    /// vCPU scheduler.
    #[arg(long, value_enum, default_value = "mttcg")]
    sched: SchedArg,
    /// Guest RAM size: a number with optional suffix K, M, G (no suffix = MiB, as QEMU).
    #[arg(short = 'm', default_value = "512M", value_parser = parse_size)]
    m: u64,
    /// Kernel command line (`/chosen/bootargs` in the device tree).
    #[arg(long)]
    append: Option<String>,
    /// Initial ramdisk, loaded into RAM after the kernel and named in the device tree.
    #[arg(long)]
    initrd: Option<std::path::PathBuf>,
    /// Log unimplemented instructions to standard error.
    #[arg(long)]
    log_unimp: bool,
    /// Do not read standard input (by default it feeds the UART; on a terminal, in raw
    /// mode, with Ctrl-A x to stop the machine).
    #[arg(long)]
    no_stdin: bool,
    /// Write the board's device tree blob to FILE and exit (like QEMU's dumpdtb).
    #[arg(long, value_name = "FILE")]
    dump_dtb: Option<std::path::PathBuf>,
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

fn build(args: &Args) -> anyhow::Result<Board> {
    let kernel = std::fs::read(&args.kernel)
        .with_context(|| format!("cannot read kernel {}", args.kernel.display()))?;
    let initrd = match &args.initrd {
        Some(p) => {
            Some(std::fs::read(p).with_context(|| format!("cannot read initrd {}", p.display()))?)
        }
        None => None,
    };
    let backend: Arc<dyn Backend> = match args.backend {
        BackendArg::Jit => Arc::new(
            CraneliftBackend::new().map_err(|e| anyhow::anyhow!("cannot start the JIT: {e}"))?,
        ),
        BackendArg::Interp => Arc::new(Interp::new()),
        BackendArg::Tiered => {
            let mut opts = TierOptions::background(args.tier_threshold);
            if let Some(n) = args.jit_workers {
                opts.workers = n.min(backend_tiered::service::MAX_WORKERS);
            }
            if args.jit_sync {
                opts.workers = 0;
            }
            Arc::new(Tiered::with_options(
                // Chains into a cold TB stop at the threshold, so the loop sees it again
                // and promotes it.
                Arc::new(Interp::with_chain_limit(args.tier_threshold)),
                Arc::new(
                    CraneliftBackend::new()
                        .map_err(|e| anyhow::anyhow!("cannot start the JIT: {e}"))?,
                ),
                opts,
            ))
        }
    };
    let mode = match args.sched {
        SchedArg::Rr => SchedMode::RoundRobin,
        SchedArg::Mttcg => SchedMode::Mttcg,
    };
    let board = Board::new(BoardConfig {
        kernel,
        initrd,
        append: args.append.clone(),
        ram_size: args.m,
        smp: args.smp,
        mode,
        backend,
        log_unimp: args.log_unimp,
        stdin: !args.no_stdin && args.dump_dtb.is_none(),
    })
    .with_context(|| {
        format!(
            "cannot start the machine with kernel {}",
            args.kernel.display()
        )
    })?;
    Ok(board)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let board = match build(&args) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("virt: {e:#}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.dump_dtb {
        if let Err(e) = std::fs::write(path, board.dtb()) {
            eprintln!("virt: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        return ExitCode::SUCCESS;
    }
    let out = board.run();
    if let Some(m) = &out.message {
        eprintln!("virt: {m}");
    }
    ExitCode::from(out.status.clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

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
