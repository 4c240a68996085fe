//! Scheduler tests with a toy guest CPU running real IR on the interpreter (and, where
//! chaining matters, on the Cranelift JIT).

mod common;

use common::*;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tcg_ir::{Backend, BackendError, CompiledTb};
use vcpu_sched::{CpuAction, PowerState, Sched, SchedError, SchedMode};

/// A script that counts `n` blocks at PC_COUNT, then does `then`.
fn count_then(n: u64, then: CpuAction) -> Script {
    Box::new(move |c: &mut Ctx| {
        if c.exit == KEY_HOOK {
            return CpuAction::Continue;
        }
        if c.regs[0] >= n {
            then.clone()
        } else {
            CpuAction::Continue
        }
    })
}

#[test]
fn single_vcpu_runs_to_completion() {
    for mode in BOTH {
        let phys = new_phys();
        let cpu = Toy::new(0, &phys, PC_COUNT, count_then(1000, CpuAction::Shutdown(7)));
        let s = sched(vec![cpu], mode);
        let control = s.control();
        let out = run_with_watchdog(s, WATCHDOG);
        assert_eq!(out.status, 7, "{mode:?}");
        assert_eq!(out.message, None);
        assert_eq!(shared_word(&phys), 1000);
        let st = control.stats(0);
        assert_eq!(st.translations, 1, "{mode:?}: one TB, translated once");
        assert_eq!(st.tbs_executed, 1000, "{mode:?}");
    }
}

#[test]
fn fatal_gives_status_1_and_the_message() {
    for mode in BOTH {
        let phys = new_phys();
        let cpu = Toy::new(
            0,
            &phys,
            PC_COUNT,
            count_then(3, CpuAction::Fatal("boom".into())),
        );
        let out = run_with_watchdog(sched(vec![cpu], mode), WATCHDOG);
        assert_eq!(out.status, 1);
        assert_eq!(out.message.as_deref(), Some("boom"));
    }
}

#[test]
fn translation_failure_is_fatal_not_a_panic() {
    let phys = new_phys();
    let cpu = Toy::new(0, &phys, 0xdead_0000, count_then(1, CpuAction::Shutdown(0)));
    let out = run_with_watchdog(sched(vec![cpu], SchedMode::Mttcg), WATCHDOG);
    assert_eq!(out.status, 1);
    assert!(out.message.unwrap_or_default().contains("no code"));
}

/// vCPU 0 powers on vCPUs 1..n; everybody does `k` atomic increments of the shared word;
/// the others turn themselves off; vCPU 0 waits (WFE) for that and shuts down.
fn smp_count(mode: SchedMode, n: usize, k: u64) {
    smp_count_on(mode, n, k, Be::Interp, false);
}

/// `smp_count` on back end `be`; `chained`: the counting block loops through `goto_tb`
/// (chained to itself on the JIT) instead of exiting to the guest after every increment.
fn smp_count_on(mode: SchedMode, n: usize, k: u64, be: Be, chained: bool) {
    let count_pc = if chained { PC_COUNT_CHAIN } else { PC_COUNT };
    let phys = new_phys();
    let cell: CtlCell = Arc::new(OnceLock::new());
    let mut cpus = Vec::new();
    for id in 0..n {
        let cell = cell.clone();
        let script: Script = if id == 0 {
            let mut started = false;
            Box::new(move |c: &mut Ctx| {
                if c.exit == KEY_HOOK {
                    c.regs[2] = k;
                    return CpuAction::Continue;
                }
                let ctl = ctl(&cell);
                if !started {
                    started = true;
                    for i in 1..n {
                        let r = ctl.power_on(i, move |cpu: &mut Toy| cpu.pc = count_pc);
                        if r.is_err() {
                            return CpuAction::Fatal(format!("power_on {i}: {r:?}"));
                        }
                    }
                }
                if c.regs[0] < k {
                    return CpuAction::Continue;
                }
                *c.pc = PC_PLAIN;
                if (1..n).all(|i| ctl.power_state(i) == PowerState::Off) {
                    CpuAction::Shutdown(0)
                } else {
                    CpuAction::WaitForEvent
                }
            })
        } else {
            Box::new(move |c: &mut Ctx| {
                if c.exit == KEY_HOOK {
                    c.regs[2] = k;
                    return CpuAction::Continue;
                }
                if c.regs[0] < k {
                    return CpuAction::Continue;
                }
                // Wake vCPU 0 (SEV) on the way out; it re-checks after a WFE timeout too.
                ctl(&cell).send_event();
                CpuAction::PowerOff
            })
        };
        let pc = if id == 0 { count_pc } else { 0 };
        cpus.push(Toy::new(id, &phys, pc, script));
    }
    let s = sched_on(cpus, mode, be);
    let _ = cell.set(s.control());
    let control = s.control();
    let out = run_with_watchdog(s, WATCHDOG);
    assert_eq!(out.status, 0, "{mode:?}: {:?}", out.message);
    assert_eq!(shared_word(&phys), n as u64 * k, "{mode:?}");
    // All vCPUs ran the same block: the global cache shares it ("one wins" on races).
    let translations: u64 = (0..n).map(|i| control.stats(i).translations).sum();
    assert!(translations <= 2 * n as u64, "{translations} translations");
    assert!(
        control.tb_cache().len() <= 2,
        "PC_COUNT and PC_PLAIN at most"
    );
    if chained && be != Be::Interp {
        // Chained: most increments ran without returning to the loop.
        let entries: u64 = (0..n).map(|i| control.stats(i).tbs_executed).sum();
        assert!(
            entries < n as u64 * k / 2,
            "{mode:?}: {entries} loop entries for {} increments",
            n as u64 * k
        );
    }
}

