//! The vCPU execution loop, the shared TB cache, and the round-robin / MTTCG schedulers.
//!
//! A [`Sched`] owns the guest CPUs (anything implementing [`GuestCpu`]) and a [`Backend`];
//! [`Sched::run`] runs them until a shutdown. A [`Control`] handle (clone it freely, get it
//! before `run`) lets the board, devices and the vCPUs themselves power vCPUs on, kick
//! them, queue work on them, and stop the world. A [`Debugger`] ([`debug`]) attached with
//! [`Sched::attach_debugger`] stops, steps and resumes them for a GDB stub.
//!
//! Threading in short: TB lookups are lock-free (an `ArcSwap`ped table of immutable bucket
//! chains, plus a per-vCPU jump cache owned by its thread); insertion is a compare-and-swap
//! of a bucket head. Cross-vCPU work goes through a channel per vCPU plus a kick (the
//! vCPU's atomic `exit_request`, then its parker). Exclusive sections use QEMU's
//! `pending_cpus` protocol: a vCPU marks itself running with one atomic store when it
//! enters its execution region and only takes the exclusive mutex when a section is
//! pending. Sleeping (power off, WFI, WFE, idle round-robin) is a per-vCPU (or, in
//! round-robin mode, shared) mutex + condvar parker with a bounded wait.

pub mod control;
pub mod cpu;
pub mod debug;
mod exec;
pub mod tb_cache;
pub mod trace;

pub use control::{Control, PowerState, RunOutcome, SchedError, SchedMode, VcpuStats, Work};
pub use cpu::{CpuAction, DebugExit, GuestCpu, TbKey, Translation};
pub use debug::{BreakKind, Debugger, Resume, StopEvent, StopReason};
pub use tb_cache::{Inserted, JumpCache, PendingTranslation, Tb, TbCache};

use control::{Core, Shared};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;
use tcg_ir::Backend;

/// A machine's vCPUs and how to run them.
pub struct Sched<C: GuestCpu> {
    cpus: Vec<C>,
    shared: Arc<Shared<C>>,
    time_slice: Duration,
}

impl<C: GuestCpu> Sched<C> {
    /// Round-robin time slice unless set otherwise.
    pub const DEFAULT_TIME_SLICE: Duration = Duration::from_millis(4);

    /// With MTTCG, how often each running vCPU is stopped for a profiling sample when the
    /// back end asks for samples (`Backend::wants_samples`): an exit costs about a
    /// microsecond, so this is ~0.05 % of a vCPU.
    const SAMPLE_PERIOD: Duration = Duration::from_millis(2);

    /// vCPU 0 starts powered on, the others off (see [`set_powered`](Self::set_powered)).
    /// Each CPU's `env()` is captured now and must stay valid while the CPU lives.
    pub fn new(mut cpus: Vec<C>, backend: Arc<dyn Backend>, mode: SchedMode) -> Sched<C> {
        let envs = cpus.iter_mut().map(|c| c.env()).collect();
        let core = Arc::new(Core::new(mode, envs, backend, C::PC_RELATIVE));
        let queues = cpus
            .iter()
            .map(|_| crossbeam_channel::unbounded())
            .collect();
        Sched {
            cpus,
            shared: Arc::new(Shared { core, queues }),
            time_slice: Self::DEFAULT_TIME_SLICE,
        }
    }

    /// Turns on self-modifying-code tracking with the board's memory `phys` (the map every
    /// vCPU's `softmmu::MemCtx` uses): from now on, translating a block marks its physical
    /// page as code (and makes every vCPU's TLB route stores to it through the slow path),
    /// and any write to such a page (a guest store from any vCPU through any virtual alias,
    /// `PhysMap::write`/`write_bytes`, or `PhysMap::notify_write` from a device) invalidates
    /// the TBs on the bytes written. Without it (unit tests, harnesses) TBs are never
    /// invalidated by writes. Returns false (and changes nothing) if another map was
    /// attached before. Call it before `run`.
    pub fn attach_phys(&self, phys: Arc<softmmu::PhysMap>) -> bool {
        debug_assert!(
            (0..self.cpus.len()).all(|i| {
                let env = self.shared.core.env_ptr(i);
                // SAFETY: the CPUs are owned by `self` and not running (`run` takes self);
                // `env` is their stable env (the `GuestCpu::env` contract); only the
                // context pointer is read.
                let ctx = unsafe { (*env).ctx };
                // SAFETY: a non-null ctx points at the CPU's live MemCtx.
                ctx.is_null() || Arc::ptr_eq(unsafe { &(*ctx).phys }, &phys)
            }),
            "attach_phys: a vCPU's MemCtx uses another PhysMap"
        );
        self.shared.core.attach_phys(phys)
    }

    /// Attaches a debugger (see [`debug`]): from now on it can stop, step and resume the
    /// vCPUs, and its breakpoints and watchpoints apply. Call after
    /// [`attach_phys`](Self::attach_phys) and before `run`. Returns false (and changes
    /// nothing) without an attached memory map, when `d` has fewer vCPUs than the machine,
    /// or when another debugger was attached before.
    pub fn attach_debugger(&self, d: Arc<Debugger>) -> bool {
        self.shared.core.attach_debugger(d)
    }

    /// A handle for the board and devices; valid before, during and after `run`.
    pub fn control(&self) -> Control<C> {
        Control {
            shared: self.shared.clone(),
        }
    }

    pub fn num_cpus(&self) -> usize {
        self.cpus.len()
    }

