//! Building the board (memory map, devices, CPUs) and running it.

use crate::cpu_model::CpuModel;
use crate::fdt;
use crate::gic::{Gic, GicCpu, GicDist, IrqSink};
use crate::gicv3::{GicV3, GicV3Dist, GicV3Redist, IccPort};
use crate::loader::{self, LoadError};
use crate::pl011::Pl011;
use crate::pl031::Pl031;
use crate::psci::Psci;
use crate::stdin::Console;
use crate::timer::TimerService;
use arc_swap::ArcSwapOption;
use arm_cpu::{ArmCpu, CpuConfig, IrqLines, Platform, Timer, TimerRegs};
use softmmu::{PhysAddr, PhysMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tcg_ir::Backend;
use vcpu_sched::{Control, CpuAction, RunOutcome, Sched, SchedMode};
use virtio_devices::mmio::{EmptyTransport, Interrupt, VirtioMmio};

/// The memory map of QEMU's virt board (the part we implement).
pub mod map {
    pub const GIC_DIST: u64 = 0x0800_0000;
    pub const GIC_DIST_SIZE: u64 = crate::gic::gicd::SIZE;
    pub const GIC_CPU: u64 = 0x0801_0000;
    pub const GIC_CPU_SIZE: u64 = crate::gic::gicc::SIZE;
    /// GICv3: the redistributors, 128 KiB per CPU (the device tree names QEMU's whole
    /// region, `crate::gicv3::REDIST_REGION_SIZE`; only the CPUs' frames are mapped).
    pub const GIC_REDIST: u64 = 0x080a_0000;
    pub const UART: u64 = 0x0900_0000;
    pub const UART_SIZE: u64 = 0x1000;
    pub const RTC: u64 = 0x0901_0000;
    pub const RTC_SIZE: u64 = 0x1000;
    /// The bank of virtio-mmio transports: `VIRTIO_COUNT` windows of `VIRTIO_SIZE`.
    pub const VIRTIO: u64 = 0x0a00_0000;
    pub const VIRTIO_SIZE: u64 = virtio_devices::mmio::WINDOW_SIZE;
    pub const VIRTIO_COUNT: usize = 32;
    pub const RAM: u64 = 0x4000_0000;
}

/// The most CPUs with a GICv2 (its limit) and with a GICv3 (one redistributor region).
pub const MAX_CPUS: usize = crate::gic::MAX_CPUS;
pub const MAX_CPUS_GICV3: usize = crate::gicv3::MAX_CPUS;

/// The interrupt controller (`-M virt,gic-version=`); GICv2 is the default, as QEMU's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GicVersion {
    #[default]
    V2,
    V3,
}

impl GicVersion {
    /// QEMU's values: 2, 3, and `max`/`host` (the newest we have: 3).
    pub fn parse(v: &str) -> Result<GicVersion, String> {
        match v {
            "2" => Ok(GicVersion::V2),
            "3" | "max" | "host" => Ok(GicVersion::V3),
            "4" => Err("GICv4 is not supported (GICv2 and GICv3 are)".into()),
            _ => Err("unknown GIC version (supported: 2, 3, max, host)".into()),
        }
    }

    pub fn max_cpus(self) -> usize {
        match self {
            GicVersion::V2 => MAX_CPUS,
            GicVersion::V3 => MAX_CPUS_GICV3,
        }
    }

    /// MPIDR_EL1 of CPU `n` as QEMU's virt assigns it: clusters of 8 CPUs with a GICv2
    /// (its target lists have 8 bits), of 16 with a GICv3 (Aff0 = n mod 16, Aff1 = n / 16).
    pub fn mpidr(self, n: usize) -> u64 {
        let cluster = match self {
            GicVersion::V2 => 8,
            GicVersion::V3 => crate::gicv3::CLUSTER,
        };
        0x8000_0000 | (((n / cluster) as u64 & 0xff) << 8) | (n % cluster) as u64
    }
}

/// The board's interrupt controller, as the devices drive it.
#[derive(Clone)]
pub enum Intc {
    V2(Arc<Gic>),
    V3(Arc<GicV3>),
}