#[test]
fn four_vcpus_count_exactly_jit_chained_round_robin() {
    smp_count_on(SchedMode::RoundRobin, 4, 5000, Be::Jit, true);
}

#[test]
fn four_vcpus_count_exactly_jit_chained_mttcg() {
    smp_count_on(SchedMode::Mttcg, 4, 5000, Be::Jit, true);
}

#[test]
fn four_vcpus_count_exactly_quick_chained_both_modes() {
    for mode in BOTH {
        smp_count_on(mode, 4, 5000, Be::Quick, true);
    }
}

#[test]
fn four_vcpus_count_exactly_jit_unchained_mttcg() {
    smp_count_on(SchedMode::Mttcg, 4, 5000, Be::Jit, false);
}

#[test]
fn four_vcpus_count_exactly_interp_goto_tb_both_modes() {
    for mode in BOTH {
        smp_count_on(mode, 4, 2000, Be::Interp, true);
    }
}

#[test]
fn four_vcpus_jit_chained_ten_times_without_a_hang() {
    for i in 0..10 {
        let mode = if i % 2 == 0 {
            SchedMode::Mttcg
        } else {
            SchedMode::RoundRobin
        };
        smp_count_on(mode, 4, 300, Be::Jit, true);
    }
}

#[test]
fn four_vcpus_count_exactly_round_robin() {
    smp_count(SchedMode::RoundRobin, 4, 5000);
}

#[test]
fn four_vcpus_count_exactly_mttcg() {
    smp_count(SchedMode::Mttcg, 4, 5000);
}

#[test]
fn four_vcpus_twenty_times_without_a_hang() {
    for i in 0..20 {
        let mode = if i % 2 == 0 {
            SchedMode::Mttcg
        } else {
            SchedMode::RoundRobin
        };
        smp_count(mode, 4, 300);
    }
}

#[test]
fn spinning_vcpu_does_not_starve_another() {
    for mode in BOTH {
        let phys = new_phys();
        // vCPU 0 loops in generated code forever (LOOKUP exits never reach handle_exit).
        let spinner = Toy::new(0, &phys, PC_SPIN, count_then(u64::MAX, CpuAction::Continue));
        let counter = Toy::new(1, &phys, PC_COUNT, count_then(200, CpuAction::Shutdown(3)));
        let mut s = sched(vec![spinner, counter], mode);
        s.set_powered(1, true);
        let control = s.control();
        let out = run_with_watchdog(s, WATCHDOG);
        assert_eq!(out.status, 3, "{mode:?}");
        assert_eq!(shared_word(&phys), 200);
        if mode == SchedMode::RoundRobin {
            // It ran first (vCPU 0) and was preempted by the time slice.
            assert!(control.stats(0).tbs_executed > 0, "the spinner ran too");
        }
    }
}

