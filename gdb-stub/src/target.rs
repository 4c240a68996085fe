//! The machine as a `gdbstub` target: one GDB thread per vCPU (thread id = vCPU + 1),
//! registers and memory read and written on the stopped vCPU's own thread (queued work),
//! resume actions, breakpoints and watchpoints through the execution loop's
//! [`Debugger`].

use crate::arch::{Aarch64, CoreRegs, Reg};
use crate::{Error, MachineSlot};
use arm_cpu::ArmCpu;
use gdbstub::common::{Signal, Tid};
use gdbstub::target::ext::base::multithread::{
    MultiThreadBase, MultiThreadResume, MultiThreadResumeOps, MultiThreadSchedulerLocking,
    MultiThreadSchedulerLockingOps, MultiThreadSingleStep, MultiThreadSingleStepOps,
};
use gdbstub::target::ext::base::single_register_access::{
    SingleRegisterAccess, SingleRegisterAccessOps,
};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps,
    SwBreakpoint, SwBreakpointOps, WatchKind,
};
use gdbstub::target::ext::thread_extra_info::{ThreadExtraInfo, ThreadExtraInfoOps};
use gdbstub::target::{Target, TargetError, TargetResult};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use vcpu_sched::{BreakKind, Debugger, PowerState, Resume};

/// How long a request waits for a machine (across a guest reboot).
const MACHINE_WAIT: Duration = Duration::from_secs(5);

pub(crate) struct VirtTarget {
    pub(crate) dbg: Arc<Debugger>,
    pub(crate) slot: Arc<MachineSlot>,
    /// The resume actions GDB gave for the next resume, per vCPU.
    actions: Vec<Option<Resume>>,
    /// GDB's scheduler locking: vCPUs without an action stay stopped.
    sched_lock: bool,
}

fn cpu_of(tid: Tid) -> usize {
    tid.get() - 1
}

fn tid_of(cpu: usize) -> Option<Tid> {
    Tid::new(cpu + 1)
}

fn watch_kind(k: WatchKind) -> softmmu::watch::WatchKind {
    match k {
        WatchKind::Write => softmmu::watch::WatchKind::Write,
        WatchKind::Read => softmmu::watch::WatchKind::Read,
        WatchKind::ReadWrite => softmmu::watch::WatchKind::Access,
    }
}

impl VirtTarget {
    pub(crate) fn new(dbg: Arc<Debugger>, slot: Arc<MachineSlot>) -> VirtTarget {
        let n = dbg.num_cpus();
        VirtTarget {
            dbg,
            slot,
            actions: vec![None; n],
            sched_lock: false,
        }
    }

    fn check_tid(&self, tid: Tid) -> Result<usize, TargetError<Error>> {
        let cpu = cpu_of(tid);
        if cpu < self.dbg.num_cpus() {
            Ok(cpu)
        } else {
            Err(TargetError::NonFatal)
        }
    }