impl Intc {
    pub fn set_spi(&self, n: usize, level: bool) {
        match self {
            Intc::V2(g) => g.set_spi(n, level),
            Intc::V3(g) => g.set_spi(n, level),
        }
    }
}

impl crate::timer::PpiSink for Intc {
    fn set_ppi(&self, cpu: usize, intid: usize, level: bool) {
        match self {
            Intc::V2(g) => g.set_ppi(cpu, intid, level),
            Intc::V3(g) => g.set_ppi(cpu, intid, level),
        }
    }
}

pub struct BoardConfig {
    pub kernel: Vec<u8>,
    pub initrd: Option<Vec<u8>>,
    pub append: Option<String>,
    pub ram_size: u64,
    pub smp: usize,
    pub gic_version: GicVersion,
    pub mode: SchedMode,
    pub backend: Arc<dyn Backend>,
    pub log_unimp: bool,
    /// Feeds the host's standard input to the UART during `run` (see [`crate::stdin`]);
    /// it outlives the board, so a rebooted board gets the same one.
    pub stdin: Option<Arc<Console>>,
    pub cpu: CpuModel,
    /// A device tree blob to use instead of the board's own (`-dtb`), patched as QEMU
    /// does (see [`crate::fdt_edit`]).
    pub dtb: Option<Vec<u8>>,
    /// Random `rng-seed` / `kaslr-seed` in the tree (QEMU's `dtb-randomness`).
    pub dtb_randomness: bool,
    /// Where the UART's output goes.
    pub serial: Serial,
    /// virtio devices in command-line order; as QEMU, the first goes in the highest
    /// transport (`map::VIRTIO_COUNT - 1`), the next one below, and so on.
    pub virtio: Vec<virtio_devices::DeviceSpec>,
    /// A debugger (the GDB stub's) to attach; it outlives the board (a reboot attaches it
    /// to the next one).
    pub debugger: Option<Arc<vcpu_sched::Debugger>>,
}

/// The UART's output (`-serial`).
#[derive(Debug)]
pub enum Serial {
    Stdout,
    Null,
    /// A file, opened by the caller (a reboot keeps appending to the same one).
    File(std::fs::File),
}

impl Serial {
    fn sink(&self) -> Result<crate::pl011::Sink, BoardError> {
        Ok(match self {
            Serial::Stdout => Box::new(std::io::stdout()),
            Serial::Null => Box::new(std::io::sink()),
            Serial::File(f) => Box::new(f.try_clone().map_err(|e| {
                BoardError::BadConfig(format!("cannot share the serial output file: {e}"))
            })?),
        })
    }
}

#[derive(Debug)]
pub enum BoardError {
    BadConfig(String),
    Kernel(LoadError),
    Memory(String),
}

impl fmt::Display for BoardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoardError::BadConfig(m) => write!(f, "{m}"),
            BoardError::Kernel(e) => write!(f, "cannot load kernel: {e}"),
            BoardError::Memory(m) => write!(f, "memory map: {m}"),
        }
    }
}

impl std::error::Error for BoardError {}

pub struct Board {
    sched: Sched<ArmCpu>,
    control: Control<ArmCpu>,
    late: LateControl,
    uart: Arc<Pl011>,
    timers: Arc<TimerService>,
    psci: Arc<Psci>,
    stdin: Option<Arc<Console>>,
    dtb: Vec<u8>,
    virtio: Vec<Arc<VirtioMmio>>,
}

/// How a run ended.
#[derive(Debug)]
pub enum Exit {
    /// Powered off, stopped, or failed: the emulator exits with this.
    Stopped(RunOutcome),
    /// The guest asked for PSCI SYSTEM_RESET: build a fresh board and run it again
    /// (unless `-no-reboot`).
    Reset,
}

/// How CPU 0 starts.
struct Boot {
    entry: u64,
    x0: u64,
    dtb: Vec<u8>,
    /// An initrd was given for an ELF kernel: not loaded (as QEMU).
    initrd_ignored: bool,
}

