//! The guest programs under `guests/`: the one table describing them, and
//! building them with the AArch64 cross compiler.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};

use crate::paths::Paths;

/// The cross compiler used for every guest.
pub const CROSS_CC: &str = "aarch64-linux-gnu-gcc";
/// Used (best effort) to write a disassembly next to each ELF.
pub const CROSS_OBJDUMP: &str = "aarch64-linux-gnu-objdump";
/// Writes each guest's raw binary (`<name>.bin`, the image from 0x4008_0000 on: what
/// QEMU and `virt` load as a raw image at RAM + 512 KiB).
pub const CROSS_OBJCOPY: &str = "aarch64-linux-gnu-objcopy";

/// Start-up code and library linked into every guest (paths relative to `guests/`).
pub const COMMON_SOURCES: &[&str] = &["common/start.S", "common/lib.c"];
/// Linker script placing the image at 0x4008_0000 (relative to `guests/`).
pub const LINKER_SCRIPT: &str = "common/link.ld";

/// Compiler flags for every guest: freestanding, integer-only A64 code that
/// runs with the MMU off (hence strict alignment). Guests with
/// [`Guest::fpsimd`] drop [`GENERAL_REGS_ONLY`] (GCC has no negative form).
pub const CFLAGS: &[&str] = &[
    "-O2",
    "-ffreestanding",
    "-nostdlib",
    "-nostartfiles",
    "-static",
    GENERAL_REGS_ONLY,
    "-mno-outline-atomics",
    "-march=armv8-a",
    "-fno-pic",
    "-no-pie",
    "-mstrict-align",
    "-fno-stack-protector",
    // Keep GCC from turning the memset/memcpy loops into calls to themselves.
    "-fno-tree-loop-distribute-patterns",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wl,--build-id=none",
    "-Wl,--no-warn-rwx-segments",
    "-Wl,-z,max-page-size=4096",
];

/// Keeps GCC from using FP/SIMD registers (also for memcpy-like code and spills).
pub const GENERAL_REGS_ONLY: &str = "-mgeneral-regs-only";

/// One guest program. Adding a guest is adding one entry to [`GUESTS`].
#[derive(Debug)]
pub struct Guest {
    /// Output name: `target/guests/<name>.elf`; also the expected-output file stem.
    pub name: &'static str,
    /// Sources besides [`COMMON_SOURCES`], relative to `guests/`.
    pub sources: &'static [&'static str],
    /// Extra compiler flags (e.g. `-D` defines), after [`CFLAGS`] so they win
    /// (`-O3`, `-march=...`).
    pub flags: &'static [&'static str],
    /// C code may use FP/SIMD registers (GCC's vectoriser): built without
    /// [`GENERAL_REGS_ONLY`]. start.S enables FP/SIMD for every guest.
    pub fpsimd: bool,
    /// `--smp` counts the guest is tested with.
    pub smp: &'static [u32],
    /// Expected output differs by CPU count: `expected/<name>.smp<N>.txt`
    /// instead of `expected/<name>.txt`.
    pub expected_per_smp: bool,
    /// Run by `cargo xtask test` (long benchmark builds are not).
    pub in_test: bool,
    /// Run by `cargo xtask bench`, with this `--smp`.
    pub bench_smp: Option<u32>,
    /// Bytes fed to the guest's UART (standard input of QEMU and of `virt`);
    /// `None`: standard input is closed.
    pub stdin: Option<&'static str>,
    /// Expected to pass on our emulator. `false` for guests written ahead of
    /// the features they test: `cargo xtask test` still checks them against
    /// QEMU but runs them on `virt` only with `--pending` or `--guest NAME`.
    pub ours: bool,
    /// The `-cpu` QEMU runs this guest with when producing and checking the expected
    /// output: cortex-a57 (our CPU model) unless the guest exercises something that
    /// model lacks but ours implements (the 16 KiB granule: `max`).
    pub qemu_cpu: &'static str,
    /// Extra options in QEMU syntax, given to QEMU and to `virt` alike.
    pub args: &'static [&'static str],
}

/// Sources of the exception vectors, EL0 runner, probes and fix-ups
/// (`common/sys.h`).
macro_rules! sys_sources {
    ($($src:expr),* $(,)?) => {
        &[$($src,)* "common/vectors.S", "common/trap.c"]
    };
}

