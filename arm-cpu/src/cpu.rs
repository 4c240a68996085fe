//! One AArch64 vCPU: owns its environment and memory context, implements `GuestCpu`.

use crate::except::{self, ec};
use crate::exits;
use crate::helpers;
use crate::irq::IrqLines;
use crate::state::CpuEnv;
use crate::sysregs::{self, slot};
use crate::timer::Timer;
use crate::translate::{self, TbFlags};
use softmmu::layout::PAGE_MASK;
use softmmu::{fault, Access, MemCtx, PhysMap};
use std::sync::Arc;
use tcg_ir::ExitCode;
use vcpu_sched::trace::Items;
use vcpu_sched::{CpuAction, DebugExit, GuestCpu, TbKey, Translation};

/// What the CPU hands to the board: hypervisor calls (PSCI).
pub trait Platform: Send + Sync {
    /// An HVC with immediate `imm` from `cpu` (PC already after the instruction).
    fn hvc(&self, cpu: &mut ArmCpu, imm: u16) -> CpuAction;

    /// The guest wrote CTL, CVAL or TVAL of `timer` on CPU `cpu`; `regs` is the new state.
    /// The board recomputes the timer's interrupt output and its next deadline.
    fn timer_changed(&self, cpu: usize, timer: crate::Timer, regs: crate::TimerRegs) {
        let _ = (cpu, timer, regs);
    }

