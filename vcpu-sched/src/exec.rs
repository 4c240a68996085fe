//! The execution loop of one vCPU (TB lookup, translation, execution, exit handling) and
//! the two drivers around it: one thread per vCPU (MTTCG) and round-robin on one thread.

use crate::control::{Core, Shared, HALT_NONE, HALT_WFE, HALT_WFI, IDLE_POLL};
use crate::cpu::{CpuAction, DebugExit, GuestCpu, TbKey};
use crate::debug::{StopEvent, StopReason};
use crate::tb_cache::{JumpCache, PendingTranslation, Tb};
use crate::trace::{self, Items};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tcg_ir::{BackendError, ExitCode, IrSource};

/// A WFE with no event ends after this long anyway (architecturally allowed: the event
/// that a store clearing the exclusive monitor generates is not tracked).
pub(crate) const WFE_TIMEOUT: Duration = Duration::from_millis(1);

/// How a vCPU's stay in its execution region ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SliceEnd {
    /// Exit request (kick, work, time slice, exclusive section): back to the top.
    Requested,
    /// WFI/WFE: the vCPU sleeps.
    Halted,
    /// The vCPU turned itself off.
    PoweredOff,
    /// The machine is shutting down.
    Stopped,
}

/// State of one vCPU owned by the thread running it.
pub(crate) struct VcpuLocal {
    pub(crate) idx: usize,
    jc: JumpCache,
    tbs: u64,
    /// Loop entries after generated code missed the jump cache (`ExitCode::LOOKUP`) and
    /// after an unchained `goto_tb` exit.
    lookups: u64,
    gotos: u64,
    translations: u64,
    halted_at: Instant,
    /// Run the next instruction ignoring breakpoints (a breakpoint exit at an address
    /// that is no breakpoint: another virtual alias of the code).
    debug_skip: bool,
}

impl VcpuLocal {
    pub(crate) fn new(idx: usize, pcrel: bool) -> VcpuLocal {
        VcpuLocal {
            idx,
            jc: JumpCache::with_pc_relative(pcrel),
            tbs: 0,
            lookups: 0,
            gotos: 0,
            translations: 0,
            halted_at: Instant::now(),
            debug_skip: false,
        }
    }

    fn publish(&self, core: &Core) {
        let v = &core.vcpus[self.idx];
        v.stat_tbs.store(self.tbs, Ordering::Relaxed);
        v.stat_lookups.store(self.lookups, Ordering::Relaxed);
        v.stat_gotos.store(self.gotos, Ordering::Relaxed);
        v.stat_translations
            .store(self.translations, Ordering::Relaxed);
    }
}

/// Applies a CPU action; `Some` ends the slice.
fn act(core: &Core, l: &mut VcpuLocal, a: CpuAction) -> Option<SliceEnd> {
    let v = &core.vcpus[l.idx];
    match a {
        CpuAction::Continue => None,
        CpuAction::WaitForInterrupt => {
            v.wake.store(false, Ordering::Release);
            v.halt.store(HALT_WFI, Ordering::Release);
            l.halted_at = Instant::now();
            Some(SliceEnd::Halted)
        }
        CpuAction::WaitForEvent => {
            // An event that arrived before the WFE makes it return at once.
            if v.event.swap(false, Ordering::AcqRel) {
                None
            } else {
                v.wake.store(false, Ordering::Release);
                v.halt.store(HALT_WFE, Ordering::Release);
                l.halted_at = Instant::now();
                Some(SliceEnd::Halted)
            }
        }
        CpuAction::SendEvent => {
            core.send_event();
            None
        }
        CpuAction::PowerOff => {
            core.power_off(l.idx);
            Some(SliceEnd::PoweredOff)
        }
        CpuAction::Shutdown(status) => {
            core.request_shutdown(status, None);
            Some(SliceEnd::Stopped)
        }
        CpuAction::Fatal(msg) => {
            core.request_shutdown(1, Some(msg));
            Some(SliceEnd::Stopped)
        }
        CpuAction::Debug(d) => Some(debug_exit(core, l, d)),
    }
}