    pub fn mode(&self) -> SchedMode {
        self.shared.core.mode
    }

    /// Sets whether `cpu` starts powered on (ignored for an index out of range).
    pub fn set_powered(&mut self, cpu: usize, on: bool) {
        if cpu < self.cpus.len() {
            self.shared.core.set_power_initial(cpu, on);
        }
    }

    /// Round-robin time slice (minimum 100 µs).
    pub fn set_time_slice(&mut self, d: Duration) {
        self.time_slice = d.max(Duration::from_micros(100));
    }

    /// Runs every vCPU until a shutdown; returns its status (`Fatal`: status 1 and the
    /// message; a panicking vCPU thread also stops the machine with status 1).
    pub fn run(mut self) -> RunOutcome {
        let cpus = std::mem::take(&mut self.cpus);
        let shared = self.shared.clone();
        let core = shared.core.clone();
        if cpus.is_empty() {
            return RunOutcome {
                status: 1,
                message: Some("no vCPUs".to_string()),
            };
        }
        let mut returned: Vec<C> = Vec::new();
        match core.mode {
            SchedMode::Mttcg => {
                // PROFILING: a back end that promotes by samples gets one from every
                // running vCPU each period (round-robin has its time-slice requests).
                let sampler = core.backend.wants_samples().then(|| {
                    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
                    let tcore = core.clone();
                    let n = cpus.len();
                    let h = std::thread::Builder::new()
                        .name("vcpu-sampler".to_string())
                        .spawn(move || {
                            // Periods since each vCPU's last sampling exit.
                            let mut waited = vec![0u32; n];
                            while let Err(crossbeam_channel::RecvTimeoutError::Timeout) =
                                stop_rx.recv_timeout(Self::SAMPLE_PERIOD)
                            {
                                for (i, w) in waited.iter_mut().enumerate() {
                                    if *w
                                        >= tcore.vcpus[i]
                                            .sample_skip
                                            .load(std::sync::atomic::Ordering::Relaxed)
                                    {
                                        tcore.request_exit(i);
                                        *w = 0;
                                    } else {
                                        *w += 1;
                                    }
                                }
                            }
                        });
                    (stop_tx, h)
                });
                let mut handles = Vec::new();
                for (i, mut cpu) in cpus.into_iter().enumerate() {
                    let sh = shared.clone();
                    let spawned =
                        std::thread::Builder::new()
                            .name(format!("vcpu-{i}"))
                            .spawn(move || {
                                let r = catch_unwind(AssertUnwindSafe(|| {
                                    exec::mttcg_thread(&sh, &mut cpu, i)
                                }));
                                if let Err(p) = r {
                                    sh.core.leave_thread();
                                    sh.core.request_shutdown(
                                        1,
                                        Some(format!("vCPU {i} panicked: {}", panic_text(&*p))),
                                    );
                                }
                                cpu
                            });
                    match spawned {
                        Ok(h) => handles.push(h),
                        Err(e) => {
                            core.request_shutdown(1, Some(format!("cannot start vCPU {i}: {e}")));
                            break;
                        }
                    }
                }
                for h in handles {
                    if let Ok(cpu) = h.join() {
                        returned.push(cpu);
                    }
                }
                // Stopped before the envs are retired (its requests touch them).
                if let Some((stop_tx, h)) = sampler {
                    drop(stop_tx);
                    if let Ok(h) = h {
                        let _ = h.join();
                    }
                }
            }
            SchedMode::RoundRobin => {
                let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
                let slice = self.time_slice;
                let tcore = core.clone();
                let timer = std::thread::Builder::new()
                    .name("vcpu-rr-timer".to_string())
                    .spawn(move || {
                        while let Err(crossbeam_channel::RecvTimeoutError::Timeout) =
                            stop_rx.recv_timeout(slice)
                        {
                            let cur = tcore.rr_current.load(std::sync::atomic::Ordering::Acquire);
                            if cur < tcore.vcpus.len() {
                                tcore
                                    .rr_slice_expired
                                    .store(true, std::sync::atomic::Ordering::Release);
                                tcore.request_exit(cur);
                            }
                        }
                    });
                let sh = shared.clone();
                let mut cpus = cpus;
                let worker = std::thread::Builder::new()
                    .name("vcpu-rr".to_string())
                    .spawn(move || {
                        let r = catch_unwind(AssertUnwindSafe(|| exec::rr_thread(&sh, &mut cpus)));
                        if let Err(p) = r {
                            sh.core.leave_thread();
                            sh.core.request_shutdown(
                                1,
                                Some(format!("vCPU thread panicked: {}", panic_text(&*p))),
                            );
                        }
                        cpus
                    });
                match worker {
                    Ok(h) => {
                        if let Ok(cpus) = h.join() {
                            returned = cpus;
                        }
                    }
                    Err(e) => core.request_shutdown(1, Some(format!("cannot start vCPUs: {e}"))),
                }
                drop(stop_tx);
                if let Ok(t) = timer {
                    let _ = t.join();
                }
            }
        }
        // No kick may touch an env once the CPUs are gone.
        core.retire_envs();
        shared.drain();
        drop(returned);
        core.take_outcome().unwrap_or(RunOutcome {
            status: 1,
            message: Some("the vCPU threads ended without a shutdown request".to_string()),
        })
    }
}

impl<C: GuestCpu> Drop for Sched<C> {
    fn drop(&mut self) {
        if !self.cpus.is_empty() {
            self.shared.core.request_shutdown(0, None);
            self.shared.core.retire_envs();
            self.shared.drain();
        }
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