/// The boot protocol's limit on the tree's size.
const DTB_MAX: u64 = 2 << 20;

/// Loads the kernel, the initrd and the device tree where QEMU puts them:
/// - an ELF: segments at their physical addresses, entered with x0 = 0; the tree at the
///   start of RAM if it fits below the ELF (else nowhere); no initrd (QEMU ignores it);
/// - an arm64 Image (plain or gzip) or a raw image (anything else, at RAM + 512 KiB):
///   entered like Linux with x0 = the tree, which goes after the kernel's memory and
///   the initrd (see [`loader::boot_layout`]).
fn place_kernel(cfg: &BoardConfig, phys: &PhysMap) -> Result<Boot, BoardError> {
    let unzipped;
    let mut kernel: &[u8] = &cfg.kernel;
    let elf = loader::is_elf(kernel);
    if !elf && loader::is_gzip(kernel) {
        unzipped = loader::gunzip(kernel, cfg.ram_size).map_err(BoardError::Kernel)?;
        kernel = &unzipped;
    }
    let (entry, linux_end, elf_loaded) = if elf {
        let l = loader::load_elf(kernel, phys).map_err(BoardError::Kernel)?;
        (l.entry, None, Some(l))
    } else if loader::parse_image_header(kernel).is_some() {
        let l =
            loader::load_image(kernel, phys, map::RAM, cfg.ram_size).map_err(BoardError::Kernel)?;
        (l.entry, Some(l.end), None)
    } else {
        let l =
            loader::load_raw(kernel, phys, map::RAM, cfg.ram_size).map_err(BoardError::Kernel)?;
        (l.entry, Some(l.end), None)
    };
    let seeds = if cfg.dtb_randomness {
        Some(crate::fdt::random_seeds().map_err(|e| {
            BoardError::BadConfig(format!("cannot read the host's random source: {e}"))
        })?)
    } else {
        None
    };
    let initrd = cfg.initrd.as_deref().filter(|_| linux_end.is_some());
    // The tree's size decides the layout and the layout goes into the tree: build it
    // once to learn the size (the initrd properties do not change it).
    let build = |initrd_range: Option<(u64, u64)>| -> Result<Vec<u8>, BoardError> {
        let bad = |e: String| BoardError::BadConfig(format!("device tree: {e}"));
        match &cfg.dtb {
            Some(user) => {
                let mut tree =
                    crate::fdt_edit::parse(user).map_err(|e| bad(format!("-dtb: {e}")))?;
                let mut fill = |b: &mut [u8]| {
                    // A failing random source leaves the given bytes (QEMU cannot fail here).
                    let _ = crate::fdt::host_random(b);
                };
                crate::fdt_edit::patch(
                    &mut tree,
                    crate::fdt_edit::Patch {
                        ram_base: map::RAM,
                        ram_size: cfg.ram_size,
                        bootargs: cfg.append.as_deref(),
                        initrd: initrd_range,
                        random: cfg
                            .dtb_randomness
                            .then_some(&mut fill as &mut dyn FnMut(&mut [u8])),
                    },
                )
                .map_err(bad)?;
                // QEMU loads a user tree with room to grow: twice (file + 10000 bytes);
                // capped at the boot protocol's 2 MiB, which QEMU does not enforce but
                // Linux does (a re-used 1 MiB QEMU tree would grow past it).
                Ok(tree.to_blob(((user.len() + 10_000) * 2).min(DTB_MAX as usize)))
            }
            None => crate::fdt::build(&crate::fdt::FdtConfig {
                ram_size: cfg.ram_size,
                ncpus: cfg.smp,
                gic_version: cfg.gic_version,
                bootargs: cfg.append.as_deref(),
                initrd: initrd_range,
                cpu_compatible: cfg.cpu.dtb_compatible(),
                seeds,
            })
            .map_err(|e| bad(e.to_string())),
        }
    };
    let placeholder = initrd.map(|i| (map::RAM, map::RAM + i.len() as u64));
    let dtb_len = build(placeholder)?.len() as u64;
    if dtb_len > DTB_MAX {
        return Err(BoardError::BadConfig(
            "device tree larger than 2 MiB".into(),
        ));
    }
    let (dtb_addr, initrd_range) = match (linux_end, &elf_loaded) {
        (Some(image_end), _) => {
            let initrd_len = initrd.map_or(0, |i| i.len() as u64);
            let layout =
                loader::boot_layout(map::RAM, cfg.ram_size, image_end, initrd_len, dtb_len)
                    .map_err(|e| {
                        BoardError::BadConfig(format!(
                            "kernel, initrd and device tree do not fit in RAM: {e}"
                        ))
                    })?;
            let range = initrd.map(|i| (layout.initrd, layout.initrd + i.len() as u64));
            (Some(layout.dtb), range)
        }
        (None, Some(l)) => (loader::elf_dtb_addr(map::RAM, l, dtb_len), None),
        (None, None) => (None, None),
    };
    if let (Some(data), Some((at, _))) = (initrd, initrd_range) {
        phys.write_bytes(PhysAddr(at), data).map_err(|_| {
            BoardError::BadConfig(format!(
                "initrd of {} bytes does not fit in RAM",
                data.len()
            ))
        })?;
    }
    let dtb = build(initrd_range)?;
    if let Some(at) = dtb_addr {
        // The free space after the tree's blocks is zero, as the machine's fresh RAM is.
        let used = crate::fdt_edit::used_len(&dtb);
        phys.write_bytes(PhysAddr(at), &dtb[..used])
            .map_err(|e| BoardError::Memory(e.to_string()))?;
    }
    Ok(Boot {
        entry,
        x0: if linux_end.is_some() {
            dtb_addr.unwrap_or(0)
        } else {
            0
        },
        dtb,
        initrd_ignored: cfg.initrd.is_some() && initrd.is_none(),
    })
}