/// A breakpoint or watchpoint exit: stops the machine (see `crate::debug`), or steps over
/// a breakpoint exit at an address that is no breakpoint. Back to the loop top either way.
#[cold]
fn debug_exit(core: &Core, l: &mut VcpuLocal, d: DebugExit) -> SliceEnd {
    let reason = match d {
        DebugExit::Breakpoint { pc } => match core.debugger().and_then(|g| g.breakpoint_at(pc)) {
            Some(kind) => StopReason::Breakpoint(kind),
            None => {
                l.debug_skip = true;
                return SliceEnd::Requested;
            }
        },
        DebugExit::Watchpoint { kind, addr } => StopReason::Watch { kind, addr },
    };
    core.debug_stop(StopEvent { cpu: l.idx, reason });
    SliceEnd::Requested
}

/// Whether a halted vCPU may run again (ending its WFI/WFE if so). `None`: keep sleeping
/// at most this long before checking again.
fn try_unhalt<C: GuestCpu>(core: &Core, cpu: &C, l: &VcpuLocal) -> Result<(), Duration> {
    let v = &core.vcpus[l.idx];
    let wake = match v.halt.load(Ordering::Acquire) {
        HALT_NONE => return Ok(()),
        HALT_WFI => cpu.has_interrupt() || v.wake.swap(false, Ordering::AcqRel),
        _ => {
            let waited = l.halted_at.elapsed();
            if waited < WFE_TIMEOUT
                && !v.event.swap(false, Ordering::AcqRel)
                && !v.wake.swap(false, Ordering::AcqRel)
                && !cpu.has_interrupt()
            {
                return Err(WFE_TIMEOUT - waited);
            }
            true
        }
    };
    if wake {
        v.halt.store(HALT_NONE, Ordering::Release);
        Ok(())
    } else {
        Err(IDLE_POLL)
    }
}

/// A translation registered in the TB cache's page index (self-modifying code); cancels
/// the registration if dropped before `finish`.
struct Registered<'a> {
    core: &'a Core,
    phys: &'a softmmu::PhysMap,
    pending: Option<PendingTranslation>,
}

impl Registered<'_> {
    fn finish(mut self, tb: Arc<Tb>) -> Arc<Tb> {
        match self.pending.take() {
            Some(p) => self
                .core
                .tb_cache
                .finish_translation(p, tb, Some(self.phys))
                .tb(),
            None => tb,
        }
    }
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            self.core.tb_cache.cancel_translation(p, Some(self.phys));
        }
    }
}

/// A TB's IR, translated again from guest memory (for the tiered back end's promotion).
struct Retranslate<C> {
    phys: Arc<softmmu::PhysMap>,
    key: TbKey,
    cpu: std::marker::PhantomData<fn() -> C>,
}

impl<C: GuestCpu> IrSource for Retranslate<C> {
    fn ir(&self) -> Option<tcg_ir::Func> {
        let mut f = C::retranslate(&self.phys, &self.key)?;
        tcg_opt::optimize(&mut f);
        Some(f)
    }
}

/// The runs of consecutive instructions a TB's IR translates, from its `insn_start`s
/// (addresses as translated, 4-byte instructions): `(start, bytes)`, the TB's start first.
fn insn_runs(func: &tcg_ir::Func) -> Vec<(u64, u32)> {
    let mut runs: Vec<(u64, u32)> = Vec::new();
    for op in func.ops.iter().filter(|o| o.opc == tcg_ir::Opc::InsnStart) {
        let Some(&pc) = op.cargs.first() else {
            continue;
        };
        match runs.last_mut() {
            Some((s, n)) if s.wrapping_add(*n as u64) == pc => *n += 4,
            _ => runs.push((pc, 4)),
        }
    }
    runs
}