#[test]
fn run_on_all_sync_from_outside_completes_everywhere() {
    for mode in BOTH {
        let phys = new_phys();
        let n = 4;
        let cpus = (0..n)
            .map(|id| {
                Toy::new(
                    id,
                    &phys,
                    PC_SPIN,
                    count_then(u64::MAX, CpuAction::Continue),
                )
            })
            .collect();
        let mut s = sched(cpus, mode);
        s.set_powered(1, true);
        s.set_powered(2, true); // vCPU 3 stays off: it must run the work anyway
        let control = s.control();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(s.run());
        });
        let hits: Arc<Vec<AtomicUsize>> = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
        for round in 1..=20 {
            let h = hits.clone();
            control
                .run_on_all_sync(move |c: &mut Toy| {
                    h[c.id].fetch_add(1, Ordering::SeqCst);
                })
                .expect("sync");
            for (i, x) in hits.iter().enumerate() {
                assert_eq!(
                    x.load(Ordering::SeqCst),
                    round,
                    "{mode:?}: vCPU {i}, round {round}"
                );
            }
            let h = hits.clone();
            control
                .run_on_sync(round % n, move |c: &mut Toy| {
                    h[c.id].fetch_sub(1, Ordering::SeqCst);
                })
                .expect("sync");
            assert_eq!(hits[round % n].load(Ordering::SeqCst), round - 1);
            hits[round % n].fetch_add(1, Ordering::SeqCst);
        }
        assert_eq!(control.power_state(3), PowerState::Off);
        control.shutdown(0);
        let out = rx.recv_timeout(WATCHDOG).expect("machine stops");
        assert_eq!(out.status, 0);
        assert_eq!(control.run_on_sync(0, |_| {}), Err(SchedError::ShutDown));
    }
}

/// `sync_others_deferrable`: every other vCPU has the request before it runs another TB
/// (checked at each TB lookup against the requests that had returned), the issuer is
/// skipped, and a vCPU that is off is not woken: it gets the requests when it runs.
#[test]
fn deferrable_requests_reach_every_other_vcpu_before_its_next_tb() {
    for mode in BOTH {
        let phys = new_phys();
        let n = 4;
        let returned = Arc::new(AtomicU64::new(0));
        let bad = Arc::new(AtomicUsize::new(0));
        let mut applied = Vec::new();
        let cpus: Vec<Toy> = (0..n)
            .map(|id| {
                let list: Arc<std::sync::Mutex<Vec<u64>>> = Arc::default();
                let (l, r, b) = (list.clone(), returned.clone(), bad.clone());
                let script: Script = Box::new(move |c: &mut Ctx| {
                    if c.exit == KEY_HOOK && c.id != 1 {
                        let upto = r.load(Ordering::SeqCst);
                        let got = l.lock().unwrap();
                        if !(1..=upto).all(|w| got.contains(&w)) {
                            b.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    CpuAction::Continue
                });
                let mut t = Toy::new(id, &phys, PC_SPIN, script);
                t.applied = list.clone();
                applied.push(list);
                t
            })
            .collect();
        let mut s = sched(cpus, mode);
        s.set_powered(1, true);
        s.set_powered(2, true); // vCPU 3 stays off until the end
        let control = s.control();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(s.run());
        });
        for round in 1..=50u64 {
            control
                .sync_others_deferrable(1, round)
                .expect("deferrable sync");
            returned.store(round, Ordering::SeqCst);
        }
        assert!(
            applied[1].lock().unwrap().is_empty(),
            "{mode:?}: the issuer"
        );
        assert!(
            applied[3].lock().unwrap().is_empty(),
            "{mode:?}: an off vCPU is not woken"
        );
        control.power_on(3, |_| {}).expect("power on vCPU 3");
        let t0 = std::time::Instant::now();
        while applied[3].lock().unwrap().len() < 50 {
            assert!(t0.elapsed() < WATCHDOG, "{mode:?}: vCPU 3 never ran");
            std::thread::yield_now();
        }
        control.shutdown(0);
        let out = rx.recv_timeout(WATCHDOG).expect("machine stops");
        assert_eq!(out.status, 0);
        assert_eq!(
            bad.load(Ordering::SeqCst),
            0,
            "{mode:?}: a TB ran without a request"
        );
    }
}

