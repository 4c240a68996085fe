//! The board's timer service: turns each CPU's generic timers (virtual and physical) into
//! GIC PPI levels, and wakes up at deadlines.
//!
//! The CPU reports every write to a timer's CTL/CVAL/TVAL through
//! [`TimerService::timer_changed`]; the service sets the PPI to the timer's output at once
//! and, if the output rises later, one host thread ([`TimerService::start`]) sleeps until
//! the earliest deadline and raises it then (which raises the CPU's IRQ line through the
//! GIC and kicks the vCPU). The same thread fires [`Alarm`]s: one-shot host-time callbacks
//! for devices (the PL031 match interrupt, the UART's deferred output flush).

use crate::gic::Gic;
use arm_cpu::timer::{self, Timer, TimerRegs};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where timer outputs go: PPI `intid` of `cpu`.
pub trait PpiSink: Send + Sync {
    fn set_ppi(&self, cpu: usize, intid: usize, level: bool);
}

impl PpiSink for Gic {
    fn set_ppi(&self, cpu: usize, intid: usize, level: bool) {
        Gic::set_ppi(self, cpu, intid, level);
    }
}

#[derive(Clone, Copy, Default)]
struct Slot {
    regs: TimerRegs,
    /// The level last driven onto the PPI.
    level: bool,
}

type Callback = Arc<dyn Fn() + Send + Sync>;

struct AlarmSlot {
    at: Option<Instant>,
    fire: Callback,
}

struct State {
    /// Per CPU: the virtual and the physical timer (indexed by `Timer as usize`).
    timers: Vec<[Slot; 2]>,
    alarms: Vec<AlarmSlot>,
    /// When the service thread will look again by itself (`None`: it waits for a change,
    /// or is not running).
    wakes_at: Option<Instant>,
    /// The thread is sleeping (it needs a notification to see an earlier deadline).
    sleeping: bool,
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    cv: Condvar,
    ppis: Arc<dyn PpiSink>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the thread if it sleeps past `at`.
    fn wake_for(&self, s: &State, at: Instant) {
        if s.sleeping && s.wakes_at.is_none_or(|w| at < w) {
            self.cv.notify_all();
        }
    }
}

/// The per-board timer service. Cheap to share (`Arc`).
pub struct TimerService {
    shared: Arc<Shared>,
}

impl TimerService {
    pub fn new(ncpus: usize, ppis: Arc<dyn PpiSink>) -> TimerService {
        TimerService {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    timers: vec![[Slot::default(); 2]; ncpus],
                    alarms: Vec::new(),
                    wakes_at: None,
                    sleeping: false,
                    stop: false,
                }),
                cv: Condvar::new(),
                ppis,
            }),
        }
    }

    /// The guest wrote CTL, CVAL or TVAL of `timer` on `cpu`: drive the PPI to the new
    /// output now, and make sure the thread wakes up for the new deadline.
    pub fn timer_changed(&self, cpu: usize, timer: Timer, regs: TimerRegs) {
        let sh = &*self.shared;
        let mut s = sh.lock();
        let Some(slot) = s.timers.get_mut(cpu).map(|t| &mut t[timer as usize]) else {
            return;
        };
        slot.regs = regs;
        let now = timer::now();
        let out = regs.output(now);
        if out != slot.level {
            slot.level = out;
            // Under the service lock: the thread cannot drive a stale level in between.
            sh.ppis.set_ppi(cpu, timer.intid(), out);
        }
        if let Some(deadline) = regs.deadline(now) {
            sh.wake_for(&s, Instant::now() + timer::until(deadline));
        }
    }

    /// The last state the CPU reported for `timer` of `cpu`.
    pub fn regs(&self, cpu: usize, timer: Timer) -> Option<TimerRegs> {
        let s = self.shared.lock();
        s.timers.get(cpu).map(|t| t[timer as usize].regs)
    }

    /// A one-shot alarm calling `fire` on the service thread when its time comes. The
    /// callback runs without the service lock held (it may take device locks and set
    /// alarms); it must tolerate running late or after the alarm was moved.
    pub fn alarm(&self, fire: impl Fn() + Send + Sync + 'static) -> Alarm {
        let mut s = self.shared.lock();
        s.alarms.push(AlarmSlot {
            at: None,
            fire: Arc::new(fire),
        });
        Alarm {
            shared: self.shared.clone(),
            index: s.alarms.len() - 1,
        }
    }

    /// Starts the service thread; it runs until the returned guard is dropped.
    pub fn start(&self) -> std::io::Result<TimerThread> {
        self.shared.lock().stop = false;
        let shared = self.shared.clone();
        let handle = std::thread::Builder::new()
            .name("virt-timers".into())
            .spawn(move || run(&shared))?;
        Ok(TimerThread {
            shared: self.shared.clone(),
            handle: Some(handle),
        })
    }
}