/// Finds the TB for `key` in the global cache or translates, optimises, compiles and
/// inserts it.
///
/// SELF-MODIFYING CODE (once `Sched::attach_phys` was called): before the guest code is
/// read, the translation is registered in the TB cache's page index and the page is
/// marked as code in the `PhysMap`, which (the first time) sets `TLB_NOTDIRTY` in every
/// vCPU's TLB write entries for it; from then on every store to the page goes through the
/// softmmu slow path and invalidates the TBs it overlaps. A store that lands while this
/// translation runs marks it stale: the TB is then returned invalid (run once, never
/// cached). See `tb_cache` for the protocol.
fn find_or_translate<C: GuestCpu>(
    core: &Core,
    cpu: &mut C,
    key: &TbKey,
    l: &mut VcpuLocal,
) -> Result<Arc<Tb>, CpuAction> {
    if let Some(tb) = core.tb_cache.lookup(key) {
        return Ok(tb);
    }
    let reg = core.phys.get().map(|phys| {
        let pending = core.tb_cache.begin_translation(key.phys_pc);
        phys.mark_code(key.phys_pc, |page| core.protect_code_page(page));
        Registered {
            core,
            phys,
            pending: Some(pending),
        }
    });
    // With a debugger: breakpoints end blocks, and one-instruction blocks for stepping.
    let breakpoints = core.debugger().and_then(|d| d.translation_breakpoints());
    let debug = breakpoints.is_some() || key.flags & TbKey::ONE_INSN != 0;
    let t = if debug {
        cpu.translate_debug(key, breakpoints.as_deref().unwrap_or_default())?
    } else {
        cpu.translate(key)?
    };
    let mut func = t.func;
    let trace = trace::enabled(Items::TRANSLATION);
    let mut log = String::new();
    if let Some(tr) = trace {
        if tr.has(Items::IN_ASM) {
            trace::in_asm_header(&mut log, l.idx, key);
            // Each run of consecutive instructions (a block may go on after a branch),
            // placed by its distance from the first.
            let runs = insn_runs(&func);
            let first = runs.first().map_or(0, |r| r.0);
            for (start, bytes) in runs {
                let d = start.wrapping_sub(first);
                let at = TbKey {
                    pc: key.pc.wrapping_add(d),
                    phys_pc: key.phys_pc.wrapping_add(d),
                    ..*key
                };
                cpu.disas(&at, bytes, &mut log);
            }
            log.push('\n');
        }
        if tr.has(Items::OP) {
            trace::ir_block(&mut log, "OP", &func);
        }
    }
    tcg_opt::optimize(&mut func);
    if trace.is_some_and(|tr| tr.has(Items::OP_OPT)) {
        trace::ir_block(&mut log, "OP after optimization", &func);
    }
    let generation = core.tb_cache.generation();
    // Retranslation does not know the debugger's state: the back end keeps this IR.
    let source = core.phys.get().filter(|_| !debug).map(|phys| {
        Arc::new(Retranslate::<C> {
            phys: phys.clone(),
            key: *key,
            cpu: std::marker::PhantomData,
        }) as Arc<dyn IrSource>
    });
    let code = match core.backend.compile_with_source(&func, source.clone()) {
        Ok(c) => c,
        Err(BackendError::CodeFull) => {
            // Flush everything and retry once. Another vCPU may have flushed meanwhile:
            // then the generation moved and one flush is enough.
            core.exclusive(|| {
                if core.tb_cache.generation() == generation {
                    core.tb_cache.flush();
                    core.backend.reset();
                }
            });
            core.backend
                .compile_with_source(&func, source)
                .map_err(|e| {
                    CpuAction::Fatal(format!("TB at pc {:#x} after a code flush: {e}", key.pc))
                })?
        }
        Err(e) => return Err(CpuAction::Fatal(format!("TB at pc {:#x}: {e}", key.pc))),
    };
    l.translations += 1;
    if let Some(tr) = trace {
        if tr.has(Items::OUT_ASM) {
            if let Some(host) = code.host_code() {
                trace::out_asm_block(&mut log, Some(key.pc), "", host);
            }
        }
        tr.write(&log);
    }
    let host_pc = core
        .phys
        .get()
        .and_then(|p| p.ram_ptr(softmmu::PhysAddr(key.phys_pc), 4))
        .map_or(0, |p| p as u64);
    func.recycle();
    let tb = Arc::new(
        Tb::new(*key, code, t.size, t.insns)
            .with_host_pc(host_pc)
            .with_before(t.before),
    );
    Ok(match reg {
        Some(r) => r.finish(tb),
        None => core.tb_cache.insert(tb).tb(),
    })
}