/// What the CPUs call into: PSCI for HVC, the timer service for generic-timer writes,
/// the scheduler for broadcast TLB maintenance.
pub struct BoardPlatform {
    psci: Arc<Psci>,
    timers: Arc<TimerService>,
    control: LateControl,
}

impl Platform for BoardPlatform {
    fn hvc(&self, cpu: &mut ArmCpu, imm: u16) -> CpuAction {
        self.psci.hvc(cpu, imm)
    }

    fn timer_changed(&self, cpu: usize, timer: Timer, regs: TimerRegs) {
        self.timers.timer_changed(cpu, timer, regs);
    }

    fn tlbi_others(&self, from: usize, word: u64) {
        // Every other vCPU does the same invalidation before the issuer runs its next TB;
        // the ones outside generated code do it before they execute again.
        self.control.with(|c| {
            let _ = c.sync_others_deferrable(from, word);
        });
    }
}

/// The scheduler's control handle for the devices: set once the CPUs exist, cleared
/// when the run ends. The scheduler reaches the devices (through the memory map), so a
/// handle left in them would keep the whole machine alive after the run (a reboot
/// would leak a machine each time).
#[derive(Default)]
struct LateControlInner(ArcSwapOption<Control<ArmCpu>>);
type LateControl = Arc<LateControlInner>;

impl LateControlInner {
    /// `f` on the handle, if set: a lock-free read (the vCPUs raise IRQs and broadcast
    /// TLBIs through it concurrently).
    fn with<R>(&self, f: impl FnOnce(&Control<ArmCpu>) -> R) -> Option<R> {
        self.0.load().as_deref().map(f)
    }

    fn set(&self, c: Control<ArmCpu>) {
        self.0.store(Some(Arc::new(c)));
    }

    fn clear(&self) {
        self.0.store(None);
    }
}

/// The GIC's outputs: each CPU's IRQ input. Raising one kicks the vCPU so it leaves
/// generated code (or its WFI) and takes the interrupt.
struct CpuIrqs {
    lines: Vec<Arc<IrqLines>>,
    control: LateControl,
}