/// Every vCPU issues a synced request to all at once (from inside `handle_exit`); each must
/// see its request completed everywhere before its next TB, and nobody deadlocks.
#[test]
fn run_on_all_sync_from_vcpus_completes_before_their_next_tb() {
    for mode in BOTH {
        let phys = new_phys();
        let n = 4;
        let cell: CtlCell = Arc::new(OnceLock::new());
        // hits[issuer * n + target]
        let hits: Arc<Vec<AtomicUsize>> =
            Arc::new((0..n * n).map(|_| AtomicUsize::new(0)).collect());
        let done = Arc::new(AtomicUsize::new(0));
        let mut cpus = Vec::new();
        for id in 0..n {
            let (cell, hits, done) = (cell.clone(), hits.clone(), done.clone());
            let mut state = 0;
            let script: Script = Box::new(move |c: &mut Ctx| match (state, c.exit) {
                (0, KEY_HOOK) => CpuAction::Continue,
                (0, _) => {
                    let h = hits.clone();
                    let issuer = c.id;
                    let r = ctl(&cell).run_on_all_sync(move |t: &mut Toy| {
                        h[issuer * n + t.id].fetch_add(1, Ordering::SeqCst);
                    });
                    if r.is_err() {
                        return CpuAction::Fatal(format!("{r:?}"));
                    }
                    state = 1;
                    CpuAction::Continue
                }
                (1, KEY_HOOK) => {
                    let ok = (0..n).all(|t| hits[c.id * n + t].load(Ordering::SeqCst) == 1);
                    if !ok {
                        return CpuAction::Fatal(format!("vCPU {}: sync not complete", c.id));
                    }
                    state = 2;
                    done.fetch_add(1, Ordering::SeqCst);
                    CpuAction::Continue
                }
                (_, KEY_HOOK) => CpuAction::Continue,
                _ => {
                    if c.id == 0 && done.load(Ordering::SeqCst) == n {
                        CpuAction::Shutdown(0)
                    } else {
                        CpuAction::Continue
                    }
                }
            });
            cpus.push(Toy::new(id, &phys, PC_COUNT, script));
        }
        let mut s = sched(cpus, mode);
        for i in 1..n {
            s.set_powered(i, true);
        }
        let _ = cell.set(s.control());
        let out = run_with_watchdog(s, WATCHDOG);
        assert_eq!(out.status, 0, "{mode:?}: {:?}", out.message);
        assert!(hits.iter().all(|h| h.load(Ordering::SeqCst) == 1));
    }
}

#[test]
fn exclusive_excludes_every_vcpu() {
    for mode in BOTH {
        let phys = new_phys();
        let n = 4;
        let cell: CtlCell = Arc::new(OnceLock::new());
        let violations = Arc::new(AtomicUsize::new(0));
        let sections = Arc::new(AtomicUsize::new(0));
        let mut cpus = Vec::new();
        for id in 0..n {
            let (cell, phys2, violations, sections) = (
                cell.clone(),
                phys.clone(),
                violations.clone(),
                sections.clone(),
            );
            let script: Script = Box::new(move |c: &mut Ctx| {
                if c.exit == KEY_HOOK {
                    return CpuAction::Continue;
                }
                // From inside a vCPU callback: the others must stand still meanwhile.
                if c.regs[0].is_multiple_of(97) {
                    ctl(&cell).exclusive(|| {
                        let a = shared_word(&phys2);
                        let t = Instant::now();
                        while t.elapsed() < Duration::from_micros(300) {
                            std::hint::spin_loop();
                        }
                        if shared_word(&phys2) != a {
                            violations.fetch_add(1, Ordering::SeqCst);
                        }
                        sections.fetch_add(1, Ordering::SeqCst);
                    });
                }
                if c.id == 0 && c.regs[0] >= 3000 {
                    CpuAction::Shutdown(0)
                } else {
                    CpuAction::Continue
                }
            });
            cpus.push(Toy::new(id, &phys, PC_COUNT, script));
        }
        let mut s = sched(cpus, mode);
        for i in 1..n {
            s.set_powered(i, true);
        }
        let control = s.control();
        let _ = cell.set(s.control());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(s.run());
        });
        // And from outside, while they run.
        let mut outside = 0;
        let out = loop {
            if let Ok(out) = rx.try_recv() {
                break out;
            }
            let stable = control.exclusive(|| {
                let a = shared_word(&phys);
                std::thread::sleep(Duration::from_millis(2));
                shared_word(&phys) == a
            });
            assert!(stable, "{mode:?}: a vCPU ran during an exclusive section");
            outside += 1;
            if control.is_shutdown() {
                break rx
                    .recv_timeout(WATCHDOG)
                    .unwrap_or_else(|_| panic!("{mode:?}: hang"));
            }
            std::thread::sleep(Duration::from_millis(1));
            assert!(outside < 20_000, "{mode:?}: machine did not finish");
        };
        assert_eq!(out.status, 0, "{mode:?}: {:?}", out.message);
        assert_eq!(violations.load(Ordering::SeqCst), 0, "{mode:?}");
        assert!(sections.load(Ordering::SeqCst) > 0);
        // Nested use is allowed.
        assert_eq!(control.exclusive(|| control.exclusive(|| 5)), 5);
    }
}