/// The usual values: integer-only C, one CPU, one expected file, tested, not
/// benchmarked, no input, expected to pass on our emulator, QEMU as a cortex-a57.
const GUEST: Guest = Guest {
    name: "",
    sources: &[],
    flags: &[],
    fpsimd: false,
    smp: &[1],
    expected_per_smp: false,
    in_test: true,
    bench_smp: None,
    stdin: None,
    ours: true,
    qemu_cpu: "cortex-a57",
    args: &[],
};

pub const GUESTS: &[Guest] = &[
    Guest {
        name: "hello",
        sources: &["hello.c"],
        bench_smp: Some(1),
        ..GUEST
    },
    Guest {
        name: "selfcheck",
        sources: &["selfcheck.c"],
        ..GUEST
    },
    Guest {
        name: "selfcheck-bench",
        sources: &["selfcheck.c"],
        flags: &["-DSELFCHECK_LOOPS=4000"],
        in_test: false,
        bench_smp: Some(1),
        ..GUEST
    },
    Guest {
        name: "kernels",
        sources: &["kernels.c"],
        ..GUEST
    },
    Guest {
        name: "kernels-switch",
        sources: &["kernels.c"],
        flags: &["-DBENCH", "-DONLY=1"],
        in_test: false,
        bench_smp: Some(1),
        ..GUEST
    },
    Guest {
        name: "kernels-recursion",
        sources: &["kernels.c"],
        flags: &["-DBENCH", "-DONLY=2"],
        in_test: false,
        bench_smp: Some(1),
        ..GUEST
    },
    Guest {
        name: "kernels-sort",
        sources: &["kernels.c"],
        flags: &["-DBENCH", "-DONLY=3"],
        in_test: false,
        bench_smp: Some(1),
        ..GUEST
    },
    Guest {
        name: "kernels-chase",
        sources: &["kernels.c"],
        flags: &["-DBENCH", "-DONLY=4"],
        in_test: false,
        bench_smp: Some(1),
        ..GUEST
    },
    Guest {
        name: "kernels-memory",
        sources: &["kernels.c"],
        flags: &["-DBENCH", "-DONLY=5"],
        in_test: false,
        bench_smp: Some(1),
        ..GUEST
    },
    Guest {
        name: "kernels-hash",
        sources: &["kernels.c"],
        flags: &["-DBENCH", "-DONLY=6"],
        in_test: false,
        bench_smp: Some(1),
        ..GUEST
    },
    Guest {
        name: "smp-counter",
        sources: &["smp-counter.c"],
        smp: &[1, 4, 8],
        expected_per_smp: true,
        bench_smp: Some(4),
        ..GUEST
    },
    Guest {
        name: "exceptions",
        sources: sys_sources!["exceptions.c", "exceptions.S"],
        ..GUEST
    },
    Guest {
        name: "el0",
        sources: sys_sources!["el0.c"],
        ..GUEST
    },
    Guest {
        name: "mmu",
        sources: sys_sources!["mmu.c", "mmu.S", "common/mmu.c"],
        qemu_cpu: "max",
        ..GUEST
    },
    Guest {
        name: "timer",
        sources: sys_sources!["timer.c"],
        ..GUEST
    },
    Guest {
        name: "ipi",
        sources: sys_sources!["ipi.c"],
        smp: &[1, 4, 8],
        expected_per_smp: true,
        ..GUEST
    },
    Guest {
        name: "gicv3",
        sources: sys_sources!["gicv3.c"],
        smp: &[4],
        expected_per_smp: true,
        args: &["-M", "virt,gic-version=3"],
        ..GUEST
    },
    // The SMP stress guest at 16 vCPUs, which needs the GICv3 (GICv2 stops at 8);
    // fewer iterations than `smp-counter` to fit the CI budget.
    Guest {
        name: "gicv3-smp-counter",
        sources: &["smp-counter.c"],
        flags: &["-DMAX_CPUS=16", "-DSTACK_SHIFT=13", "-DITERATIONS=20000"],
        smp: &[16],
        expected_per_smp: true,
        args: &["-M", "virt,gic-version=3"],
        ..GUEST
    },
    Guest {
        name: "uart-rx",
        sources: sys_sources!["uart-rx.c"],
        stdin: Some(UART_RX_INPUT),
        ..GUEST
    },
    Guest {
        name: "vecc",
        sources: &["vecc.c"],
        flags: VECC_FLAGS,
        fpsimd: true,
        ..GUEST
    },
    Guest {
        name: "vecc-bench",
        sources: &["vecc.c"],
        flags: VECC_BENCH_FLAGS,
        fpsimd: true,
        in_test: false,
        bench_smp: Some(1),
        ..GUEST
    },
    Guest {
        name: "strfn",
        // The driver is integer-only C; the routines in strfn.S use SIMD.
        sources: &["strfn.c", "strfn.S"],
        ..GUEST
    },
    Guest {
        name: "smc",
        sources: sys_sources!["smc.c", "smc.S", "common/mmu.c"],
        smp: &[1, 4, 8],
        expected_per_smp: true,
        ..GUEST
    },
    // The GDB stub's test guest (xtask/src/gdb.rs): with debug information, at -O1 so
    // that source lines and variables stay where the tests look for them.
    Guest {
        name: "gdbtarget",
        sources: &["gdbtarget.c"],
        flags: &["-O1", "-g"],
        smp: &[1, 2],
        ..GUEST
    },
    // What the board hands the guest: as an ELF here (no tree: QEMU's 1 MiB tree does
    // not fit below 0x4008_0000); as a raw binary in the QEMU-syntax checks.
    Guest {
        name: "bootinfo",
        sources: &["bootinfo.c"],
        ..GUEST
    },
    // Prints a line, starts CPU 1 and asks for SYSTEM_RESET: with -no-reboot the run
    // ends there (the QEMU-syntax checks also compare reboots without it).
    Guest {
        name: "reset",
        sources: &["bootinfo.c"],
        flags: &["-DRESET_TEST"],
        smp: &[2],
        args: &["-no-reboot"],
        ..GUEST
    },
    // A bare-metal virtio-mmio driver: the entropy device serves a request, a looping
    // descriptor chain puts it in DEVICE_NEEDS_RESET, a reset brings it back.
    Guest {
        name: "virtio",
        sources: &["virtio.c"],
        // QEMU's virtio-mmio is the legacy layout unless told otherwise.
        args: &[
            "-global",
            "virtio-mmio.force-legacy=false",
            "-device",
            "virtio-rng-device",
        ],
        ..GUEST
    },
    // MTTCG torture guests (issue 14). Expected outputs per CPU count; QEMU runs them
    // as `max` (LDAPR, LSE atomics); our CPU model executes what they use. The
    // entries with `smp: &[]` are not compared with QEMU (each says why in its
    // source); `cargo xtask test` checks their own verdict lines on our emulator
    // (xtask/src/torture.rs).
    Guest {
        name: "litmus",
        sources: &["litmus.c"],
        flags: &["-march=armv8.3-a"],
        smp: TORTURE_SMP,
        expected_per_smp: true,
        qemu_cpu: "max",
        ..GUEST
    },
    // With the two RCsc store->load tests QEMU 7.2 gets wrong (see litmus.c).
    Guest {
        name: "litmus-rcsc",
        sources: &["litmus.c"],
        flags: &["-march=armv8.3-a", "-DLITMUS_RCSC"],
        smp: &[],
        in_test: false,
        qemu_cpu: "max",
        ..GUEST
    },
    // 10^6 iterations per test, every iteration synchronised, relaxed-outcome counts
    // on `#` lines: `cargo xtask litmus`.
    Guest {
        name: "litmus-1m",
        sources: &["litmus.c"],
        flags: &[
            "-march=armv8.3-a",
            "-DLITMUS_RCSC",
            "-DLITMUS_ITERS=1000000",
            "-DLITMUS_SYNC=1",
            "-DLITMUS_VERBOSE",
        ],
        smp: &[],
        in_test: false,
        qemu_cpu: "max",
        ..GUEST
    },
    // At 8 CPUs QEMU sometimes needs a minute (one run in three here), so smp 8 is
    // self-checked on our emulator (xtask/src/torture.rs).
    Guest {
        name: "torture-locks",
        sources: &["torture-locks.c"],
        flags: &["-march=armv8.1-a"],
        smp: &[2, 4],
        expected_per_smp: true,
        qemu_cpu: "max",
        ..GUEST
    },
    // The lock-free plain increment that must lose updates under MTTCG.
    Guest {
        name: "torture-racy",
        sources: &["torture-locks.c"],
        flags: &["-march=armv8.1-a", "-DLOCKS_RACY_REPORT"],
        smp: &[],
        in_test: false,
        qemu_cpu: "max",
        ..GUEST
    },
    Guest {
        name: "torture-smc",
        sources: sys_sources!["torture-smc.c", "torture-smc.S"],
        smp: TORTURE_SMP,
        expected_per_smp: true,
        qemu_cpu: "max",
        ..GUEST
    },
    // Reproducer of a round-robin slowdown (not run by any check): the barrier's
    // wake-up SGI stays pending while the vCPUs run with PSTATE.I set; `virt --smp 4
    // --sched rr` then takes minutes for what mttcg does in a fraction of a second.
    Guest {
        name: "torture-rr-pending-irq",
        sources: &["torture-locks.c"],
        flags: &[
            "-march=armv8.1-a",
            "-DLOCKS_RACY_REPORT",
            "-DTORTURE_KEEP_PENDING_SGI",
        ],
        smp: &[],
        in_test: false,
        qemu_cpu: "max",
        ..GUEST
    },
    // Cross-modifying code while it runs (QEMU 7.2 runs stale code here).
    Guest {
        name: "torture-xmod",
        sources: sys_sources!["torture-smc.c", "torture-smc.S"],
        flags: &["-DTORTURE_XMOD"],
        smp: &[],
        in_test: false,
        qemu_cpu: "max",
        ..GUEST
    },
    Guest {
        name: "torture-tlb",
        sources: sys_sources!["torture-tlb.c", "common/mmu.c"],
        smp: TORTURE_SMP,
        expected_per_smp: true,
        qemu_cpu: "max",
        ..GUEST
    },
];