    /// Runs `f` on vCPU `cpu`'s own thread (the machine is stopped: vCPUs still run
    /// queued work) and returns its result.
    fn on_cpu<R: Send + 'static>(
        &self,
        cpu: usize,
        f: impl FnOnce(&mut ArmCpu) -> R + Send + 'static,
    ) -> Result<R, Error> {
        let ctl = self.slot.get(MACHINE_WAIT).ok_or(Error::NoMachine)?;
        let (tx, rx) = mpsc::channel();
        ctl.run_on_sync(cpu, move |c| {
            let _ = tx.send(f(c));
        })
        .map_err(Error::Sched)?;
        // Work dropped unrun (the machine shut down) drops the sender.
        rx.recv().map_err(|_| Error::NoMachine)
    }

    /// After a breakpoint at `addr` was inserted or removed: drops the TBs holding it.
    /// Translations are by physical address: every vCPU's current mapping of `addr` is
    /// invalidated; with none mapping it, every TB (the debugger is slow anyway).
    pub(crate) fn invalidate_breakpoint(&self, addr: u64) -> Result<(), Error> {
        let Some(ctl) = self.slot.get(Duration::ZERO) else {
            return Ok(()); // no machine: no TB
        };
        let mut pas = Vec::new();
        for cpu in 0..ctl.num_cpus() {
            if let Some(pa) = self.on_cpu(cpu, move |c| c.debug_translate(addr))? {
                if !pas.contains(&pa) {
                    pas.push(pa);
                }
            }
        }
        if pas.is_empty() {
            ctl.flush_tbs();
        }
        for pa in pas {
            ctl.invalidate_phys_range(pa, 4);
        }
        Ok(())
    }

    /// After the watchpoints changed: every vCPU refills its TLB (entries of watched
    /// pages get their flag bit).
    pub(crate) fn flush_tlbs(&self) -> Result<(), Error> {
        let Some(ctl) = self.slot.get(Duration::ZERO) else {
            return Ok(());
        };
        ctl.run_on_all_sync(|c| c.flush_tlb()).map_err(Error::Sched)
    }

    fn add_breakpoint(&mut self, addr: u64, kind: BreakKind) -> TargetResult<bool, Self> {
        if self.dbg.insert_breakpoint(addr, kind) {
            self.invalidate_breakpoint(addr)
                .map_err(TargetError::Fatal)?;
        }
        Ok(true)
    }

    fn remove_breakpoint(&mut self, addr: u64, kind: BreakKind) -> TargetResult<bool, Self> {
        match self.dbg.remove_breakpoint(addr, kind) {
            None => Ok(false),
            Some(gone) => {
                if gone {
                    self.invalidate_breakpoint(addr)
                        .map_err(TargetError::Fatal)?;
                }
                Ok(true)
            }
        }
    }

    /// Removes every breakpoint and watchpoint (GDB detached or went away) and drops
    /// what they left in TBs and TLBs.
    pub(crate) fn clear_all(&self) -> Result<(), Error> {
        for addr in self.dbg.clear_breakpoints() {
            self.invalidate_breakpoint(addr)?;
        }
        if !self.dbg.watchpoints().list().is_empty() {
            self.dbg.watchpoints().clear();
            self.flush_tlbs()?;
        }
        Ok(())
    }
}

impl Target for VirtTarget {
    type Arch = Aarch64;
    type Error = Error;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::MultiThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    // Breakpoints never touch guest memory.
    fn guard_rail_implicit_sw_breakpoints(&self) -> bool {
        true
    }
}

impl MultiThreadBase for VirtTarget {
    fn read_registers(&mut self, regs: &mut CoreRegs, tid: Tid) -> TargetResult<(), Self> {
        let cpu = self.check_tid(tid)?;
        regs.0 = self
            .on_cpu(cpu, |c| c.debug_regs())
            .map_err(TargetError::Fatal)?;
        Ok(())
    }

    fn write_registers(&mut self, regs: &CoreRegs, tid: Tid) -> TargetResult<(), Self> {
        let cpu = self.check_tid(tid)?;
        let r = regs.0.clone();
        self.on_cpu(cpu, move |c| c.set_debug_regs(&r))
            .map_err(TargetError::Fatal)
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, Tid, Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8], tid: Tid) -> TargetResult<usize, Self> {
        let cpu = self.check_tid(tid)?;
        let len = data.len();
        let bytes = self
            .on_cpu(cpu, move |c| {
                let mut buf = vec![0u8; len];
                let n = c.debug_read(start, &mut buf);
                buf.truncate(n);
                buf
            })
            .map_err(TargetError::Fatal)?;
        if bytes.is_empty() && len > 0 {
            return Err(TargetError::NonFatal);
        }
        data[..bytes.len()].copy_from_slice(&bytes);
        Ok(bytes.len())
    }

    fn write_addrs(&mut self, start: u64, data: &[u8], tid: Tid) -> TargetResult<(), Self> {
        let cpu = self.check_tid(tid)?;
        let d = data.to_vec();
        let n = self
            .on_cpu(cpu, move |c| c.debug_write(start, &d))
            .map_err(TargetError::Fatal)?;
        if n < data.len() {
            return Err(TargetError::NonFatal);
        }
        Ok(())
    }

    fn list_active_threads(
        &mut self,
        thread_is_active: &mut dyn FnMut(Tid),
    ) -> Result<(), Self::Error> {
        for cpu in 0..self.dbg.num_cpus() {
            if let Some(t) = tid_of(cpu) {
                thread_is_active(t);
            }
        }
        Ok(())
    }

    fn support_resume(&mut self) -> Option<MultiThreadResumeOps<'_, Self>> {
        Some(self)
    }

    fn support_thread_extra_info(&mut self) -> Option<ThreadExtraInfoOps<'_, Self>> {
        Some(self)
    }
}