/// Runs vCPU `l.idx` from the current state until it must go back to the top of its
/// loop. The caller has cleared the exit request and run the queued work.
pub(crate) fn run_slice<C: GuestCpu>(core: &Core, cpu: &mut C, l: &mut VcpuLocal) -> SliceEnd {
    let env = cpu.env();
    if env as *const softmmu::EnvHead != core.env_ptr(l.idx) {
        core.request_shutdown(
            1,
            Some(format!(
                "vCPU {}: GuestCpu::env() moved (it must be stable)",
                l.idx
            )),
        );
        return SliceEnd::Stopped;
    }
    // SAFETY: `env` starts with `EnvHead` (the `GuestCpu::env` contract) and lives as long
    // as `cpu`, which we borrow for the whole slice; only its atomic field is referenced.
    let exit_request: &AtomicU32 =
        unsafe { &*std::ptr::addr_of!((*(env as *const softmmu::EnvHead)).exit_request) };
    core.exec_start(l.idx);
    for word in core.take_deferred(l.idx) {
        cpu.apply_deferred(word);
    }
    let stepping = core.debugger().is_some_and(|d| d.stepping(l.idx));
    let end = if stepping || l.debug_skip {
        debug_step(core, cpu, l, env, exit_request, stepping)
    } else {
        cpu.service_interrupts();
        exec_tbs(core, cpu, l, env, exit_request)
    };
    core.exec_end(l.idx);
    l.publish(core);
    end
}

/// PROFILING: generated code stopped for an exit request (a timer interrupt, a kick) at
/// the entry of the TB at the vCPU's pc, so that TB is a sample of where guest time goes:
/// tell the back end (the tiered one promotes hot TBs by these samples).
#[cold]
fn sample<C: GuestCpu>(core: &Core, cpu: &mut C, l: &VcpuLocal) {
    let Some(key) = cpu.peek_tb_key() else {
        return;
    };
    let tb = match l.jc.lookup(&key) {
        Some(tb) => Some(tb.clone()),
        None => core.tb_cache.lookup(&key),
    };
    if let Some(tb) = tb {
        let useful = core.backend.sample(&*tb.code);
        core.sampled(l.idx, useful);
    }
}

/// CHAINING: patches the exit `from` (a chainable `goto_tb` exit value returned while the
/// TB cache was at generation `generation`) to jump straight to `next` from now on.
///
/// Only when the cache was not flushed since (a flush may have dropped the exiting TB, and
/// its code may be reset) and `next` is still valid (an invalidated TB must never become a
/// chain target; the back end also refuses targets it has `unchain`ed, which closes the
/// race with a concurrent invalidation). The back end checks the rest itself: both TBs
/// its own, same code generation, same guest page, the exiting TB not unchained.
#[inline]
fn try_chain(core: &Core, from: u64, generation: u64, next: &Tb) {
    if core.tb_cache.generation() == generation && !next.is_invalid() {
        core.backend.chain(from, &next.code);
    }
}

