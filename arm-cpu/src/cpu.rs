//! One AArch64 vCPU: owns its environment and memory context, implements `GuestCpu`.

use crate::exits;
use crate::irq::IrqLines;
use crate::state::CpuEnv;
use crate::sysregs::{self, slot};
use crate::translate::{self, TbFlags};
use softmmu::layout::PAGE_MASK;
use softmmu::{fault, MemCtx, PhysMap};
use std::sync::Arc;
use tcg_ir::ExitCode;
use vcpu_sched::{CpuAction, GuestCpu, TbKey, Translation};

/// What the CPU hands to the board: hypervisor calls (PSCI).
pub trait Platform: Send + Sync {
    /// An HVC with immediate `imm` from `cpu` (PC already after the instruction).
    fn hvc(&self, cpu: &mut ArmCpu, imm: u16) -> CpuAction;

    /// The guest wrote CTL, CVAL or TVAL of `timer` on CPU `cpu`; `regs` is the new state.
    /// The board recomputes the timer's interrupt output and its next deadline.
    fn timer_changed(&self, cpu: usize, timer: crate::Timer, regs: crate::TimerRegs) {
        let _ = (cpu, timer, regs);
    }
}

pub struct CpuConfig {
    pub index: usize,
    /// Log unimplemented instructions and system registers as they are met.
    pub log_unimp: bool,
}

pub struct ArmCpu {
    // `env.head.ctx` points into `mem`: both boxed so their addresses never move.
    env: Box<CpuEnv>,
    _mem: Box<MemCtx>,
    index: usize,
    platform: Arc<dyn Platform>,
    lines: Arc<IrqLines>,
    log_unimp: bool,
}

// SAFETY: the raw pointer inside `env` refers to `_mem`, owned by the same struct; the
// CPU is used by one thread at a time (the scheduler's contract).
unsafe impl Send for ArmCpu {}

impl ArmCpu {
    pub fn new(cfg: CpuConfig, phys: Arc<PhysMap>, platform: Arc<dyn Platform>) -> ArmCpu {
        let mem = Box::new(MemCtx {
            phys,
            walker: Box::new(softmmu::tlb::IdentityWalker),
        });
        let mut env = Box::new(CpuEnv::new(&*mem));
        env.sysregs[slot::MPIDR] = mpidr_of(cfg.index);
        env.sysregs[slot::SCTLR] = sysregs::SCTLR_RESET;
        ArmCpu {
            env,
            _mem: mem,
            index: cfg.index,
            platform,
            lines: Arc::new(IrqLines::default()),
            log_unimp: cfg.log_unimp,
        }
    }

    pub fn index(&self) -> usize {
        self.index
    }

    /// The IRQ/FIQ inputs the interrupt controller drives (set them, then kick the vCPU).
    pub fn irq_lines(&self) -> Arc<IrqLines> {
        self.lines.clone()
    }

    pub fn mpidr(&self) -> u64 {
        self.env.sysregs[slot::MPIDR]
    }

    /// X register `n` (0..=30); 31 reads as zero.
    pub fn reg(&self, n: usize) -> u64 {
        self.env.x.get(n).copied().unwrap_or(0)
    }

    pub fn set_reg(&mut self, n: usize, v: u64) {
        if let Some(r) = self.env.x.get_mut(n) {
            *r = v;
        }
    }

    pub fn pc(&self) -> u64 {
        self.env.pc
    }

    pub fn env_ref(&self) -> &CpuEnv {
        &self.env
    }

    /// Architectural reset into EL1h at `entry` with the MMU off, interrupts masked and
    /// `x0 = arg` (how the boot loader and PSCI CPU_ON start a CPU).
    pub fn reset_to(&mut self, entry: u64, arg: u64) {
        let e = &mut *self.env;
        e.x = [0; 31];
        e.x[0] = arg;
        e.sp = 0;
        e.sp_el = [0; 2];
        e.pc = entry;
        e.nf = 0;
        e.zf = 1;
        e.cf = 0;
        e.vf = 0;
        e.el = 1;
        e.spsel = 1;
        e.daif = 0x3c0;
        e.excl_addr = u64::MAX;
        e.sysregs[slot::SCTLR] = sysregs::SCTLR_RESET;
        e.head.flush_tlb();
    }