/// CPU counts the torture guests run with in `cargo xtask test`.
pub const TORTURE_SMP: &[u32] = &[2, 4, 8];

/// The vectorised-C guest: GCC's auto-vectoriser at -O3 with AdvSIMD and the
/// crypto extension (its AES/SHA/PMULL intrinsics); no errno, so sqrt is one
/// instruction (there is no libm to call).
const VECC_FLAGS: &[&str] = &["-O3", "-march=armv8-a+crypto", "-fno-math-errno"];
/// The same program with its kernels repeated: ~2 s on QEMU, the benchmark.
const VECC_BENCH_FLAGS: &[&str] = &[
    "-O3",
    "-march=armv8-a+crypto",
    "-fno-math-errno",
    "-DVECC_REPS=300",
];

/// What `uart-rx` reads: a line it polls for, a line it takes with
/// interrupts, and a last polled line.
const UART_RX_INPUT: &str =
    "Hello, UART!\nThe quick brown fox jumps over the lazy dog 0123456789\nend\n";

/// Order in which `cargo xtask bench` runs the benchmark guests.
pub const BENCH_ORDER: &[&str] = &[
    "selfcheck-bench",
    "kernels-switch",
    "kernels-recursion",
    "kernels-sort",
    "kernels-chase",
    "kernels-memory",
    "kernels-hash",
    "vecc-bench",
    "smp-counter",
    "hello",
];