/// WFI sleeps (it is not ended by the safety-net poll alone) until a kick.
#[test]
fn wfi_is_woken_by_a_kick() {
    for mode in BOTH {
        let phys = new_phys();
        let in_wfi = Arc::new(AtomicBool::new(false));
        let flag = in_wfi.clone();
        let mut step = 0;
        let script: Script = Box::new(move |c: &mut Ctx| {
            if c.exit == KEY_HOOK {
                return CpuAction::Continue;
            }
            step += 1;
            match step {
                1 => {
                    flag.store(true, Ordering::SeqCst);
                    CpuAction::WaitForInterrupt
                }
                _ => CpuAction::Shutdown(c.regs[0] as i32),
            }
        });
        let cpu = Toy::new(0, &phys, PC_COUNT, script);
        let s = sched(vec![cpu], mode);
        let control = s.control();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(s.run());
        });
        let t = Instant::now();
        while !in_wfi.load(Ordering::SeqCst) {
            assert!(t.elapsed() < WATCHDOG, "never reached WFI");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            rx.recv_timeout(Duration::from_millis(60)).is_err(),
            "{mode:?}: WFI returned without a wake-up"
        );
        control.kick(0);
        let out = rx.recv_timeout(WATCHDOG).expect("kick ends WFI");
        assert_eq!(out.status, 2, "{mode:?}: ran exactly one more block");
    }
}

/// An interrupt made pending without a kick is still seen (bounded sleep safety net).
#[test]
fn wfi_sees_a_pending_interrupt_without_a_kick() {
    for mode in BOTH {
        let phys = new_phys();
        let mut step = 0;
        let script: Script = Box::new(move |c: &mut Ctx| {
            if c.exit == KEY_HOOK {
                return CpuAction::Continue;
            }
            step += 1;
            if step == 1 {
                CpuAction::WaitForInterrupt
            } else {
                CpuAction::Shutdown(0)
            }
        });
        let cpu = Toy::new(0, &phys, PC_COUNT, script);
        let irq = cpu.irq.clone();
        let s = sched(vec![cpu], mode);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(s.run());
        });
        std::thread::sleep(Duration::from_millis(30));
        irq.store(true, Ordering::SeqCst);
        let out = rx.recv_timeout(WATCHDOG).expect("interrupt ends WFI");
        assert_eq!(out.status, 0);
    }
}

/// SEV before WFE: the WFE returns at once (event register); WFE after that sleeps until
/// an event (or its short timeout).
#[test]
fn wfe_consumes_an_earlier_event() {
    for mode in BOTH {
        let phys = new_phys();
        let mut step = 0;
        let script: Script = Box::new(move |c: &mut Ctx| {
            if c.exit == KEY_HOOK {
                return CpuAction::Continue;
            }
            step += 1;
            match step {
                1 => CpuAction::SendEvent,
                2 | 3 => CpuAction::WaitForEvent,
                _ => CpuAction::Shutdown(c.regs[0] as i32),
            }
        });
        let s = sched(vec![Toy::new(0, &phys, PC_COUNT, script)], mode);
        let out = run_with_watchdog(s, WATCHDOG);
        assert_eq!(out.status, 4, "{mode:?}");
    }
}