/// A device's one-shot host-time alarm (see [`TimerService::alarm`]).
pub struct Alarm {
    shared: Arc<Shared>,
    index: usize,
}

impl Alarm {
    /// Fires at `at` (replacing any earlier setting); `None` cancels.
    pub fn set(&self, at: Option<Instant>) {
        let sh = &*self.shared;
        let mut s = sh.lock();
        if let Some(a) = s.alarms.get_mut(self.index) {
            a.at = at;
        }
        if let Some(at) = at {
            sh.wake_for(&s, at);
        }
    }

    /// Fires `d` from now.
    pub fn set_in(&self, d: Duration) {
        self.set(Instant::now().checked_add(d));
    }
}

/// The running service thread; dropping it stops and joins the thread.
pub struct TimerThread {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for TimerThread {
    fn drop(&mut self) {
        {
            let mut s = self.shared.lock();
            s.stop = true;
            self.shared.cv.notify_all();
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The service thread: raise outputs whose deadline passed, fire due alarms, sleep until
/// the next deadline or a change.
fn run(sh: &Shared) {
    let mut s = sh.lock();
    loop {
        if s.stop {
            break;
        }
        let now = timer::now();
        let mut next: Option<Instant> = None;
        let mut earliest = |at: Instant| {
            if next.is_none_or(|n| at < n) {
                next = Some(at);
            }
        };
        let mut soonest_ticks: Option<u64> = None;
        for (cpu, timers) in s.timers.iter_mut().enumerate() {
            for t in Timer::ALL {
                let slot = &mut timers[t as usize];
                let out = slot.regs.output(now);
                if out != slot.level {
                    slot.level = out;
                    sh.ppis.set_ppi(cpu, t.intid(), out);
                }
                if let Some(d) = slot.regs.deadline(now) {
                    soonest_ticks = Some(soonest_ticks.map_or(d, |x| x.min(d)));
                }
            }
        }
        let instant = Instant::now();
        if let Some(d) = soonest_ticks {
            earliest(instant + timer::until(d));
        }
        let mut due: Vec<Callback> = Vec::new();
        for a in s.alarms.iter_mut() {
            match a.at {
                Some(at) if at <= instant => {
                    a.at = None;
                    due.push(a.fire.clone());
                }
                Some(at) => earliest(at),
                None => {}
            }
        }
        if !due.is_empty() {
            drop(s);
            for f in due {
                f();
            }
            s = sh.lock();
            continue;
        }
        s.wakes_at = next;
        s.sleeping = true;
        s = match next {
            Some(at) => {
                let d = at.saturating_duration_since(Instant::now());
                sh.cv
                    .wait_timeout(s, d)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => sh.cv.wait(s).unwrap_or_else(|e| e.into_inner()),
        };
        s.sleeping = false;
        s.wakes_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arm_cpu::sysregs::CNTFRQ_HZ;
    use arm_cpu::timer::{CTL_ENABLE, CTL_IMASK};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Records PPI levels and wakes waiters on every change.
    #[derive(Default)]
    struct Ppis {
        levels: Mutex<std::collections::HashMap<(usize, usize), bool>>,
        cv: Condvar,
    }

    impl PpiSink for Ppis {
        fn set_ppi(&self, cpu: usize, intid: usize, level: bool) {
            self.levels.lock().unwrap().insert((cpu, intid), level);
            self.cv.notify_all();
        }
    }

    impl Ppis {
        fn level(&self, cpu: usize, intid: usize) -> bool {
            *self
                .levels
                .lock()
                .unwrap()
                .get(&(cpu, intid))
                .unwrap_or(&false)
        }

        fn wait_for(&self, cpu: usize, intid: usize, level: bool, max: Duration) -> bool {
            let end = Instant::now() + max;
            let mut g = self.levels.lock().unwrap();
            loop {
                if *g.get(&(cpu, intid)).unwrap_or(&false) == level {
                    return true;
                }
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                g = self.cv.wait_timeout(g, left).unwrap().0;
            }
        }
    }

    fn ms(n: u64) -> u64 {
        CNTFRQ_HZ * n / 1000
    }

    #[test]
    fn a_near_deadline_raises_the_ppi_and_masking_lowers_it() {
        let ppis = Arc::new(Ppis::default());
        let svc = TimerService::new(2, ppis.clone());
        let _thread = svc.start().unwrap();
        let cval = timer::now() + ms(20);
        let armed = TimerRegs {
            ctl: CTL_ENABLE,
            cval,
        };
        let t0 = Instant::now();
        svc.timer_changed(1, Timer::Virt, armed);
        assert!(!ppis.level(1, 27), "not before the deadline");
        assert!(ppis.wait_for(1, 27, true, Duration::from_secs(5)));
        assert!(
            timer::now() >= cval && t0.elapsed() >= Duration::from_millis(15),
            "raised too early"
        );
        assert!(!ppis.level(0, 27) && !ppis.level(1, 30), "only that timer");
        // The guest's handler masks the timer: the output drops at once.
        svc.timer_changed(
            1,
            Timer::Virt,
            TimerRegs {
                ctl: CTL_ENABLE | CTL_IMASK,
                cval,
            },
        );
        assert!(!ppis.level(1, 27));
        // A deadline already passed raises at once, without the thread.
        svc.timer_changed(
            0,
            Timer::Phys,
            TimerRegs {
                ctl: CTL_ENABLE,
                cval: 0,
            },
        );
        assert!(ppis.level(0, 30));
        svc.timer_changed(0, Timer::Phys, TimerRegs { ctl: 0, cval: 0 });
        assert!(!ppis.level(0, 30), "disabling lowers it");
    }

    #[test]
    fn an_earlier_deadline_wakes_a_sleeping_thread() {
        let ppis = Arc::new(Ppis::default());
        let svc = TimerService::new(1, ppis.clone());
        let _thread = svc.start().unwrap();
        let far = TimerRegs {
            ctl: CTL_ENABLE,
            cval: timer::now() + ms(60_000),
        };
        svc.timer_changed(0, Timer::Phys, far);
        std::thread::sleep(Duration::from_millis(20)); // the thread sleeps for a minute
        let near = TimerRegs {
            ctl: CTL_ENABLE,
            cval: timer::now() + ms(10),
        };
        svc.timer_changed(0, Timer::Virt, near);
        assert!(ppis.wait_for(0, 27, true, Duration::from_secs(5)));
        assert!(!ppis.level(0, 30));
    }

    #[test]
    fn alarms_fire_once_and_the_thread_stops_with_its_guard() {
        let ppis = Arc::new(Ppis::default());
        let svc = TimerService::new(1, ppis);
        let fired = Arc::new(AtomicUsize::new(0));
        let f = fired.clone();
        let alarm = svc.alarm(move || {
            f.fetch_add(1, Ordering::SeqCst);
        });
        let thread = svc.start().unwrap();
        alarm.set_in(Duration::from_millis(10));
        let cancelled = svc.alarm(|| panic!("cancelled alarm fired"));
        cancelled.set_in(Duration::from_millis(30));
        cancelled.set(None);
        let end = Instant::now() + Duration::from_secs(5);
        while fired.load(Ordering::SeqCst) == 0 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(fired.load(Ordering::SeqCst), 1);
        let t0 = Instant::now();
        drop(thread);
        assert!(t0.elapsed() < Duration::from_secs(1), "stop is prompt");
    }
}