impl Guest {
    /// [`CFLAGS`] (without [`GENERAL_REGS_ONLY`] for FP/SIMD guests), then the
    /// guest's own flags.
    pub fn cflags(&self) -> impl Iterator<Item = &'static str> + '_ {
        CFLAGS
            .iter()
            .copied()
            .filter(move |&f| !(self.fpsimd && f == GENERAL_REGS_ONLY))
            .chain(self.flags.iter().copied())
    }

    pub fn elf(&self, paths: &Paths) -> PathBuf {
        paths.guest_out().join(format!("{}.elf", self.name))
    }

    /// The raw binary (see [`CROSS_OBJCOPY`]).
    pub fn bin(&self, paths: &Paths) -> PathBuf {
        paths.guest_out().join(format!("{}.bin", self.name))
    }

    pub fn expected_file(&self, paths: &Paths, smp: u32) -> PathBuf {
        let file = if self.expected_per_smp {
            format!("{}.smp{smp}.txt", self.name)
        } else {
            format!("{}.txt", self.name)
        };
        paths.guests_src().join("expected").join(file)
    }

    /// Reads the expected output, with a clear error if it is missing.
    pub fn expected(&self, paths: &Paths, smp: u32) -> Result<String> {
        let file = self.expected_file(paths, smp);
        std::fs::read_to_string(&file).with_context(|| {
            format!(
                "missing expected output {} for guest `{}` (generate it by running the guest on \
                 qemu-system-aarch64 and check it by hand)",
                file.display(),
                self.name
            )
        })
    }
}

pub fn find(name: &str) -> Result<&'static Guest> {
    match GUESTS.iter().find(|g| g.name == name) {
        Some(g) => Ok(g),
        None => {
            let names: Vec<_> = GUESTS.iter().map(|g| g.name).collect();
            bail!("unknown guest `{name}` (known: {})", names.join(", "))
        }
    }
}