#[test]
fn power_states_and_power_on_errors() {
    let phys = new_phys();
    let cell: CtlCell = Arc::new(OnceLock::new());
    let seen = Arc::new(AtomicU64::new(0));
    let c2 = cell.clone();
    let seen2 = seen.clone();
    let boot: Script = Box::new(move |c: &mut Ctx| {
        if c.exit == KEY_HOOK {
            return CpuAction::Continue;
        }
        let ctl = ctl(&c2);
        if ctl.power_on(0, |_| {}) != Err(SchedError::AlreadyOn(0)) {
            return CpuAction::Fatal("powered on twice".into());
        }
        if ctl.power_on(9, |_| {}) != Err(SchedError::NoSuchCpu(9)) {
            return CpuAction::Fatal("no such cpu".into());
        }
        seen2.store(c.regs[0], Ordering::SeqCst);
        CpuAction::PowerOff
    });
    let second: Script = Box::new(|c: &mut Ctx| {
        if c.exit == KEY_HOOK || c.regs[0] < 10 {
            CpuAction::Continue
        } else {
            CpuAction::Shutdown(c.regs[5] as i32)
        }
    });
    let s = sched(
        vec![
            Toy::new(0, &phys, PC_COUNT, boot),
            Toy::new(1, &phys, PC_COUNT, second),
        ],
        SchedMode::Mttcg,
    );
    let control = s.control();
    let _ = cell.set(s.control());
    assert_eq!(control.power_state(0), PowerState::On);
    assert_eq!(control.power_state(1), PowerState::Off);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(s.run());
    });
    let t = Instant::now();
    while control.power_state(0) != PowerState::Off {
        assert!(t.elapsed() < WATCHDOG);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    // Power-on work sets registers (regs are private to the toy: use r5 through work).
    control
        .power_on(1, |cpu: &mut Toy| {
            cpu.script = Box::new(|c: &mut Ctx| {
                if c.exit != KEY_HOOK && c.regs[0] >= 10 {
                    CpuAction::Shutdown(42)
                } else {
                    CpuAction::Continue
                }
            });
        })
        .expect("power on");
    assert_ne!(control.power_state(1), PowerState::Off);
    assert_eq!(control.power_on(1, |_| {}), Err(SchedError::AlreadyOn(1)));
    let out = rx.recv_timeout(WATCHDOG).expect("stops");
    assert_eq!(out.status, 42);
}

#[test]
fn flush_while_running_keeps_working() {
    flush_while_running(Be::Interp, PC_COUNT);
}

#[test]
fn flush_while_running_keeps_working_jit() {
    flush_while_running(Be::Jit, PC_COUNT);
}

/// Both vCPUs sit in a TB chained to itself (it never leaves on its own) while the TB
/// cache and code memory are flushed under them again and again.
#[test]
fn flush_while_running_chained_jit() {
    flush_while_running(Be::Jit, PC_COUNT_CHAIN);
}

#[test]
fn flush_while_running_chained_quick() {
    flush_while_running(Be::Quick, PC_COUNT_CHAIN);
}

fn flush_while_running(be: Be, pc: u64) {
    let phys = new_phys();
    let cpus = (0..2)
        .map(|id| Toy::new(id, &phys, pc, count_then(u64::MAX, CpuAction::Continue)))
        .collect();
    let mut s = sched_on(cpus, SchedMode::Mttcg, be);
    s.set_powered(1, true);
    let control = s.control();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(s.run());
    });
    let g0 = control.tb_cache().generation();
    for _ in 0..20 {
        control.flush_tbs();
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(control.tb_cache().generation(), g0 + 20);
    let before = shared_word(&phys);
    std::thread::sleep(Duration::from_millis(20));
    assert!(shared_word(&phys) > before, "still running after flushes");
    control.shutdown(0);
    assert_eq!(rx.recv_timeout(WATCHDOG).expect("stops").status, 0);
    let t: u64 = (0..2).map(|i| control.stats(i).translations).sum();
    assert!(t >= 2, "retranslated after flushes: {t}");
}