    fn fatal(&self, what: String) -> CpuAction {
        CpuAction::Fatal(format!("cpu {}: {what}", self.index))
    }

    fn fault_message(&self) -> String {
        let h = &self.env.head;
        let kind = match (h.fault, h.fault_access) {
            (fault::ALIGNMENT, _) => "alignment fault",
            (fault::BUS, 2) => "external abort (code must be in RAM)",
            (fault::BUS, _) => "external abort (nothing mapped at that physical address)",
            _ => "translation fault",
        };
        let access = match h.fault_access {
            0 => "read",
            1 => "write",
            _ => "instruction fetch",
        };
        format!(
            "guest {kind} on {access} of address {:#x} at pc {:#x} (exceptions are not implemented yet)",
            h.fault_addr, h.fault_pc
        )
    }
}

/// MPIDR_EL1 of CPU `n`: Aff0 = n, Aff1 = n / 256 (as QEMU's virt for <256 CPUs per cluster
/// is irrelevant here), bit 31 RES1.
pub fn mpidr_of(n: usize) -> u64 {
    0x8000_0000 | (n as u64 & 0xff) | (((n as u64 >> 8) & 0xff) << 8)
}

impl GuestCpu for ArmCpu {
    fn env(&mut self) -> *mut u8 {
        &mut *self.env as *mut CpuEnv as *mut u8
    }

    fn tb_key(&mut self) -> Result<TbKey, CpuAction> {
        let flags = TbFlags::from_env(&self.env);
        let pc = self.env.pc;
        if pc & 3 != 0 {
            return Err(self.fatal(format!(
                "PC alignment fault at pc {pc:#x} (exceptions are not implemented yet)"
            )));
        }
        let env = &mut self.env.head as *mut softmmu::EnvHead;
        // SAFETY: `env` is this CPU's own environment with a valid memory context.
        match unsafe { softmmu::slow::code_page(env, pc, flags.mmu_idx().0 as usize) } {
            Some((_, paddr_page)) => Ok(TbKey {
                pc,
                phys_pc: paddr_page | (pc & !PAGE_MASK),
                flags: flags.bits(),
            }),
            None => {
                let msg = self.fault_message();
                self.env.head.clear_fault();
                Err(self.fatal(msg))
            }
        }
    }

    fn translate(&mut self, key: &TbKey) -> Result<Translation, CpuAction> {
        let flags = TbFlags {
            el: key.flags as u8,
        };
        let env = &mut self.env.head as *mut softmmu::EnvHead;
        // SAFETY: as in tb_key.
        let page = unsafe { softmmu::slow::code_page(env, key.pc, flags.mmu_idx().0 as usize) };
        let Some((host, _)) = page else {
            let msg = self.fault_message();
            self.env.head.clear_fault();
            return Err(self.fatal(msg));
        };
        // SAFETY: `host` is the host view of the whole guest page holding `key.pc`.
        let (func, size, insns) = unsafe { translate::translate_block(host, key.pc, flags) };
        Ok(Translation { func, size, insns })
    }

    fn handle_exit(&mut self, code: u64) -> CpuAction {
        let info = self.env.exit_info;
        let pc = self.env.pc;
        match code {
            ExitCode::FAULT => {
                let msg = self.fault_message();
                self.env.head.clear_fault();
                self.fatal(msg)
            }
            exits::UNDEF => {
                if self.log_unimp {
                    eprintln!("cpu {}: unallocated or unimplemented instruction {info:#010x} at pc {pc:#x}", self.index);
                }
                self.fatal(format!(
                    "unallocated or unimplemented instruction {info:#010x} ({}) at pc {pc:#x}",
                    arm_decode::decode(info as u32)
                ))
            }
            exits::EXCEPTION_INSN => self.fatal(format!(
                "exception-generating instruction {info:#010x} ({}) at pc {pc:#x}: exceptions are not implemented yet",
                arm_decode::decode(info as u32)
            )),
            exits::HVC => {
                let platform = self.platform.clone();
                platform.hvc(self, info as u16)
            }
            exits::WFI => CpuAction::WaitForInterrupt,
            exits::WFE => CpuAction::WaitForEvent,
            exits::SEV => CpuAction::SendEvent,
            other => self.fatal(format!("unknown exit code {other} at pc {pc:#x}")),
        }
    }
}