/// Newest modification time of the guest sources (all of `guests/` except the
/// expected outputs) and of this xtask binary, whose table holds the flags.
fn newest_input(paths: &Paths) -> Result<SystemTime> {
    fn walk(dir: &Path, skip: &Path, newest: &mut SystemTime) -> Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let path = entry.path();
            if path == skip {
                continue;
            }
            let meta = entry.metadata()?;
            if meta.is_dir() {
                walk(&path, skip, newest)?;
            } else if let Ok(t) = meta.modified() {
                *newest = (*newest).max(t);
            }
        }
        Ok(())
    }
    let mut newest = SystemTime::UNIX_EPOCH;
    walk(
        &paths.guests_src(),
        &paths.guests_src().join("expected"),
        &mut newest,
    )?;
    if let Ok(t) = std::env::current_exe().and_then(|e| e.metadata()?.modified()) {
        newest = newest.max(t);
    }
    Ok(newest)
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// Builds every guest whose ELF is older than its inputs.
pub fn build_all(paths: &Paths) -> Result<()> {
    if crate::tools::find_in_path(CROSS_CC).is_none() {
        bail!(
            "the AArch64 cross compiler `{CROSS_CC}` is not installed; install it with\n    {}",
            crate::tools::APT_HINT
        );
    }
    let out = paths.guest_out();
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let newest = newest_input(paths)?;
    for guest in GUESTS {
        let elf = guest.elf(paths);
        if modified(&elf).is_some_and(|t| t >= newest) {
            continue;
        }
        build_one(paths, guest, &elf)?;
    }
    Ok(())
}

fn build_one(paths: &Paths, guest: &Guest, elf: &Path) -> Result<()> {
    let src = paths.guests_src();
    let mut cmd = Command::new(CROSS_CC);
    cmd.current_dir(&src)
        .args(guest.cflags())
        .arg("-Icommon")
        .arg("-T")
        .arg(LINKER_SCRIPT)
        .arg("-o")
        .arg(elf)
        .args(COMMON_SOURCES)
        .args(guest.sources);
    eprintln!("building guest {}", guest.name);
    let status = cmd
        .status()
        .with_context(|| format!("running {CROSS_CC}"))?;
    if !status.success() {
        let _ = std::fs::remove_file(elf);
        bail!("building guest `{}` failed ({status})", guest.name);
    }
    let bin = elf.with_extension("bin");
    let status = Command::new(CROSS_OBJCOPY)
        .args(["-O", "binary"])
        .arg(elf)
        .arg(&bin)
        .status()
        .with_context(|| format!("running {CROSS_OBJCOPY}"))?;
    if !status.success() {
        let _ = std::fs::remove_file(elf);
        bail!(
            "{CROSS_OBJCOPY} -O binary of guest `{}` failed ({status})",
            guest.name
        );
    }
    // A disassembly for whoever debugs the emulator (best effort).
    if let Ok(out) = Command::new(CROSS_OBJDUMP).arg("-d").arg(elf).output() {
        if out.status.success() {
            let _ = std::fs::write(elf.with_extension("dis"), out.stdout);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_bench_guests_exist() {
        for (i, g) in GUESTS.iter().enumerate() {
            assert!(
                GUESTS[i + 1..].iter().all(|h| h.name != g.name),
                "{}",
                g.name
            );
        }
        for name in BENCH_ORDER {
            let g = find(name).unwrap();
            assert!(g.bench_smp.is_some(), "{name} has no bench_smp");
        }
    }

    #[test]
    fn every_guest_has_its_expected_outputs() {
        let paths = Paths::new();
        for g in GUESTS {
            for &smp in g.smp {
                assert!(
                    g.expected_file(&paths, smp).is_file(),
                    "{}",
                    g.expected_file(&paths, smp).display()
                );
            }
        }
    }

    #[test]
    fn fpsimd_guests_drop_general_regs_only() {
        let vecc = find("vecc").unwrap();
        let flags: Vec<_> = vecc.cflags().collect();
        assert!(!flags.contains(&GENERAL_REGS_ONLY));
        // The guest's -O3 comes after the common -O2, so it wins.
        let o2 = flags.iter().position(|&f| f == "-O2").unwrap();
        let o3 = flags.iter().position(|&f| f == "-O3").unwrap();
        assert!(o3 > o2);
        assert!(find("hello")
            .unwrap()
            .cflags()
            .any(|f| f == GENERAL_REGS_ONLY));
    }
}
