//! Building the board (memory map, devices, CPUs) and running it.

use crate::fdt;
use crate::gic::{Gic, GicCpu, GicDist, IrqSink};
use crate::loader::{self, LoadError};
use crate::pl011::Pl011;
use crate::pl031::Pl031;
use crate::psci::Psci;
use crate::stdin::Console;
use crate::timer::TimerService;
use arm_cpu::{ArmCpu, CpuConfig, IrqLines, Platform, Timer, TimerRegs};
use softmmu::{PhysAddr, PhysMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;
use tcg_ir::Backend;
use vcpu_sched::{Control, CpuAction, RunOutcome, Sched, SchedMode};

/// The memory map of QEMU's virt board (the part we implement).
pub mod map {
    pub const GIC_DIST: u64 = 0x0800_0000;
    pub const GIC_DIST_SIZE: u64 = crate::gic::gicd::SIZE;
    pub const GIC_CPU: u64 = 0x0801_0000;
    pub const GIC_CPU_SIZE: u64 = crate::gic::gicc::SIZE;
    pub const UART: u64 = 0x0900_0000;
    pub const UART_SIZE: u64 = 0x1000;
    pub const RTC: u64 = 0x0901_0000;
    pub const RTC_SIZE: u64 = 0x1000;
    pub const RAM: u64 = 0x4000_0000;
}

pub const MAX_CPUS: usize = 8;

pub struct BoardConfig {
    pub kernel: Vec<u8>,
    pub initrd: Option<Vec<u8>>,
    pub append: Option<String>,
    pub ram_size: u64,
    pub smp: usize,
    pub mode: SchedMode,
    pub backend: Arc<dyn Backend>,
    pub log_unimp: bool,
    /// Feed the host's standard input to the UART during `run` (see [`crate::stdin`]).
    pub stdin: bool,
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
    uart: Arc<Pl011>,
    timers: Arc<TimerService>,
    stdin: bool,
    dtb: Vec<u8>,
}

/// How CPU 0 starts.
struct Boot {
    entry: u64,
    x0: u64,
    dtb: Vec<u8>,
}

/// The device tree's place: the start of RAM (kernels are loaded 2 MiB above it).
const DTB_ADDR: u64 = map::RAM;
const DTB_MAX: usize = 2 << 20;

/// Loads the kernel (ELF, or arm64 Image per the Linux boot protocol), the initrd and the
/// device tree.
fn place_kernel(cfg: &BoardConfig, phys: &PhysMap) -> Result<Boot, BoardError> {
    let unzipped;
    let mut kernel: &[u8] = &cfg.kernel;
    if loader::is_gzip(kernel) {
        unzipped = loader::gunzip(kernel, cfg.ram_size).map_err(BoardError::Kernel)?;
        kernel = &unzipped;
    }
    let (entry, end, linux) = if loader::is_elf(kernel) {
        let l = loader::load_elf(kernel, phys).map_err(BoardError::Kernel)?;
        (l.entry, l.end, false)
    } else {
        let l =
            loader::load_image(kernel, phys, map::RAM, cfg.ram_size).map_err(BoardError::Kernel)?;
        (l.entry, l.end, true)
    };
    let mut initrd_range = None;
    if let Some(initrd) = &cfg.initrd {
        let at = end.next_multiple_of(2 << 20);
        phys.write_bytes(PhysAddr(at), initrd).map_err(|_| {
            BoardError::BadConfig(format!(
                "initrd of {} bytes does not fit in RAM",
                initrd.len()
            ))
        })?;
        initrd_range = Some((at, at + initrd.len() as u64));
    }
    let dtb = crate::fdt::build(&crate::fdt::FdtConfig {
        ram_size: cfg.ram_size,
        ncpus: cfg.smp,
        bootargs: cfg.append.as_deref(),
        initrd: initrd_range,
    })
    .map_err(|e| BoardError::BadConfig(format!("device tree: {e}")))?;
    if dtb.len() > DTB_MAX {
        return Err(BoardError::BadConfig(
            "device tree larger than 2 MiB".into(),
        ));
    }
    // ELF images at the start of RAM own it; only Linux gets the tree in RAM and in x0.
    if linux {
        phys.write_bytes(PhysAddr(DTB_ADDR), &dtb)
            .map_err(|e| BoardError::Memory(e.to_string()))?;
    }
    Ok(Boot {
        entry,
        x0: if linux { DTB_ADDR } else { 0 },
        dtb,
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
        if let Some(c) = self.control.get() {
            let _ = c.sync_others_deferrable(from, word);
        }
    }
}

/// The scheduler's control handle, which exists only once the CPUs do.
type LateControl = Arc<OnceLock<Control<ArmCpu>>>;

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
            if let Some(c) = self.control.get() {
                c.kick(cpu);
            }
        }
    }
}