/// A vCPU spins in a TB chained to itself; `invalidate_tb` must cut that chain so the vCPU
/// comes back to the loop, misses the cache and translates the block again.
#[test]
fn invalidate_tb_cuts_a_running_chain_jit() {
    let phys = new_phys();
    let cpu = Toy::new(
        0,
        &phys,
        PC_COUNT_CHAIN,
        count_then(u64::MAX, CpuAction::Continue),
    );
    let s = sched_on(vec![cpu], SchedMode::Mttcg, Be::Jit);
    let control = s.control();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(s.run());
    });
    let key = vcpu_sched::TbKey {
        pc: PC_COUNT_CHAIN,
        phys_pc: PC_COUNT_CHAIN,
        flags: 0,
    };
    let deadline = Instant::now() + WATCHDOG;
    let old = loop {
        if let Some(t) = control.tb_cache().lookup(&key) {
            break t;
        }
        assert!(Instant::now() < deadline, "never translated");
        std::thread::sleep(Duration::from_millis(1));
    };
    // Let it run chained for a while (no kicks: it never leaves on its own).
    let before = shared_word(&phys);
    std::thread::sleep(Duration::from_millis(20));
    assert!(shared_word(&phys) > before + 1000, "running chained");
    assert!(control.invalidate_tb(&key));
    assert!(old.is_invalid());
    let new = loop {
        if let Some(t) = control.tb_cache().lookup(&key) {
            break t;
        }
        if Instant::now() >= deadline {
            control.fatal("watchdog");
            panic!("the vCPU never left the invalidated chain");
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(!Arc::ptr_eq(&old, &new), "retranslated");
    control.shutdown(0);
    assert_eq!(rx.recv_timeout(WATCHDOG).expect("stops").status, 0);
}

/// The JIT, counting the profiling samples the loop reports.
struct Sampled {
    jit: Arc<dyn Backend>,
    samples: AtomicUsize,
    /// `Backend::wants_samples`: the scheduler's own periodic sampling.
    periodic: bool,
}

impl Backend for Sampled {
    fn name(&self) -> &'static str {
        "sampled"
    }
    fn compile(&self, func: &tcg_ir::Func) -> Result<Arc<dyn CompiledTb>, BackendError> {
        self.jit.compile(func)
    }
    fn reset(&self) {
        self.jit.reset()
    }
    fn chain(&self, from_exit: u64, target: &Arc<dyn CompiledTb>) -> bool {
        self.jit.chain(from_exit, target)
    }
    fn direct_entry(&self, tb: &dyn CompiledTb) -> Option<(u64, u64)> {
        self.jit.direct_entry(tb)
    }
    fn sample(&self, _tb: &dyn CompiledTb) -> bool {
        self.samples.fetch_add(1, Ordering::Relaxed);
        true
    }
    fn wants_samples(&self) -> bool {
        self.periodic
    }
    fn unchain(&self, tb: &dyn CompiledTb) {
        self.jit.unchain(tb)
    }
}

/// One vCPU looping forever in a TB chained to itself (the script, which runs only from
/// `tb_key`, never stops it), on the JIT wrapped in [`Sampled`].
fn looping_on_sampled(mode: SchedMode, periodic: bool) -> (Sched<Toy>, Arc<Sampled>) {
    let phys = new_phys();
    let cpu = Toy::new(
        0,
        &phys,
        PC_COUNT_CHAIN,
        Box::new(|_c: &mut Ctx| CpuAction::Continue),
    );
    let be = Arc::new(Sampled {
        jit: backend(Be::Jit),
        samples: AtomicUsize::new(0),
        periodic,
    });
    (Sched::new(vec![cpu], be.clone(), mode), be)
}

/// A vCPU looping in a TB chained to itself never returns to the loop by itself; each kick
/// stops it at that TB's entry, which the loop reports to the back end as a sample.
#[test]
fn exit_requests_in_chained_code_are_reported_as_samples() {
    for mode in BOTH {
        let (s, be) = looping_on_sampled(mode, false);
        let control = s.control();
        let kicker = std::thread::spawn(move || {
            for _ in 0..20 {
                std::thread::sleep(Duration::from_millis(5));
                control.kick(0);
            }
            control.shutdown(0);
        });
        let out = run_with_watchdog(s, WATCHDOG);
        kicker.join().unwrap();
        assert_eq!(out.status, 0, "{mode:?}: {:?}", out.message);
        let n = be.samples.load(Ordering::Relaxed);
        assert!(n >= 5, "{mode:?}: only {n} samples from 20 kicks");
    }
}

/// A back end that asks for samples gets them with MTTCG even when nothing else stops the
/// vCPU (a bare-metal loop without timer interrupts): the scheduler's sampling thread.
#[test]
fn a_back_end_that_wants_samples_gets_them_without_interrupts() {
    for periodic in [false, true] {
        let (s, be) = looping_on_sampled(SchedMode::Mttcg, periodic);
        let control = s.control();
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            control.shutdown(0);
        });
        let out = run_with_watchdog(s, WATCHDOG);
        stopper.join().unwrap();
        assert_eq!(out.status, 0, "{:?}", out.message);
        let n = be.samples.load(Ordering::Relaxed);
        if periodic {
            // 100 ms at one sample per 2 ms: ~50; a loaded host delays some.
            assert!(n >= 10, "only {n} samples in 100 ms");
        } else {
            // Only the shutdown's own exit request.
            assert!(n <= 1, "{n} samples without asking for them");
        }
    }
}
