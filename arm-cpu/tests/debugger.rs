//! The debugger hooks of the execution loop on real A64 code: breakpoints checked at
//! translation, one-instruction steps, watchpoints through the TLB, Ctrl-C, and all-stop
//! with two vCPUs, on both back ends and both schedulers (what the GDB stub relies on).

use arm_cpu::{ArmCpu, CpuConfig, Platform};
use backend_cranelift::CraneliftBackend;
use backend_interp::Interp;
use softmmu::watch::WatchKind;
use softmmu::{PhysAddr, PhysMap};
use std::sync::Arc;
use std::time::Duration;
use tcg_ir::Backend;
use vcpu_sched::{
    BreakKind, Control, CpuAction, Debugger, Resume, Sched, SchedMode, StopEvent, StopReason,
};

struct Off;

impl Platform for Off {
    fn hvc(&self, _cpu: &mut ArmCpu, _imm: u16) -> CpuAction {
        CpuAction::Shutdown(0)
    }
}

const RAM: u64 = 0x4000_0000;
/// Where each vCPU's counter lives: `DATA + 0x100 * cpu`.
const DATA: u64 = RAM + 0x4000;

/// x0 counts up forever, stored to [x1] each time.
const LOOP: [u32; 4] = [
    0xd280_0000, // 0: mov x0, #0
    0x9100_0400, // 4: add x0, x0, #1
    0xf900_0020, // 8: str x0, [x1]
    0x17ff_fffe, // c: b 4
];

struct Run {
    control: Control<ArmCpu>,
    dbg: Arc<Debugger>,
    phys: Arc<PhysMap>,
    thread: std::thread::JoinHandle<vcpu_sched::RunOutcome>,
}

fn start(backend: Arc<dyn Backend>, mode: SchedMode, ncpus: usize) -> Run {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(RAM), 1 << 20).unwrap();
    let code: Vec<u8> = LOOP.iter().flat_map(|w| w.to_le_bytes()).collect();
    m.write_bytes(PhysAddr(RAM), &code).unwrap();
    let phys = Arc::new(m);
    let cpus: Vec<ArmCpu> = (0..ncpus)
        .map(|i| {
            let mut c = ArmCpu::new(
                CpuConfig {
                    index: i,
                    log_unimp: false,
                },
                phys.clone(),
                Arc::new(Off),
            );
            c.reset_to(RAM, 0);
            c.set_reg(1, DATA + 0x100 * i as u64);
            c
        })
        .collect();
    let mut sched = Sched::new(cpus, backend, mode);
    for i in 0..ncpus {
        sched.set_powered(i, true);
    }
    assert!(sched.attach_phys(phys.clone()));
    let dbg = Arc::new(Debugger::new(ncpus, true));
    assert!(sched.attach_debugger(dbg.clone()));
    let control = sched.control();
    let thread = std::thread::spawn(move || sched.run());
    Run {
        control,
        dbg,
        phys,
        thread,
    }
}

fn event(d: &Debugger) -> StopEvent {
    d.wait_event(Duration::from_secs(20))
        .expect("the machine stops")
}

fn pc(r: &Run, cpu: usize) -> u64 {
    let (tx, rx) = std::sync::mpsc::channel();
    r.control
        .run_on_sync(cpu, move |c| {
            let _ = tx.send((c.pc(), c.reg(0)));
        })
        .unwrap();
    rx.recv().unwrap().0
}

fn x0(r: &Run, cpu: usize) -> u64 {
    let (tx, rx) = std::sync::mpsc::channel();
    r.control
        .run_on_sync(cpu, move |c| {
            let _ = tx.send(c.reg(0));
        })
        .unwrap();
    rx.recv().unwrap()
}

fn mem(r: &Run, addr: u64) -> u64 {
    let mut b = [0u8; 8];
    r.phys.read_bytes(PhysAddr(addr), &mut b).unwrap();
    u64::from_le_bytes(b)
}

fn flush_tlbs(r: &Run) {
    r.control.run_on_all_sync(|c| c.flush_tlb()).unwrap();
}

fn combos() -> Vec<(String, Arc<dyn Backend>, SchedMode)> {
    let mut v: Vec<(String, Arc<dyn Backend>, SchedMode)> = Vec::new();
    for mode in [SchedMode::RoundRobin, SchedMode::Mttcg] {
        v.push((format!("interp/{mode:?}"), Arc::new(Interp::new()), mode));
        v.push((
            format!("jit/{mode:?}"),
            Arc::new(CraneliftBackend::new().unwrap()),
            mode,
        ));
    }
    v
}