/// How soon a partial output line (a shell prompt) reaches the host.
const UART_FLUSH_DELAY: Duration = Duration::from_millis(5);

/// The PL011 on SPI 1, writing to standard output, flushed by an alarm after output
/// without a newline.
fn make_uart(gic: &Arc<Gic>, timers: &TimerService) -> Arc<Pl011> {
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
        Pl011::new(Box::new(std::io::stdout()))
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
fn make_rtc(gic: &Arc<Gic>, timers: &TimerService) -> Arc<Pl031> {
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

impl Board {
    pub fn new(cfg: BoardConfig) -> Result<Board, BoardError> {
        if cfg.smp == 0 || cfg.smp > MAX_CPUS {
            return Err(BoardError::BadConfig(format!(
                "--smp must be between 1 and {MAX_CPUS}"
            )));
        }
        if cfg.ram_size < (1 << 20) || cfg.ram_size > (255 << 30) {
            return Err(BoardError::BadConfig(
                "-m must be between 1 MiB and 255 GiB".into(),
            ));
        }
        let control: LateControl = Arc::new(OnceLock::new());

        // Devices.
        let gic = Arc::new(Gic::new(cfg.smp));
        let timers = Arc::new(TimerService::new(cfg.smp, gic.clone()));
        let uart = make_uart(&gic, &timers);
        let rtc = make_rtc(&gic, &timers);
        // The banked GIC registers need the accessing CPU: the scheduler knows it.
        let c = control.clone();
        let current_cpu: Arc<dyn Fn() -> usize + Send + Sync> =
            Arc::new(move || c.get().and_then(|c| c.current_cpu()).unwrap_or(0));

        // The memory map.
        let mut phys = PhysMap::new();
        let mem_err = |e: softmmu::PhysMapError| BoardError::Memory(e.to_string());
        phys.add_ram("ram", PhysAddr(map::RAM), cfg.ram_size)
            .map_err(mem_err)?;
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
        phys.add_mmio("pl011", PhysAddr(map::UART), map::UART_SIZE, uart.clone())
            .map_err(mem_err)?;
        phys.add_mmio("pl031", PhysAddr(map::RTC), map::RTC_SIZE, rtc)
            .map_err(mem_err)?;
        let boot = place_kernel(&cfg, &phys)?;
        let phys = Arc::new(phys);

        // CPUs, wired to PSCI, the timer service and the GIC.
        let psci = Arc::new(Psci::new(cfg.smp));
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
        gic.connect(Arc::new(CpuIrqs {
            lines: cpus.iter().map(|c| c.irq_lines()).collect(),
            control: control.clone(),
        }));
        cpus[0].reset_to(boot.entry, boot.x0);

        // The scheduler; from here on devices can kick and power vCPUs.
        let sched = Sched::new(cpus, cfg.backend, cfg.mode);
        // Stores to RAM holding translated code invalidate it (self-modifying code).
        sched.attach_phys(phys.clone());
        let ctl = sched.control();
        let _ = control.set(ctl.clone());
        psci.attach(ctl.clone());
        Ok(Board {
            sched,
            control: ctl,
            uart,
            timers,
            stdin: cfg.stdin,
            dtb: boot.dtb,
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

    /// Runs until the guest powers off or stops with an error. The board's host threads
    /// (timer service, standard-input reader) live only for the run.
    pub fn run(self) -> RunOutcome {
        let Board {
            sched,
            control,
            uart,
            timers,
            stdin,
            ..
        } = self;
        let timer_thread = match timers.start() {
            Ok(t) => t,
            Err(e) => {
                return RunOutcome {
                    status: 1,
                    message: Some(format!("cannot start the timer thread: {e}")),
                }
            }
        };
        let console = if stdin {
            let c = control.clone();
            Console::attach(&uart, Box::new(move || c.shutdown(0)))
        } else {
            None
        };
        let out = sched.run();
        drop(console);
        drop(timer_thread);
        uart.flush();
        out
    }
}