impl SingleRegisterAccess<Tid> for VirtTarget {
    fn read_register(&mut self, tid: Tid, reg: Reg, buf: &mut [u8]) -> TargetResult<usize, Self> {
        let cpu = self.check_tid(tid)?;
        let r = self
            .on_cpu(cpu, |c| c.debug_regs())
            .map_err(TargetError::Fatal)?;
        Ok(reg.read(&r, buf))
    }

    fn write_register(&mut self, tid: Tid, reg: Reg, val: &[u8]) -> TargetResult<(), Self> {
        let cpu = self.check_tid(tid)?;
        let val = val.to_vec();
        let ok = self
            .on_cpu(cpu, move |c| {
                let mut r = c.debug_regs();
                let ok = reg.write(&mut r, &val);
                if ok {
                    c.set_debug_regs(&r);
                }
                ok
            })
            .map_err(TargetError::Fatal)?;
        if ok {
            Ok(())
        } else {
            Err(TargetError::NonFatal)
        }
    }
}

impl MultiThreadResume for VirtTarget {
    fn resume(&mut self) -> Result<(), Self::Error> {
        let default = if self.sched_lock {
            Resume::Stop
        } else {
            Resume::Continue
        };
        let modes: Vec<Resume> = self.actions.iter().map(|a| a.unwrap_or(default)).collect();
        self.dbg.resume(&modes);
        Ok(())
    }

    fn clear_resume_actions(&mut self) -> Result<(), Self::Error> {
        self.actions.iter_mut().for_each(|a| *a = None);
        self.sched_lock = false;
        Ok(())
    }

    // Signals mean nothing to a bare machine: ignored.
    fn set_resume_action_continue(
        &mut self,
        tid: Tid,
        _signal: Option<Signal>,
    ) -> Result<(), Self::Error> {
        if let Some(a) = self.actions.get_mut(cpu_of(tid)) {
            *a = Some(Resume::Continue);
        }
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<MultiThreadSingleStepOps<'_, Self>> {
        Some(self)
    }

    fn support_scheduler_locking(&mut self) -> Option<MultiThreadSchedulerLockingOps<'_, Self>> {
        Some(self)
    }
}

impl MultiThreadSingleStep for VirtTarget {
    fn set_resume_action_step(
        &mut self,
        tid: Tid,
        _signal: Option<Signal>,
    ) -> Result<(), Self::Error> {
        if let Some(a) = self.actions.get_mut(cpu_of(tid)) {
            *a = Some(Resume::Step);
        }
        Ok(())
    }
}

impl MultiThreadSchedulerLocking for VirtTarget {
    fn set_resume_action_scheduler_lock(&mut self) -> Result<(), Self::Error> {
        self.sched_lock = true;
        Ok(())
    }
}

impl ThreadExtraInfo for VirtTarget {
    fn thread_extra_info(&self, tid: Tid, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let cpu = cpu_of(tid);
        let state = match self.slot.get(Duration::ZERO) {
            Some(c) => match c.power_state(cpu) {
                PowerState::On => "",
                PowerState::Off | PowerState::Pending => " [powered off]",
            },
            None => "",
        };
        let text = format!("CPU#{cpu}{state}");
        let n = text.len().min(buf.len());
        buf[..n].copy_from_slice(&text.as_bytes()[..n]);
        Ok(n)
    }
}

impl Breakpoints for VirtTarget {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for VirtTarget {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.add_breakpoint(addr, BreakKind::Software)
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.remove_breakpoint(addr, BreakKind::Software)
    }
}

impl HwBreakpoint for VirtTarget {
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.add_breakpoint(addr, BreakKind::Hardware)
    }

    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.remove_breakpoint(addr, BreakKind::Hardware)
    }
}

impl HwWatchpoint for VirtTarget {
    fn add_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        if !self.dbg.watchpoints().insert(addr, len, watch_kind(kind)) {
            return Ok(false);
        }
        self.flush_tlbs().map_err(TargetError::Fatal)?;
        Ok(true)
    }

    fn remove_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: WatchKind,
    ) -> TargetResult<bool, Self> {
        if !self.dbg.watchpoints().remove(addr, len, watch_kind(kind)) {
            return Ok(false);
        }
        self.flush_tlbs().map_err(TargetError::Fatal)?;
        Ok(true)
    }
}