#[test]
fn breakpoint_step_watchpoint_and_interrupt() {
    for (name, be, mode) in combos() {
        let r = start(be, mode, 1);
        let d = &r.dbg;
        // Started halted: nothing ran.
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(pc(&r, 0), RAM, "{name}");
        assert!(d.insert_breakpoint(RAM + 8, BreakKind::Software));
        d.resume(&[]);
        let e = event(d);
        assert_eq!(
            e,
            StopEvent {
                cpu: 0,
                reason: StopReason::Breakpoint(BreakKind::Software)
            },
            "{name}"
        );
        assert_eq!((pc(&r, 0), x0(&r, 0)), (RAM + 8, 1), "{name}");
        assert_eq!(mem(&r, DATA), 0, "{name}: the store has not run");
        // A step executes the instruction at the breakpoint.
        d.resume(&[Resume::Step]);
        assert_eq!(event(d).reason, StopReason::Step, "{name}");
        assert_eq!(pc(&r, 0), RAM + 0xc, "{name}");
        assert_eq!(mem(&r, DATA), 1, "{name}");
        d.resume(&[Resume::Step]);
        assert_eq!(event(d).reason, StopReason::Step, "{name}");
        assert_eq!(pc(&r, 0), RAM + 4, "{name}");
        // Continuing hits the breakpoint once per iteration.
        d.resume(&[]);
        assert_eq!(event(d).reason, StopReason::Breakpoint(BreakKind::Software));
        assert_eq!(x0(&r, 0), 2, "{name}");
        // Removed (and its TBs invalidated, as the stub does): a write watchpoint stops
        // the store before it happens.
        assert_eq!(
            d.remove_breakpoint(RAM + 8, BreakKind::Software),
            Some(true)
        );
        r.control.invalidate_phys_range(RAM + 8, 4);
        assert!(d.watchpoints().insert(DATA, 8, WatchKind::Write));
        flush_tlbs(&r);
        d.resume(&[Resume::Step]);
        assert_eq!(
            event(d).reason,
            StopReason::Watch {
                kind: WatchKind::Write,
                addr: DATA
            },
            "{name}"
        );
        assert_eq!(pc(&r, 0), RAM + 8, "{name}");
        assert_eq!(mem(&r, DATA), 1, "{name}: stopped before the store");
        assert!(d.watchpoints().remove(DATA, 8, WatchKind::Write));
        flush_tlbs(&r);
        // Running freely, then stopped by the debugger.
        d.resume(&[]);
        std::thread::sleep(Duration::from_millis(30));
        assert!(d.interrupt());
        assert_eq!(event(d).reason, StopReason::Interrupted, "{name}");
        let n = x0(&r, 0);
        assert!(n > 1000, "{name}: ran only {n} iterations");
        assert!((RAM + 4..=RAM + 0xc).contains(&pc(&r, 0)), "{name}");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(x0(&r, 0), n, "{name}: stopped means stopped");
        r.control.shutdown(0);
        assert_eq!(r.thread.join().unwrap().status, 0, "{name}");
    }
}

#[test]
fn all_stop_with_two_vcpus() {
    for (name, be, mode) in combos() {
        let r = start(be, mode, 2);
        let d = &r.dbg;
        d.resume(&[]);
        std::thread::sleep(Duration::from_millis(20));
        assert!(d.insert_breakpoint(RAM + 0xc, BreakKind::Hardware));
        // No stop yet: the running code was translated before the breakpoint existed and
        // nobody invalidated it. A real stub stops the machine first; here: interrupt,
        // invalidate, resume.
        d.interrupt();
        let _ = event(d);
        r.control.invalidate_phys_range(RAM + 0xc, 4);
        d.resume(&[]);
        let e = event(d);
        assert_eq!(
            e.reason,
            StopReason::Breakpoint(BreakKind::Hardware),
            "{name}"
        );
        assert_eq!(pc(&r, e.cpu), RAM + 0xc, "{name}");
        let before = [x0(&r, 0), x0(&r, 1)];
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!([x0(&r, 0), x0(&r, 1)], before, "{name}: every vCPU stopped");
        // Scheduler locking: only vCPU 1 steps; vCPU 0 stays put.
        let pc0 = pc(&r, 0);
        d.resume(&[Resume::Stop, Resume::Step]);
        assert_eq!(
            event(d),
            StopEvent {
                cpu: 1,
                reason: StopReason::Step
            },
            "{name}"
        );
        assert_eq!(pc(&r, 0), pc0, "{name}");
        d.clear_breakpoints();
        r.control.invalidate_phys_range(RAM + 0xc, 4);
        // Both run again (a loaded host may delay round-robin's time slices: poll).
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            d.resume(&[]);
            std::thread::sleep(Duration::from_millis(20));
            d.interrupt();
            assert_eq!(event(d).reason, StopReason::Interrupted, "{name}");
            let after = [x0(&r, 0), x0(&r, 1)];
            if after[0] > before[0] && after[1] > before[1] {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{name}: {before:?} -> {after:?}, pcs {:#x} {:#x}",
                pc(&r, 0),
                pc(&r, 1)
            );
        }
        r.control.shutdown(0);
        assert_eq!(r.thread.join().unwrap().status, 0, "{name}");
    }
}
