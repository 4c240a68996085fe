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
        if !loader::is_elf(&cfg.kernel) {
            return Err(BoardError::Kernel(LoadError::NotElf));
        }
        let loaded = loader::load_elf(&cfg.kernel, &phys).map_err(BoardError::Kernel)?;
        if let Some(initrd) = &cfg.initrd {
            // Placed at the first 2 MiB boundary after the image; described to the guest
            // by the device tree once it exists.
            let at = (loaded.end + (2 << 20) - 1) & !((2 << 20) - 1);
            phys.write_bytes(PhysAddr(at), initrd).map_err(|_| {
                BoardError::BadConfig(format!(
                    "initrd of {} bytes does not fit in RAM",
                    initrd.len()
                ))
            })?;
        }
        let _ = &cfg.append;
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
        cpus[0].reset_to(loaded.entry, 0);
        let sched = Sched::new(cpus, cfg.backend, cfg.mode);
        psci.attach(sched.control());
        Ok(Board { sched, uart })
    }

    /// Runs until the guest powers off or stops with an error.
    pub fn run(self) -> RunOutcome {
        let out = self.sched.run();
        self.uart.flush();
        out
    }
}
