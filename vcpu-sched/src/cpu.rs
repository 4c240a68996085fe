//! The contract between the execution loop and a guest CPU (which must not be A64-specific
//! here): translation keys, translation, exit handling, and what the CPU asks the loop to do.

use tcg_ir::Func;

/// What selects a translation: guest virtual PC, the physical address of the code, and
/// CPU-state flags that change how code translates (exception level, MMU on, ...).
///
/// For a CPU whose translations are position independent
/// ([`GuestCpu::PC_RELATIVE`]), a TB is identified by the physical pc and the flags
/// alone and serves every virtual address mapping that code (shared libraries in many
/// processes, under address-space randomisation); `pc` then only says where execution is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TbKey {
    pub pc: u64,
    pub phys_pc: u64,
    pub flags: u32,
}

impl TbKey {
    /// Set by the execution loop in `flags` while a debugger single-steps the vCPU (the
    /// CPU's own flags never use this bit): translate exactly one instruction, ignore
    /// breakpoints, and end the block without direct chaining or jump-cache lookups (see
    /// [`GuestCpu::translate_debug`]).
    pub const ONE_INSN: u32 = 1 << 31;

    /// Whether a TB translated for `self` is the one to run for `other`.
    #[inline]
    pub fn same_tb(&self, other: &TbKey, pc_relative: bool) -> bool {
        self.phys_pc == other.phys_pc
            && self.flags == other.flags
            && (pc_relative || self.pc == other.pc)
    }
}

/// A translated block before compilation.
pub struct Translation {
    pub func: Func,
    /// Guest bytes covered from the block's start (for invalidation by physical page
    /// later).
    pub size: u32,
    /// Guest bytes before the block's start that its translation read (the code a
    /// backward branch goes to, looked at for dead flags): covered too.
    pub before: u32,
    /// Guest instructions in the block (statistics).
    pub insns: u32,
}

/// A debugger event a TB exit produced (see [`crate::debug`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugExit {
    /// The block ended before the instruction at virtual address `pc` (now the vCPU's pc)
    /// because it was a breakpoint when translated.
    Breakpoint { pc: u64 },
    /// An access to `addr` hit a watchpoint of `kind`; nothing was accessed and the pc is
    /// at the accessing instruction.
    Watchpoint {
        kind: softmmu::watch::WatchKind,
        addr: u64,
    },
}

/// What the guest CPU asks the execution loop to do after handling an exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpuAction {
    /// Keep executing.
    Continue,
    /// WFI: sleep until `has_interrupt()` turns true or the vCPU is kicked.
    WaitForInterrupt,
    /// WFE: sleep until an event (SEV from any vCPU), an interrupt, or a kick.
    WaitForEvent,
    /// SEV: set the event register of every vCPU and wake those in WFE.
    SendEvent,
    /// This vCPU turns itself off (PSCI CPU_OFF); it runs again only when powered on.
    PowerOff,
    /// Stop the whole machine with this exit status (PSCI SYSTEM_OFF, reset, ...).
    Shutdown(i32),
    /// Stop the whole machine because of an error the user must see (exit status 1).
    Fatal(String),
    /// Report a debugger event: the machine stops (all vCPUs) if a debugger is attached.
    Debug(DebugExit),
}

/// A guest CPU the loop can run. The loop owns it (on its vCPU thread) and hands out
/// `&mut` only there; cross-thread requests arrive as queued work (see `Control`).
pub trait GuestCpu: Send + 'static {
    /// Translations do not depend on the virtual pc beyond its offset in the page: the
    /// code reads the pc it runs at from env (see [`TbKey`]). Default: false.
    const PC_RELATIVE: bool = false;

    /// Pointer to the `#[repr(C)]` environment generated code runs against (starts with
    /// `softmmu::EnvHead`). Stable for the CPU's life.
    fn env(&mut self) -> *mut u8;

    /// The key of the TB to run next. `Err` when fetching from the current PC faults; the
    /// CPU has then already recorded/taken the fault and the loop asks again (or, before
    /// exceptions exist, returns an action such as `Fatal`).
    fn tb_key(&mut self) -> Result<TbKey, CpuAction>;

    /// The key [`tb_key`](Self::tb_key) would return, when getting it needs no fault:
    /// takes no exception and leaves no recorded fault (for profiling samples, see
    /// `Backend::sample`). Default: `None`.
    fn peek_tb_key(&mut self) -> Option<TbKey> {
        None
    }

    /// Translates the block at `key` into IR (not yet optimised).
    fn translate(&mut self, key: &TbKey) -> Result<Translation, CpuAction>;

    /// Translates the block at `key` for a debugger: as [`translate`](Self::translate),
    /// but the block ends before any instruction whose virtual address (the pc it runs at
    /// as `key.pc` says) is in `breakpoints` (sorted), with an exit for which
    /// [`handle_exit`](Self::handle_exit) returns [`DebugExit::Breakpoint`] with the pc at
    /// that instruction; and with [`TbKey::ONE_INSN`] in `key.flags`, exactly one
    /// instruction, breakpoints ignored, ending without direct chaining or jump-cache
    /// lookups. Default: [`translate`](Self::translate) (no debugger support).
    fn translate_debug(
        &mut self,
        key: &TbKey,
        breakpoints: &[u64],
    ) -> Result<Translation, CpuAction> {
        let _ = breakpoints;
        self.translate(key)
    }

    /// Translates the block at `key` again from guest physical memory `phys`, on any
    /// thread and without the CPU: the same IR as [`translate`](Self::translate) gave for
    /// `key` if the guest bytes are unchanged, `None` if it cannot (then back ends keep
    /// their own copy of the IR). Default: `None`.
    fn retranslate(phys: &softmmu::PhysMap, key: &TbKey) -> Option<Func>
    where
        Self: Sized,
    {
        let _ = (phys, key);
        None
    }

    /// Handles a TB exit code other than GOTO_TB0/GOTO_TB1/LOOKUP/REQUESTED
    /// (i.e. `ExitCode::FAULT` and the guest-defined codes).
    fn handle_exit(&mut self, code: u64) -> CpuAction;

    /// An interrupt is pending and unmasked enough to end a WFI.
    fn has_interrupt(&self) -> bool {
        false
    }

    /// Deliver pending interrupts before the next TB (called when the loop sees an exit
    /// request). Default: nothing.
    fn service_interrupts(&mut self) {}

    /// Carries out `word`, a request another vCPU made with
    /// [`crate::Control::sync_others_deferrable`] while this one was outside generated
    /// code; called before this vCPU executes again. Requests must be idempotent (one may
    /// arrive both ways). Default: nothing.
    fn apply_deferred(&mut self, _word: u64) {}

    /// `-d in_asm`: appends the guest instructions of the TB at `key` (`size` bytes, as
    /// [`translate`](Self::translate) returned) to `out`, one line each (see
    /// [`crate::trace::in_asm_line`]). Default: nothing.
    fn disas(&self, key: &TbKey, size: u32, out: &mut String) {
        let _ = (key, size, out);
    }

    /// `-d cpu`: appends the register state to `out` (whole lines). Default: nothing.
    fn dump_state(&self, out: &mut String) {
        let _ = out;
    }
}