/// After generated code missed the env's jump cache for `k`: lets it find `tb` there next
/// time, if the back end can enter `tb` from other TBs.
#[inline]
fn fill_jmp(core: &Core, head: *mut softmmu::EnvHead, k: &TbKey, tb: &Tb) {
    if tb.is_invalid() || tb.host_pc == 0 {
        return;
    }
    if let Some((code, aux)) = tb.direct_entry(&*core.backend) {
        // SAFETY: `head` is the running vCPU's own env (exec_tbs' contract), not borrowed
        // elsewhere during this call.
        unsafe { (*head).fill_jmp(k.pc, tb.host_pc, k.flags, code, aux) };
    }
}

/// The hot loop: key -> jump cache -> exec, until something ends the slice.
///
/// TBs run through [`tcg_ir::CompiledTb::exec_chained`]: once the back end has chained a
/// `goto_tb` exit, one call may run many TBs (each still checks the exit request on
/// entry), so `tbs` counts entries from this loop, not TBs executed.
fn exec_tbs<C: GuestCpu>(
    core: &Core,
    cpu: &mut C,
    l: &mut VcpuLocal,
    env: *mut u8,
    exit_request: &AtomicU32,
) -> SliceEnd {
    // A chainable exit of the previous TB and the cache generation it was entered at.
    let mut chain_from: Option<(u64, u64)> = None;
    // The previous TB left through a jump-cache miss (`ExitCode::LOOKUP`).
    let mut missed = false;
    let head = env as *mut softmmu::EnvHead;
    // Read once per slice: with tracing off, one well-predicted branch per TB entered.
    let entry_log = trace::enabled(Items::ENTRY);
    // NOCHAIN: no direct chaining and no filling of the env's jump cache, so every TB
    // returns here (and is logged).
    let chaining = !trace::get().is_some_and(|t| t.has(Items::NOCHAIN));
    loop {
        let pending = chain_from.take();
        let fill = std::mem::take(&mut missed);
        if exit_request.load(Ordering::Relaxed) != 0 {
            // Also a sample: when hot code exits to cold code (no chaining between tiers),
            // the request is seen here rather than at a TB's entry.
            sample(core, cpu, l);
            return SliceEnd::Requested;
        }
        let key = match cpu.tb_key() {
            Ok(k) => k,
            Err(a) => match act(core, l, a) {
                None => continue,
                Some(end) => return end,
            },
        };
        if l.jc.sync(&core.tb_cache) {
            // SAFETY: `env` is this CPU's env (see below), not otherwise referenced here;
            // the jump cache in it names code of the flushed generation.
            unsafe { (*head).clear_jmp() };
        }
        let generation = l.jc.generation();
        let (code, entered_valid) = if let Some(tb) = l.jc.lookup(&key) {
            if let Some((from, g)) = pending {
                try_chain(core, from, g, tb);
            }
            if fill {
                fill_jmp(core, head, &key, tb);
            }
            if let Some(tr) = entry_log {
                log_entry(tr, &*cpu, l.idx, &key, &*tb.code);
            }
            // SAFETY: `env` is this CPU's environment (checked against the pointer captured
            // at construction), live for the CPU's life, and this thread holds `&mut` to the
            // CPU, so no other thread uses it during the call (kicks only store to the
            // atomic `exit_request`). The TB was compiled from IR this machine's `GuestCpu`
            // type produced, i.e. for this env layout, and the `Arc` in the jump cache
            // keeps its code alive for the call; a flush that resets the back end happens
            // only in an exclusive section, which waits until we leave this region. TBs
            // chained from this one are of the same code generation (the back end checks),
            // so the `Arc` keeps their code alive too.
            let code = unsafe { tb.code.exec_chained(env) };
            (code, ExitCode::is_goto_tb(code) && !tb.is_invalid())
        } else {
            let tb = match find_or_translate(core, cpu, &key, l) {
                Ok(tb) => tb,
                Err(a) => match act(core, l, a) {
                    None => continue,
                    Some(end) => return end,
                },
            };
            l.jc.insert(key.pc, tb.clone());
            if let Some((from, g)) = pending {
                try_chain(core, from, g, &tb);
            }
            if fill {
                fill_jmp(core, head, &key, &tb);
            }
            if let Some(tr) = entry_log {
                log_entry(tr, &*cpu, l.idx, &key, &*tb.code);
            }
            // SAFETY: as above; `tb` is kept alive by the local `Arc`.
            let code = unsafe { tb.code.exec_chained(env) };
            (code, ExitCode::is_goto_tb(code) && !tb.is_invalid())
        };
        l.tbs += 1;
        if ExitCode::is_goto_tb(code) {
            l.gotos += 1;
            // CHAINING: the exit slot named by `code` (a JIT TB's chainable exit value;
            // plain GOTO_TB0/1 from the interpreter) gets patched to the next TB once the
            // next iteration has looked it up, so later runs skip this loop entirely. Not
            // when the TB we entered was invalidated meanwhile.
            if code & ExitCode::CHAIN_BIT != 0 && entered_valid && chaining {
                chain_from = Some((code, generation));
            }
            continue;
        }
        match code {
            ExitCode::LOOKUP => {
                l.lookups += 1;
                missed = chaining;
            }
            ExitCode::REQUESTED => {
                sample(core, cpu, l);
                return SliceEnd::Requested;
            }
            _ => {
                if let Some(end) = act(core, l, cpu.handle_exit(code)) {
                    return end;
                }
            }
        }
    }
}

