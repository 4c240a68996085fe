//! The compile service: worker threads that promote hot TBs off the vCPU threads.
//!
//! A bounded queue of TBs waiting for the hot back end; a worker always takes the hottest
//! one (most cold runs so far, read when it picks), so a burst of new code does not delay
//! the loop that matters. When the queue is full a TB is refused and stays cold
//! (back-pressure). Workers run at a lower scheduling priority than vCPU threads and there
//! are at most [`MAX_WORKERS`], so they use idle host cores and never starve vCPUs when
//! vCPUs outnumber host cores.

use crate::TieredTb;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Upper bound on compile threads.
pub const MAX_WORKERS: usize = 4;
/// Default bound of the queue.
pub const DEFAULT_QUEUE_CAP: usize = 4096;
/// How much nicer worker threads are than the thread that started them (Linux).
const WORKER_NICE: i32 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Enqueued {
    Yes,
    Full,
}

#[derive(Default)]
struct Queue {
    tbs: Vec<Arc<TieredTb>>,
    stop: bool,
}

struct Inner {
    queue: Mutex<Queue>,
    /// Signalled when a TB is queued or the service stops.
    work: Condvar,
    /// Signalled when a worker finishes a TB (for `wait_idle`).
    done: Condvar,
    cap: usize,
    /// TBs taken by a worker and not finished yet.
    busy: AtomicUsize,
}

/// The worker threads; owned by the `Tiered` back end, whose drop stops them.
pub(crate) struct CompileService {
    handle: ServiceHandle,
    workers: Vec<JoinHandle<()>>,
    stopped: AtomicBool,
}

/// What TBs hold to queue themselves (it does not keep the workers alive).
#[derive(Clone)]
pub(crate) struct ServiceHandle {
    inner: Arc<Inner>,
    pub(crate) compiled: Arc<AtomicU64>,
    has_workers: bool,
}

fn lock(m: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CompileService {
    pub(crate) fn start(workers: usize, cap: usize) -> CompileService {
        let inner = Arc::new(Inner {
            queue: Mutex::new(Queue::default()),
            work: Condvar::new(),
            done: Condvar::new(),
            cap: cap.max(1),
            busy: AtomicUsize::new(0),
        });
        let compiled = Arc::new(AtomicU64::new(0));
        let handles = (0..workers.clamp(1, MAX_WORKERS))
            .filter_map(|i| {
                let inner = inner.clone();
                let compiled = compiled.clone();
                std::thread::Builder::new()
                    .name(format!("jit-worker-{i}"))
                    .spawn(move || worker(&inner, &compiled))
                    .ok()
            })
            .collect();
        let has_workers = !Vec::is_empty(&handles);
        CompileService {
            handle: ServiceHandle {
                inner,
                compiled,
                has_workers,
            },
            workers: handles,
            stopped: AtomicBool::new(false),
        }
    }

    pub(crate) fn handle(&self) -> ServiceHandle {
        self.handle.clone()
    }
}

impl ServiceHandle {
    /// Queues `tb` for promotion unless the queue is full (or no worker could start).
    pub(crate) fn enqueue(&self, tb: Arc<TieredTb>) -> Enqueued {
        if !self.has_workers {
            return Enqueued::Full;
        }
        let mut q = lock(&self.inner.queue);
        if q.tbs.len() >= self.inner.cap || q.stop {
            return Enqueued::Full;
        }
        q.tbs.push(tb);
        drop(q);
        self.inner.work.notify_one();
        Enqueued::Yes
    }

    /// Drops every queued TB (they stay cold; a TB being compiled finishes).
    pub(crate) fn clear(&self) {
        lock(&self.inner.queue).tbs.clear();
        self.inner.done.notify_all();
    }

    /// Blocks until the queue is empty and no worker is compiling.
    pub(crate) fn wait_idle(&self) {
        let mut q = lock(&self.inner.queue);
        while !q.tbs.is_empty() || self.inner.busy.load(Ordering::Acquire) != 0 {
            q = self.inner.done.wait(q).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for CompileService {
    fn drop(&mut self) {
        if self.stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        let inner = &self.handle.inner;
        {
            // Queued TBs hold the shared state that holds this queue: clearing it breaks
            // the cycle.
            let mut q = lock(&inner.queue);
            q.stop = true;
            q.tbs.clear();
        }
        inner.work.notify_all();
        inner.done.notify_all();
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}

fn worker(inner: &Inner, compiled: &AtomicU64) {
    lower_priority();
    loop {
        let tb = {
            let mut q = lock(&inner.queue);
            loop {
                if q.stop {
                    return;
                }
                if let Some(i) = hottest(&q.tbs) {
                    // Taken under the lock: `wait_idle` sees it as busy, not lost.
                    inner.busy.fetch_add(1, Ordering::AcqRel);
                    break q.tbs.swap_remove(i);
                }
                q = inner.work.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        // A vCPU may have stolen it meanwhile (see `TieredTb::request_promotion`).
        if tb.claim() {
            tb.promote();
        }
        if tb.hot.get().is_some() {
            compiled.fetch_add(1, Ordering::Relaxed);
        }
        drop(tb);
        let _q = lock(&inner.queue);
        inner.busy.fetch_sub(1, Ordering::AcqRel);
        inner.done.notify_all();
    }
}

/// Index of the queued TB with the most cold runs.
fn hottest(tbs: &[Arc<TieredTb>]) -> Option<usize> {
    tbs.iter()
        .enumerate()
        .max_by_key(|(_, t)| t.runs())
        .map(|(i, _)| i)
}

/// Makes the calling thread yield to vCPU threads (best effort).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread; no memory is passed.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        // A new thread starts with its creator's niceness (-1 can be a valid value; the
        // worst an error gives is a slightly different priority).
        let base = libc::getpriority(libc::PRIO_PROCESS, tid);
        libc::setpriority(libc::PRIO_PROCESS, tid, (base + WORKER_NICE).min(19));
    }
}