impl IrqSink for CpuIrqs {
    fn set_irq(&self, cpu: usize, level: bool) {
        if let Some(l) = self.lines.get(cpu) {
            l.set_irq(level);
        }
        if level {
            self.control.with(|c| c.kick(cpu));
        }
    }

    fn set_fiq(&self, cpu: usize, level: bool) {
        if let Some(l) = self.lines.get(cpu) {
            l.set_fiq(level);
        }
        if level {
            self.control.with(|c| c.kick(cpu));
        }
    }
}

/// How soon a partial output line (a shell prompt) reaches the host.
const UART_FLUSH_DELAY: Duration = Duration::from_millis(5);

/// The PL011 on SPI 1, writing to standard output, flushed by an alarm after output
/// without a newline.
fn make_uart(gic: &Intc, timers: &TimerService, out: crate::pl011::Sink) -> Arc<Pl011> {
    Arc::new_cyclic(|me: &Weak<Pl011>| {
        let me = me.clone();
        let armed = Arc::new(AtomicBool::new(false));
        let armed2 = armed.clone();
        let alarm = timers.alarm(move || {
            armed2.store(false, Ordering::Release);
            if let Some(u) = me.upgrade() {
                u.flush();
            }
        });
        let gic = gic.clone();
        Pl011::new(out)
            .with_irq(Box::new(move |level| {
                gic.set_spi(fdt::UART_SPI as usize, level)
            }))
            .with_flush_hook(Box::new(move || {
                if !armed.swap(true, Ordering::AcqRel) {
                    alarm.set_in(UART_FLUSH_DELAY);
                }
            }))
    })
}

/// The PL031 on SPI 2, with an alarm for its match interrupt.
fn make_rtc(gic: &Intc, timers: &TimerService) -> Arc<Pl031> {
    Arc::new_cyclic(|me: &Weak<Pl031>| {
        let me = me.clone();
        let alarm = timers.alarm(move || {
            if let Some(r) = me.upgrade() {
                r.check_match();
            }
        });
        let gic = gic.clone();
        Pl031::new()
            .with_irq(Box::new(move |level| {
                gic.set_spi(fdt::RTC_SPI as usize, level)
            }))
            .with_alarm(alarm)
    })
}

/// Guest errors of devices, logged under `-d guest_errors`.
pub fn guest_error_logger() -> virtio_devices::Logger {
    Arc::new(|m: &str| {
        if vcpu_sched::trace::enabled(vcpu_sched::trace::Items::GUEST_ERRORS).is_some() {
            vcpu_sched::trace::guest_message(m);
        }
    })
}

/// The virtio-mmio bank: every transport mapped (an empty one reads as device ID 0),
/// transport n on SPI `fdt::VIRTIO_SPI_BASE + n`; the devices fill it from the top.
fn add_virtio(
    phys: &mut PhysMap,
    gic: &Intc,
    specs: &[virtio_devices::DeviceSpec],
) -> Result<Vec<Arc<VirtioMmio>>, softmmu::PhysMapError> {
    let mut out = Vec::new();
    for n in 0..map::VIRTIO_COUNT {
        let base = PhysAddr(map::VIRTIO + n as u64 * map::VIRTIO_SIZE);
        let name = format!("virtio-mmio@{:x}", base.0);
        let Some(spec) = specs.get(map::VIRTIO_COUNT - 1 - n) else {
            phys.add_mmio(&name, base, map::VIRTIO_SIZE, Arc::new(EmptyTransport))?;
            continue;
        };
        let gic = gic.clone();
        let spi = (fdt::VIRTIO_SPI_BASE as usize) + n;
        let irq = Arc::new(Interrupt::new(
            &format!("{} at {:#x}", spec.name(), base.0),
            Box::new(move |level| gic.set_spi(spi, level)),
            guest_error_logger(),
        ));
        let t = Arc::new(VirtioMmio::new(spec.build(), irq));
        phys.add_mmio(&name, base, map::VIRTIO_SIZE, t.clone())?;
        out.push(t);
    }
    Ok(out)
}