/// Runs one guest instruction (a [`TbKey::ONE_INSN`] block) for a debugger, with
/// interrupts held off and WFI/WFE as no-ops (both architecturally allowed), then reports
/// the step if `report` (else it only stepped over a breakpoint exit, see `debug_exit`).
/// An exception the instruction raises is taken: the step ends at its vector.
#[cold]
fn debug_step<C: GuestCpu>(
    core: &Core,
    cpu: &mut C,
    l: &mut VcpuLocal,
    env: *mut u8,
    exit_request: &AtomicU32,
    report: bool,
) -> SliceEnd {
    if exit_request.load(Ordering::Relaxed) != 0 {
        return SliceEnd::Requested;
    }
    let ran = match cpu.tb_key() {
        // A fetch fault was taken: the step ends at the vector.
        Err(a) => act(core, l, a),
        Ok(mut key) => {
            key.flags |= TbKey::ONE_INSN;
            match find_or_translate(core, cpu, &key, l) {
                Err(a) => act(core, l, a),
                Ok(tb) => {
                    if let Some(tr) = trace::enabled(Items::ENTRY) {
                        log_entry(tr, &*cpu, l.idx, &key, &*tb.code);
                    }
                    // SAFETY: as in `exec_tbs`; a one-instruction TB has no chainable
                    // exits, so `exec` runs this TB only.
                    let code = unsafe { tb.code.exec(env) };
                    l.tbs += 1;
                    match code {
                        // Nothing ran: try again after the loop top.
                        ExitCode::REQUESTED => return SliceEnd::Requested,
                        c if ExitCode::is_goto_tb(c) || c == ExitCode::LOOKUP => None,
                        c => match cpu.handle_exit(c) {
                            CpuAction::WaitForInterrupt | CpuAction::WaitForEvent => None,
                            a => act(core, l, a),
                        },
                    }
                }
            }
        }
    };
    l.debug_skip = false;
    match ran {
        // A watchpoint (reported already), a shutdown, a power-off.
        Some(end) if end != SliceEnd::Requested => return end,
        _ => {}
    }
    if report && core.debugger().is_some_and(|d| d.stepping(l.idx)) {
        core.debug_stop(StopEvent {
            cpu: l.idx,
            reason: StopReason::Step,
        });
    }
    SliceEnd::Requested
}

