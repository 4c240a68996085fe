//! Building the board (memory map, devices, CPUs) and running it.

use crate::loader::{self, LoadError};
use crate::pl011::Pl011;
use crate::psci::Psci;
use arm_cpu::{ArmCpu, CpuConfig};
use softmmu::{PhysAddr, PhysMap};
use std::fmt;
use std::sync::Arc;
use tcg_ir::Backend;
use vcpu_sched::{RunOutcome, Sched, SchedMode};

/// The memory map of QEMU's virt board (the part we implement).
pub mod map {
    pub const GIC_DIST: u64 = 0x0800_0000;
    pub const GIC_CPU: u64 = 0x0801_0000;
    pub const UART: u64 = 0x0900_0000;
    pub const UART_SIZE: u64 = 0x1000;
    pub const RTC: u64 = 0x0901_0000;
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
    uart: Arc<Pl011>,
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
        let mut phys = PhysMap::new();
        let mem_err = |e: softmmu::PhysMapError| BoardError::Memory(e.to_string());
        phys.add_ram("ram", PhysAddr(map::RAM), cfg.ram_size)
            .map_err(mem_err)?;
        let uart = Arc::new(Pl011::new(Box::new(std::io::stdout())));
        phys.add_mmio("pl011", PhysAddr(map::UART), map::UART_SIZE, uart.clone())
            .map_err(mem_err)?;
        let boot = place_kernel(&cfg, &phys)?;
        let phys = Arc::new(phys);
        let psci = Arc::new(Psci::new(cfg.smp));
        let mut cpus: Vec<ArmCpu> = (0..cfg.smp)
            .map(|i| {
                ArmCpu::new(
                    CpuConfig {
                        index: i,
                        log_unimp: cfg.log_unimp,
                    },
                    phys.clone(),
                    psci.clone(),
                )
            })
            .collect();
        cpus[0].reset_to(boot.entry, boot.x0);
        let sched = Sched::new(cpus, cfg.backend, cfg.mode);
        psci.attach(sched.control());
        Ok(Board {
            sched,
            uart,
            dtb: boot.dtb,
        })
    }

    /// The flattened device tree describing this board.
    pub fn dtb(&self) -> &[u8] {
        &self.dtb
    }

    /// Runs until the guest powers off or stops with an error.
    pub fn run(self) -> RunOutcome {
        let out = self.sched.run();
        self.uart.flush();
        out
    }
}