impl Board {
    pub fn new(cfg: BoardConfig) -> Result<Board, BoardError> {
        let max = cfg.gic_version.max_cpus();
        if cfg.smp == 0 || cfg.smp > max {
            let hint = if cfg.gic_version == GicVersion::V2 && cfg.smp > max {
                format!(
                    " with GICv2; -M virt,gic-version=3 (--gic-version 3) allows up to \
                     {MAX_CPUS_GICV3}"
                )
            } else {
                String::new()
            };
            return Err(BoardError::BadConfig(format!(
                "--smp must be between 1 and {max}{hint}"
            )));
        }
        if cfg.virtio.len() > map::VIRTIO_COUNT {
            return Err(BoardError::BadConfig(format!(
                "{} virtio devices: the board has {} virtio-mmio transports",
                cfg.virtio.len(),
                map::VIRTIO_COUNT
            )));
        }
        if cfg.ram_size < (1 << 20) || cfg.ram_size > (255 << 30) {
            return Err(BoardError::BadConfig(
                "-m must be between 1 MiB and 255 GiB".into(),
            ));
        }
        let control: LateControl = Arc::default();

        // Devices.
        let gic = match cfg.gic_version {
            GicVersion::V2 => Intc::V2(Arc::new(Gic::new(cfg.smp))),
            GicVersion::V3 => Intc::V3(Arc::new(GicV3::new(cfg.smp))),
        };
        let timers = Arc::new(TimerService::new(cfg.smp, Arc::new(gic.clone())));
        let uart = make_uart(&gic, &timers, cfg.serial.sink()?);
        let rtc = make_rtc(&gic, &timers);
        // The banked GIC registers need the accessing CPU: the scheduler knows it.
        let c = control.clone();
        let current_cpu: Arc<dyn Fn() -> usize + Send + Sync> =
            Arc::new(move || c.with(|c| c.current_cpu()).flatten().unwrap_or(0));

        // The memory map.
        let mut phys = PhysMap::new();
        let mem_err = |e: softmmu::PhysMapError| BoardError::Memory(e.to_string());
        phys.add_ram("ram", PhysAddr(map::RAM), cfg.ram_size)
            .map_err(mem_err)?;
        match &gic {
            Intc::V2(gic) => {
                let dist = GicDist {
                    gic: gic.clone(),
                    current_cpu: current_cpu.clone(),
                };
                phys.add_mmio(
                    "gic-dist",
                    PhysAddr(map::GIC_DIST),
                    map::GIC_DIST_SIZE,
                    Arc::new(dist),
                )
                .map_err(mem_err)?;
                let cpuif = GicCpu {
                    gic: gic.clone(),
                    current_cpu,
                };
                phys.add_mmio(
                    "gic-cpu",
                    PhysAddr(map::GIC_CPU),
                    map::GIC_CPU_SIZE,
                    Arc::new(cpuif),
                )
                .map_err(mem_err)?;
            }
            Intc::V3(gic) => {
                phys.add_mmio(
                    "gicv3-dist",
                    PhysAddr(map::GIC_DIST),
                    crate::gicv3::gicd::SIZE,
                    Arc::new(GicV3Dist(gic.clone())),
                )
                .map_err(mem_err)?;
                phys.add_mmio(
                    "gicv3-redist",
                    PhysAddr(map::GIC_REDIST),
                    cfg.smp as u64 * crate::gicv3::REDIST_STRIDE,
                    Arc::new(GicV3Redist(gic.clone())),
                )
                .map_err(mem_err)?;
            }
        }
        phys.add_mmio("pl011", PhysAddr(map::UART), map::UART_SIZE, uart.clone())
            .map_err(mem_err)?;
        phys.add_mmio("pl031", PhysAddr(map::RTC), map::RTC_SIZE, rtc)
            .map_err(mem_err)?;
        let virtio = add_virtio(&mut phys, &gic, &cfg.virtio).map_err(mem_err)?;
        let boot = place_kernel(&cfg, &phys)?;
        if boot.initrd_ignored {
            eprintln!("virt: warning: the initrd is not loaded for an ELF kernel (as QEMU)");
        }
        let phys = Arc::new(phys);
        for t in &virtio {
            t.attach_memory(&phys);
        }

        // CPUs, wired to PSCI, the timer service and the GIC.
        let mpidrs: Vec<u64> = (0..cfg.smp).map(|i| cfg.gic_version.mpidr(i)).collect();
        let psci = Arc::new(Psci::with_affinities(
            mpidrs.iter().map(|m| m & 0xff_00ff_ffff).collect(),
        ));
        let platform = Arc::new(BoardPlatform {
            psci: psci.clone(),
            timers: timers.clone(),
            control: control.clone(),
        });
        let mut cpus: Vec<ArmCpu> = (0..cfg.smp)
            .map(|i| {
                ArmCpu::new(
                    CpuConfig {
                        index: i,
                        log_unimp: cfg.log_unimp,
                    },
                    phys.clone(),
                    platform.clone(),
                )
            })
            .collect();
        let sink = Arc::new(CpuIrqs {
            lines: cpus.iter().map(|c| c.irq_lines()).collect(),
            control: control.clone(),
        });
        match &gic {
            Intc::V2(g) => g.connect(sink),
            Intc::V3(g) => {
                g.connect(sink);
                for (i, c) in cpus.iter_mut().enumerate() {
                    c.set_gicv3(true);
                    c.irq_lines().attach_cpu_interface(Box::new(IccPort {
                        gic: g.clone(),
                        cpu: i,
                    }));
                }
            }
        }
        for (c, &mpidr) in cpus.iter_mut().zip(&mpidrs) {
            c.set_midr(cfg.cpu.midr());
            c.set_mpidr(mpidr);
            if cfg.debugger.is_some() {
                c.set_debugged();
            }
        }
        cpus[0].reset_to(boot.entry, boot.x0);

        // The scheduler; from here on devices can kick and power vCPUs.
        let sched = Sched::new(cpus, cfg.backend, cfg.mode);
        // Stores to RAM holding translated code invalidate it (self-modifying code).
        sched.attach_phys(phys.clone());
        if let Some(d) = &cfg.debugger {
            if !sched.attach_debugger(d.clone()) {
                return Err(BoardError::BadConfig(
                    "cannot attach the debugger to the machine".into(),
                ));
            }
        }
        let ctl = sched.control();
        control.set(ctl.clone());
        psci.attach(ctl.clone());
        Ok(Board {
            sched,
            control: ctl,
            late: control,
            uart,
            timers,
            psci,
            stdin: cfg.stdin,
            dtb: boot.dtb,
            virtio,
        })
    }