/// `-d exec` / `-d cpu`: vCPU `idx` is about to enter the TB at `key`.
#[cold]
fn log_entry<C: GuestCpu>(
    tr: &trace::Tracer,
    cpu: &C,
    idx: usize,
    key: &TbKey,
    code: &dyn tcg_ir::CompiledTb,
) {
    let mut s = String::new();
    if tr.has(Items::EXEC) {
        let host = code.host_code().map(|c| c.as_ptr() as u64);
        trace::exec_line(&mut s, idx, key, host);
    }
    if tr.has(Items::CPU) {
        cpu.dump_state(&mut s);
    }
    tr.write(&s);
}

/// The thread of one vCPU in MTTCG mode.
pub(crate) fn mttcg_thread<C: GuestCpu>(shared: &Shared<C>, cpu: &mut C, idx: usize) {
    let core = &*shared.core;
    core.enter_thread(idx);
    let mut l = VcpuLocal::new(idx, C::PC_RELATIVE);
    let parker = core.vcpus[idx].parker.clone();
    loop {
        if core.is_shutdown() {
            break;
        }
        // Clear first: a kick after this point is not lost.
        core.clear_exit_request(idx);
        shared.run_work(idx, cpu);
        if core.is_shutdown() {
            break;
        }
        if !core.is_on(idx) || core.debug_held(idx) {
            parker.park_timeout(IDLE_POLL);
            continue;
        }
        if let Err(d) = try_unhalt(core, cpu, &l) {
            parker.park_timeout(d);
            continue;
        }
        if !core.pending_sync_done() {
            parker.park_timeout(IDLE_POLL);
            continue;
        }
        if run_slice(core, cpu, &mut l) == SliceEnd::Stopped {
            break;
        }
    }
    l.publish(core);
    core.leave_thread();
}

/// The one thread of round-robin mode.
pub(crate) fn rr_thread<C: GuestCpu>(shared: &Shared<C>, cpus: &mut [C]) {
    let core = &*shared.core;
    let n = cpus.len();
    core.enter_thread(0);
    let mut locals: Vec<VcpuLocal> = (0..n).map(|i| VcpuLocal::new(i, C::PC_RELATIVE)).collect();
    let parker = core.vcpus[0].parker.clone(); // shared by all vCPUs in this mode
    let mut cur = 0;
    'top: loop {
        if core.is_shutdown() {
            break;
        }
        // One thread owns every CPU: run everybody's queued work now (so synced requests
        // complete here, whoever issued them).
        for (i, cpu) in cpus.iter_mut().enumerate() {
            core.clear_exit_request(i);
            core.set_current(i);
            shared.run_work(i, cpu);
        }
        if core.is_shutdown() {
            break;
        }
        let mut sleep = IDLE_POLL;
        let mut pick = None;
        for k in 0..n {
            let i = (cur + k) % n;
            if !core.is_on(i) || core.debug_held(i) {
                continue;
            }
            match try_unhalt(core, &cpus[i], &locals[i]) {
                Ok(()) => {
                    pick = Some(i);
                    break;
                }
                Err(d) => sleep = sleep.min(d),
            }
        }
        let Some(i) = pick else {
            core.rr_current.store(usize::MAX, Ordering::Release);
            parker.park_timeout(sleep);
            continue 'top;
        };
        cur = i;
        core.set_current(cur);
        if !core.pending_sync_done() {
            continue 'top; // work queued after the drain above: run it first
        }
        core.rr_current.store(cur, Ordering::Release);
        core.rr_slice_expired.store(false, Ordering::Release);
        let end = run_slice(core, &mut cpus[cur], &mut locals[cur]);
        match end {
            SliceEnd::Requested => {
                if core.rr_slice_expired.swap(false, Ordering::AcqRel) {
                    cur = (cur + 1) % n;
                }
            }
            SliceEnd::Halted | SliceEnd::PoweredOff => cur = (cur + 1) % n,
            SliceEnd::Stopped => break,
        }
    }
    core.rr_current.store(usize::MAX, Ordering::Release);
    core.leave_thread();
}