    /// CPU `from` executed the inner-shareable TLBI `word` (see `helpers::tlbi`; done on
    /// `from` already): every other vCPU must do it ([`ArmCpu::tlbi`]) before `from`
    /// executes its next instruction (queue synced work). Without a board (single-CPU
    /// tests) there is nobody else.
    fn tlbi_others(&self, from: usize, word: u64) {
        let _ = (from, word);
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
            walker: Box::new(crate::mmu::Stage1Walker),
        });
        let mut env = Box::new(CpuEnv::new(&*mem));
        env.sysregs[slot::MPIDR] = mpidr_of(cfg.index);
        env.sysregs[slot::MIDR] = sysregs::MIDR;
        env.sysregs[slot::PFR0] = sysregs::PFR0;
        env.sysregs[slot::SCTLR] = sysregs::SCTLR_RESET;
        let lines = Arc::new(IrqLines::default());
        env.lines = Arc::as_ptr(&lines);
        ArmCpu {
            env,
            _mem: mem,
            index: cfg.index,
            platform,
            lines,
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

    /// Sets MIDR_EL1 (the CPU model the guest sees); before the CPU first runs.
    /// A debugger is attached to the machine (before the CPU first runs): its blocks keep
    /// NZCV exact at every block boundary, where the debugger may look.
    pub fn set_debugged(&mut self) {
        self.env.debugged = true;
    }

    pub fn set_midr(&mut self, midr: u64) {
        self.env.sysregs[slot::MIDR] = midr;
    }

    /// Sets MPIDR_EL1 (the board's affinity layout); before the CPU first runs.
    pub fn set_mpidr(&mut self, mpidr: u64) {
        self.env.sysregs[slot::MPIDR] = mpidr;
    }

    /// Gives the CPU the GICv3 system-register interface (ICC_*_EL1, reached through the
    /// [`crate::irq::CpuInterface`] attached to [`ArmCpu::irq_lines`]) and says so in
    /// ID_AA64PFR0_EL1.GIC; without it those registers are UNDEFINED. Before the CPU
    /// first runs.
    pub fn set_gicv3(&mut self, on: bool) {
        let pfr0 = &mut self.env.sysregs[slot::PFR0];
        *pfr0 = if on {
            sysregs::PFR0 | sysregs::PFR0_GIC
        } else {
            sysregs::PFR0
        };
    }

    pub fn midr(&self) -> u64 {
        self.env.sysregs[slot::MIDR]
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

    pub(crate) fn env_mut(&mut self) -> &mut CpuEnv {
        &mut self.env
    }

    /// The board's memory map this CPU accesses.
    pub(crate) fn phys(&self) -> &Arc<PhysMap> {
        &self._mem.phys
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
        e.set_nzcv(0);
        e.el = 1;
        e.spsel = 1;
        e.daif = 0x3c0;
        e.excl_addr = u64::MAX;
        e.sysregs[slot::SCTLR] = sysregs::SCTLR_RESET;
        e.fp = Default::default();
        e.head.flush_tlb();
        helpers::sync_asid(e);
    }

    /// Flushes this CPU's whole TLB.
    pub fn flush_tlb(&mut self) {
        self.env.head.flush_tlb();
    }

    /// Carries out TLBI `word` (see `helpers::tlbi`) on this CPU: TLB maintenance another
    /// vCPU broadcast.
    pub fn tlbi(&mut self, word: u64) {
        helpers::tlbi_env(&mut self.env, word);
    }

    /// This CPU's TLB counters.
    pub fn tlb_stats(&self) -> softmmu::TlbStats {
        *self.env.head.tlb_stats()
    }

    /// Takes a synchronous exception with syndrome `esr` to EL1, returning to `elr`.
    fn sync_exception(&mut self, esr: u64, far: Option<u64>, elr: u64) -> CpuAction {
        self.take_exception(except::Kind::Sync, Some(esr), far, elr);
        CpuAction::Continue
    }

    /// Exception entry, logged with `-d int`.
    fn take_exception(&mut self, kind: except::Kind, esr: Option<u64>, far: Option<u64>, elr: u64) {
        let from_el = self.env.el;
        except::take(&mut self.env, kind, esr, far, elr);
        if let Some(t) = vcpu_sched::trace::enabled(Items::INT) {
            let taken = crate::trace::Taken {
                cpu: self.index,
                kind,
                from_el,
                esr,
                far,
            };
            let mut s = String::new();
            crate::trace::exception_record(&mut s, &taken, &self.env);
            t.write(&s);
        }
    }

    /// The exception for the fault the softmmu recorded (data or instruction abort).
    fn take_recorded_fault(&mut self) -> CpuAction {
        let h = &self.env.head;
        // Blocks are translated at their physical address and run wherever they are
        // mapped; `env.pc` still holds the pc the block was entered at, in the faulting
        // instruction's page (a block never crosses a page).
        let pc = (self.env.pc & PAGE_MASK) | (h.fault_pc & !PAGE_MASK);
        let (kind, info, addr, access) = (h.fault, h.fault_info, h.fault_addr, h.fault_access);
        self.env.head.clear_fault();
        if kind == fault::WATCHPOINT {
            // Nothing was accessed: the instruction runs again when the debugger resumes.
            self.env.pc = pc;
            return CpuAction::Debug(DebugExit::Watchpoint {
                kind: softmmu::watch::WatchKind::from_code(info),
                addr,
            });
        }
        let fsc = match kind {
            fault::ALIGNMENT => except::fsc::ALIGNMENT,
            fault::BUS => except::fsc::SYNC_EXTERNAL,
            _ => info & 0x3f,
        };
        let lower = self.env.el == 0;
        let esr = if access == Access::Exec.code() {
            let ec = if lower {
                ec::IABORT_LOWER
            } else {
                ec::IABORT_SAME
            };
            except::esr(ec, fsc)
        } else {
            let ec = if lower {
                ec::DABORT_LOWER
            } else {
                ec::DABORT_SAME
            };
            let wnr = if access == Access::Write.code() {
                except::ISS_WNR
            } else {
                0
            };
            except::esr(ec, fsc | wnr)
        };
        if self.log_unimp && kind == fault::BUS {
            vcpu_sched::trace::guest_message(&format!(
                "cpu {}: external abort at address {addr:#x}, pc {pc:#x}",
                self.index
            ));
        }
        self.sync_exception(esr, Some(addr), pc)
    }

    fn fatal(&self, what: String) -> CpuAction {
        CpuAction::Fatal(format!("cpu {}: {what}", self.index))
    }
}

/// MPIDR_EL1 of CPU `n`: Aff0 = n, Aff1 = n / 256 (as QEMU's virt for <256 CPUs per cluster
/// is irrelevant here), bit 31 RES1.
pub fn mpidr_of(n: usize) -> u64 {
    0x8000_0000 | (n as u64 & 0xff) | (((n as u64 >> 8) & 0xff) << 8)
}

/// The CPU index whose MPIDR_EL1 is `mpidr` (the inverse of [`mpidr_of`]).
pub fn index_of_mpidr(mpidr: u64) -> usize {
    ((mpidr & 0xff) | ((mpidr >> 8) & 0xff) << 8) as usize
}

impl GuestCpu for ArmCpu {
    /// Blocks compute every pc-derived value from `env.pc` (see `translate_block`).
    const PC_RELATIVE: bool = true;

    fn env(&mut self) -> *mut u8 {
        &mut *self.env as *mut CpuEnv as *mut u8
    }

    fn tb_key(&mut self) -> Result<TbKey, CpuAction> {
        let flags = TbFlags::from_env(&self.env);
        let pc = self.env.pc;
        if pc & 3 != 0 {
            let esr = except::esr(ec::PC_ALIGN, 0);
            return Err(self.sync_exception(esr, Some(pc), pc));
        }
        let env = &mut self.env.head as *mut softmmu::EnvHead;
        // SAFETY: `env` is this CPU's own environment with a valid memory context.
        match unsafe { softmmu::slow::code_page(env, pc, flags.mmu_idx().0 as usize) } {
            Some((_, paddr_page)) => Ok(TbKey {
                pc,
                phys_pc: paddr_page | (pc & !PAGE_MASK),
                flags: flags.bits(),
            }),
            None => Err(self.take_recorded_fault()),
        }
    }

    fn peek_tb_key(&mut self) -> Option<TbKey> {
        let flags = TbFlags::from_env(&self.env);
        let pc = self.env.pc;
        if pc & 3 != 0 {
            return None;
        }
        let env = &mut self.env.head as *mut softmmu::EnvHead;
        // SAFETY: as in tb_key.
        match unsafe { softmmu::slow::code_page(env, pc, flags.mmu_idx().0 as usize) } {
            Some((_, paddr_page)) => Some(TbKey {
                pc,
                phys_pc: paddr_page | (pc & !PAGE_MASK),
                flags: flags.bits(),
            }),
            None => {
                // Not taken: the loop fetches again (and takes it) after the request.
                self.env.head.clear_fault();
                None
            }
        }
    }

    fn translate(&mut self, key: &TbKey) -> Result<Translation, CpuAction> {
        self.translate_debug(key, &[])
    }

    fn translate_debug(
        &mut self,
        key: &TbKey,
        breakpoints: &[u64],
    ) -> Result<Translation, CpuAction> {
        let flags = TbFlags::from_bits(key.flags);
        let env = &mut self.env.head as *mut softmmu::EnvHead;
        // SAFETY: as in tb_key.
        let page = unsafe { softmmu::slow::code_page(env, key.pc, flags.mmu_idx().0 as usize) };
        let Some((host, _)) = page else {
            return Err(self.take_recorded_fault());
        };
        let dbg = translate::BlockDebug {
            vpc: key.pc,
            breakpoints,
            one_insn: key.flags & TbKey::ONE_INSN != 0,
        };
        // SAFETY: `host` is the host view of the whole guest page holding `key.pc`.
        let b = unsafe { translate::translate_block_debug(host, key.phys_pc, flags, &dbg) };
        Ok(Translation {
            func: b.func,
            size: b.size,
            before: b.before,
            insns: b.insns,
        })
    }

    fn retranslate(phys: &PhysMap, key: &TbKey) -> Option<tcg_ir::Func> {
        if key.flags & TbKey::ONE_INSN != 0 {
            // A debugger's block (the execution loop keeps their IR with the back end).
            return None;
        }
        let page = key.phys_pc & PAGE_MASK;
        let host = phys.ram_ptr(softmmu::PhysAddr(page), softmmu::layout::PAGE_SIZE)?;
        // SAFETY: `host` is the host view of the whole RAM page holding the TB's code (RAM
        // is never unmapped while the machine lives).
        // At the physical pc, as `translate` does: the pcs in the IR (a JIT TB's chain
        // cell keeps the first; chaining compares its page) are the same for both.
        let (func, _, _) =
            unsafe { translate::translate_block(host, key.phys_pc, TbFlags::from_bits(key.flags)) };
        Some(func)
    }

    fn handle_exit(&mut self, code: u64) -> CpuAction {
        let info = self.env.exit_info;
        let pc = self.env.pc;
        match code {
            ExitCode::FAULT => self.take_recorded_fault(),
            exits::UNDEF => {
                if self.log_unimp {
                    vcpu_sched::trace::guest_message(&format!(
                        "cpu {}: UNDEF {info:#010x} ({}) at pc {pc:#x}",
                        self.index,
                        arm_decode::decode(info as u32)
                    ));
                }
                self.sync_exception(except::esr(ec::UNKNOWN, 0), None, pc)
            }
            exits::TRAP => self.sync_exception(info, None, pc),
            exits::SVC => self.sync_exception(except::esr(ec::SVC64, info & 0xffff), None, pc),
            exits::BRK => self.sync_exception(except::esr(ec::BRK64, info & 0xffff), None, pc),
            exits::HVC => {
                let platform = self.platform.clone();
                platform.hvc(self, info as u16)
            }
            exits::TIMER => {
                let t = if info == 0 { Timer::Virt } else { Timer::Phys };
                let regs = helpers::timer_regs(&self.env, t);
                self.platform.timer_changed(self.index, t, regs);
                CpuAction::Continue
            }
            exits::TLBI_BROADCAST => {
                self.platform.tlbi_others(self.index, info);
                CpuAction::Continue
            }
            exits::DEBUG => CpuAction::Debug(DebugExit::Breakpoint { pc }),
            exits::WFI => CpuAction::WaitForInterrupt,
            exits::WFE => CpuAction::WaitForEvent,
            exits::SEV => CpuAction::SendEvent,
            other => self.fatal(format!("unknown exit code {other} at pc {pc:#x}")),
        }
    }

    fn has_interrupt(&self) -> bool {
        self.lines.irq() || self.lines.fiq()
    }

    /// A broadcast TLBI (operand word, see `helpers::tlbi`) from another vCPU.
    fn apply_deferred(&mut self, word: u64) {
        self.tlbi(word);
    }

    fn service_interrupts(&mut self) {
        if let Some(kind) = self.lines.deliverable(self.env.daif) {
            let pc = self.env.pc;
            self.take_exception(kind, None, None, pc);
        }
    }

    fn disas(&self, key: &TbKey, size: u32, out: &mut String) {
        // The block's code never crosses its page, and translation just read it from RAM.
        let Some(host) = self
            ._mem
            .phys
            .ram_ptr(softmmu::PhysAddr(key.phys_pc), size.into())
        else {
            return;
        };
        let mut code = vec![0u8; size as usize];
        // SAFETY: `ram_ptr` returned a host view of `size` bytes of guest RAM, which lives
        // as long as the machine; copied out as the translator reads it (a racing guest
        // store only changes the words logged).
        unsafe { std::ptr::copy_nonoverlapping(host, code.as_mut_ptr(), code.len()) };
        crate::trace::disas_block(out, key.pc, &code);
    }

    fn dump_state(&self, out: &mut String) {
        crate::trace::dump_state(out, &self.env);
    }
}