    /// The flattened device tree describing this board.
    pub fn dtb(&self) -> &[u8] {
        &self.dtb
    }

    /// A handle on the vCPUs (valid before, during and after `run`).
    pub fn control(&self) -> Control<ArmCpu> {
        self.control.clone()
    }

    /// Runs until the guest powers off, resets, or stops with an error. The board's host
    /// threads (timer service, vCPUs) live only for the run; standard input is connected
    /// to this board's UART for the run.
    pub fn run(self) -> Exit {
        let Board {
            sched,
            control,
            uart,
            timers,
            psci,
            stdin,
            late,
            virtio,
            ..
        } = self;
        let timer_thread = match timers.start() {
            Ok(t) => t,
            Err(e) => {
                return Exit::Stopped(RunOutcome {
                    status: 1,
                    message: Some(format!("cannot start the timer thread: {e}")),
                })
            }
        };
        if let Some(console) = &stdin {
            let c = control.clone();
            console.connect(&uart, Box::new(move || c.shutdown(0)));
        }
        let out = sched.run();
        if let Some(console) = &stdin {
            console.disconnect();
        }
        drop(timer_thread);
        // Devices stop (their I/O threads finish the request in hand) before the
        // machine goes away.
        for t in &virtio {
            t.reset();
        }
        late.clear();
        uart.flush();
        if psci.reset_requested() && out.message.is_none() {
            Exit::Reset
        } else {
            Exit::Stopped(out)
        }
    }
}
