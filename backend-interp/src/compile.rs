//! IR -> interpreter program, in linear passes with reused scratch buffers.
//!
//! * Every temp an emitted instruction names gets a frame slot: globals are loaded into
//!   theirs at TB entry (except those the straight-line prefix writes before anything can
//!   read or leave, as in the JIT) and the written ones are stored back at every exit, on
//!   the fault exit and around helper calls as `HelperFlags` says; `ld_env`/`st_env` and
//!   vector ops sync the globals they overlap. Constants become immediates where an
//!   instruction has an immediate form, else slots initialised at entry.
//! * The translator's NZCV idioms (64-bit SUBS/ADDS, the 32-bit add-with-carry flags,
//!   logical flags, the GT test) and `add` + guest memory op are fused when the
//!   intermediate temps are used nowhere else; anything else runs op by op.
//! * Locals that a use may see undefined (used in another block than their last
//!   definition, or before it) are zeroed at entry, so results never depend on an earlier
//!   TB's frame.

use crate::insn::{AtomicInfo, CallInfo, Cc, Insn, VecInfo, S};
use std::cell::RefCell;
use tcg_ir::opcodes::OpFlags;
use tcg_ir::vector::{self, VEC_BYTES};
use tcg_ir::{
    BackendError, BarrierFlags, Cond, Func, Helper, HelperFlags, MemOp, Op, Opc, RmwOp, Temp,
    TempKind, Type,
};

const NONE: u32 = u32::MAX;

/// A global's home in env, packed for the entry/exit lists: `slot | wide << 16 | off << 32`.
#[derive(Clone, Copy)]
pub(crate) struct GSlot(pub u64);

impl GSlot {
    fn new(slot: S, wide: bool, off: u32) -> GSlot {
        GSlot(slot as u64 | (wide as u64) << 16 | (off as u64) << 32)
    }
    #[inline(always)]
    pub fn slot(self) -> usize {
        self.0 as u16 as usize
    }
    #[inline(always)]
    pub fn wide(self) -> bool {
        self.0 & 1 << 16 != 0
    }
    #[inline(always)]
    pub fn off(self) -> usize {
        (self.0 >> 32) as usize
    }
}

/// A compiled TB's program and tables.
#[derive(Debug, Default)]
pub(crate) struct Program {
    pub prog: Box<[Insn]>,
    /// Packed lists, see the ranges below: `GSlot`s, then (slot, value) init pairs.
    pub meta: Box<[u64]>,
    /// Globals loaded at entry.
    pub gload: (u32, u32),
    /// Every used global (reloaded after helpers that may write globals).
    pub gall: (u32, u32),
    /// (start, count) of the store-list table: `lo | hi << 32` ranges of `GSlot`s, one
    /// per exit/sync point kind (the globals maybe written there).
    pub lists: (u32, u32),
    /// Slot initialisations at entry: constants in slots and possibly-undefined locals.
    pub inits: (u32, u32),
    /// Guest pc of each `insn_start`, for memory slow paths.
    pub pcs: Box<[u64]>,
    pub calls: Box<[CallInfo]>,
    pub vecs: Box<[VecInfo]>,
    pub atomics: Box<[AtomicInfo]>,
    pub nslots: u32,
    pub first_pc: Option<u64>,
    /// Guest instructions (`insn_start`s).
    pub ninsns: u32,
    /// Has `goto_tb` exits (their exit values name the TB, so it can be chained from).
    pub chainable: bool,
    /// `goto_tb` slots that continue at this TB's own start (`Func::self_loops`).
    pub self_loops: u8,
}

impl Program {
    #[inline(always)]
    pub fn list(&self, r: (u32, u32)) -> &[u64] {
        self.meta.get(r.0 as usize..r.1 as usize).unwrap_or(&[])
    }

    /// The globals store list `sl` writes back.
    #[inline(always)]
    pub fn store_list(&self, sl: u16) -> &[u64] {
        let e = self
            .meta
            .get(self.lists.0 as usize + sl as usize)
            .copied()
            .unwrap_or(0);
        self.list((e as u32, (e >> 32) as u32))
    }

    pub fn size(&self) -> usize {
        std::mem::size_of_val(&*self.prog)
            + std::mem::size_of_val(&*self.meta)
            + std::mem::size_of_val(&*self.pcs)
            + std::mem::size_of_val(&*self.calls)
            + std::mem::size_of_val(&*self.vecs)
            + std::mem::size_of_val(&*self.atomics)
    }
}

fn invalid(m: impl Into<String>) -> BackendError {
    BackendError::Invalid(m.into())
}

/// The type a pure unary op is evaluated at: its input's type. The `ext*_i32_i64` /
/// `extr*_i64_i32` conversions carry no reliable `op.ty` (the builder and the parser set
/// it differently), and `semantics::eval_unary` masks the input with the type it is given.
pub fn unary_eval_type(op: &Op) -> Type {
    match op.opc {
        Opc::ExtuI32I64 | Opc::ExtsI32I64 => Type::I32,
        Opc::ExtrlI64I32 | Opc::ExtrhI64I32 => Type::I64,
        _ => op.ty,
    }
}

/// Per-thread buffers reused across compilations (no allocation per TB beyond the result).
#[derive(Default)]
struct Scratch {
    slot: Vec<u32>,
    uses: Vec<u32>,
    defs: Vec<u32>,
    /// 1: read first in the straight-line prefix, 2: written first there.
    first: Vec<u8>,
    /// Block number (+1) of the last definition of a local, for the zero-init analysis.
    defblock: Vec<u32>,
    zero: Vec<bool>,
    /// Per temp: the op that (last) defines it, the last op that reads it.
    defpos: Vec<u32>,
    lastuse: Vec<u32>,
    firstuse: Vec<u32>,
    /// Per temp: the global a local was coalesced into (`op t; mov G, t` -> `op G`).
    rename: Vec<u32>,
    /// Per op: dropped by coalescing (or moved: see `sunk`).
    skip: Vec<bool>,
    /// Per op: the (pure) op emitted here instead, moved down by coalescing.
    sunk: Vec<u32>,
    /// Per op: an `ext32u` of a value already zero-extended (a move).
    ident: Vec<bool>,
    /// Per temp: block stamp while its current value is known zero-extended from 32 bits.
    zx: Vec<u32>,
    /// Per temp: dense index of a used global (for the bit sets below), else NONE.
    gidx: Vec<u32>,
    /// The used globals (by dense index): scans visit these, not every temp.
    gl: Vec<u32>,
    /// Per op: the store list of its exit or sync point.
    sl_of: Vec<u16>,
    /// Distinct store sets (bit per dense global index); index = store list id.
    lists: Vec<u128>,
    /// Per label: merged (definitely written, maybe written) of the branches to it.
    label_in: Vec<Option<(u128, u128)>>,
    label_seen: Vec<bool>,
    /// Per label: branches to it.
    label_refs: Vec<u32>,
    label_pos: Vec<u32>,
    prog: Vec<Insn>,
    globals: Vec<u32>,
    inits: Vec<(S, u64)>,
    pcs: Vec<u64>,
    calls: Vec<CallInfo>,
    vecs: Vec<VecInfo>,
    atomics: Vec<AtomicInfo>,
    meta: Vec<u64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Compiles verified IR.
pub(crate) fn compile(func: &Func) -> Result<Program, BackendError> {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => Compiler::new(func, &mut s).run(),
        Err(_) => Compiler::new(func, &mut Scratch::default()).run(),
    })
}

struct Compiler<'a> {
    f: &'a Func,
    s: &'a mut Scratch,
    nslots: u32,
    /// First slot of the NZCV globals when the TB has all four (`nf zf cf vf`).
    flags: Option<[Temp; 4]>,
    pcx: u16,
    goto_seen: [bool; 2],
    /// Globals (dense bits) to load at entry, when the precise analysis applies.
    need: Option<u128>,
}

impl<'a> Compiler<'a> {
    fn new(f: &'a Func, s: &'a mut Scratch) -> Compiler<'a> {
        let n = f.temps.len();
        for v in [&mut s.slot, &mut s.uses, &mut s.defs, &mut s.defblock] {
            v.clear();
            v.resize(n, 0);
        }
        s.slot.fill(NONE);
        s.first.clear();
        s.first.resize(n, 0);
        s.zero.clear();
        s.zero.resize(n, false);
        for v in [
            &mut s.defpos,
            &mut s.lastuse,
            &mut s.firstuse,
            &mut s.rename,
            &mut s.gidx,
        ] {
            v.clear();
            v.resize(n, NONE);
        }
        s.skip.clear();
        s.skip.resize(f.ops.len(), false);
        s.sunk.clear();
        s.sunk.resize(f.ops.len(), NONE);
        s.ident.clear();
        s.ident.resize(f.ops.len(), false);
        s.zx.clear();
        s.zx.resize(n, 0);
        s.gl.clear();
        s.sl_of.clear();
        s.sl_of.resize(f.ops.len(), 0);
        s.lists.clear();
        s.label_in.clear();
        s.label_in.resize(f.nb_labels as usize, None);
        s.label_seen.clear();
        s.label_seen.resize(f.nb_labels as usize, false);
        s.label_refs.clear();
        s.label_refs.resize(f.nb_labels as usize, 0);
        s.label_pos.clear();
        s.label_pos.resize(f.nb_labels as usize, NONE);
        s.prog.clear();
        s.globals.clear();
        s.inits.clear();
        s.pcs.clear();
        s.calls.clear();
        s.vecs.clear();
        s.atomics.clear();
        s.meta.clear();
        Compiler {
            f,
            s,
            nslots: 0,
            flags: None,
            pcx: 0,
            goto_seen: [false; 2],
            need: None,
        }
    }

    fn run(mut self) -> Result<Program, BackendError> {
        self.count();
        self.find_flags();
        self.zext();
        self.coalesce();
        self.analyse();
        if let Some(fl) = self.flags {
            for t in fl {
                self.new_slot(t)?;
            }
        }
        // Every used global has its slot from the start, so env syncs see all of them.
        for k in 0..self.s.gl.len() {
            let i = self.s.gl[k] as usize;
            if self.s.slot[i] == NONE {
                self.new_slot(Temp(i as u32))?;
            }
        }
        let f = self.f;
        let ops = &f.ops;
        let mut i = 0;
        while i < ops.len() {
            i += self.op_at(i)?;
        }
        // Never reached with verified IR (the last op is `br` or `exit_tb`); keeps every
        // instruction index in bounds for the run loop.
        // It stores nothing: unreachable, so no list can be right or wrong.
        let empty = match self.s.lists.iter().position(|&x| x == 0) {
            Some(p) => p,
            None => {
                self.s.lists.push(0);
                self.s.lists.len() - 1
            }
        };
        self.s.prog.push(Insn::Exit {
            chainable: false,
            sl: u16::try_from(empty).unwrap_or(0),
            code: tcg_ir::ExitCode::LOOKUP,
        });
        let end = self.s.prog.len() as u32 - 1;
        for insn in self.s.prog.iter_mut() {
            if let Insn::Br { target }
            | Insn::Brcond { target, .. }
            | Insn::BrcondI { target, .. }
            | Insn::BrZ { target, .. }
            | Insn::BrNz { target, .. } = insn
            {
                let p = self
                    .s
                    .label_pos
                    .get(*target as usize)
                    .copied()
                    .unwrap_or(NONE);
                if p == NONE || p > end {
                    return Err(invalid(format!("label L{target} is not set")));
                }
                *target = p;
            }
        }
        self.finish()
    }

    /// Use and definition counts and positions (of the IR as it is).
    fn count(&mut self) {
        let s = &mut *self.s;
        for (k, op) in self.f.ops.iter().enumerate() {
            let l = match op.opc {
                Opc::Br => op.cargs.first(),
                Opc::Brcond => op.cargs.get(1),
                _ => None,
            };
            if let Some(r) = l.and_then(|&l| s.label_refs.get_mut(l as usize)) {
                *r += 1;
            }
            for &t in op.iargs.iter().chain(op.oargs.iter()) {
                let i = t.index();
                if s.gidx[i] == NONE && matches!(self.f.temps[i].kind, TempKind::Global { .. }) {
                    s.gidx[i] = s.gl.len() as u32;
                    s.gl.push(i as u32);
                }
            }
            for &t in &op.iargs {
                s.uses[t.index()] += 1;
                s.lastuse[t.index()] = k as u32;
                if s.firstuse[t.index()] == NONE {
                    s.firstuse[t.index()] = k as u32;
                }
            }
            for &t in &op.oargs {
                s.defs[t.index()] += 1;
                s.defpos[t.index()] = k as u32;
            }
        }
    }

    /// `t` after coalescing.
    fn rn(&self, mut t: Temp) -> Temp {
        while let Some(&r) = self.s.rename.get(t.index()) {
            if r == NONE {
                break;
            }
            t = Temp(r);
        }
        t
    }

    /// Marks the `ext32u`s of values already zero-extended from 32 bits (`ident`), by a
    /// forward scan that forgets everything at labels, calls and env writes.
    fn zext(&mut self) {
        let f = self.f;
        let mut epoch = 1u32;
        for (k, op) in f.ops.iter().enumerate() {
            let s = &mut *self.s;
            let zx = |s: &Scratch, t: Temp| match f.temps[t.index()].kind {
                TempKind::Const(v) => v >> 32 == 0,
                _ => f.temps[t.index()].ty == Type::I32 || s.zx[t.index()] == epoch,
            };
            let arg = |j: usize| op.iargs.get(j).is_some_and(|&t| zx(s, t));
            let out = match op.opc {
                Opc::Ext32u | Opc::ExtuI32I64 | Opc::ExtrlI64I32 | Opc::ExtrhI64I32 => {
                    if op.opc == Opc::Ext32u && op.ty == Type::I64 && arg(0) {
                        s.ident[k] = true;
                    }
                    true
                }
                Opc::Setcond => true,
                Opc::QemuLd | Opc::LdEnv => {
                    let m = MemOp(
                        op.cargs
                            .get(if op.opc == Opc::QemuLd { 0 } else { 1 })
                            .copied()
                            .unwrap_or(0) as u8,
                    );
                    !m.signed() && m.bytes() <= 4
                }
                Opc::Extract => op.cargs.get(1).is_some_and(|&len| len <= 32),
                Opc::And => arg(0) || arg(1),
                Opc::Or | Opc::Xor => arg(0) && arg(1),
                Opc::Shr => {
                    arg(0)
                        || op
                            .iargs
                            .get(1)
                            .and_then(|&t| self.konst(t))
                            .is_some_and(|c| c % 64 >= 32)
                }
                Opc::Mov => arg(0),
                Opc::Movcond => arg(2) && arg(3),
                _ => false,
            };
            if matches!(op.opc, Opc::SetLabel | Opc::Call | Opc::StEnv)
                || op.opc.flags().contains(OpFlags::VECTOR)
            {
                epoch += 1;
            }
            for &t in &op.oargs {
                self.s.zx[t.index()] = if out { epoch } else { 0 };
            }
        }
    }

    /// Coalesces `op t; ...; mov G, t` (t a local defined once, G a global; the move may
    /// be an `ext32u` that is one) into `op G` with later uses of `t` reading `G`, when
    /// nothing between the def and the move touches `G` or can leave the TB or sync
    /// globals (so no exit sees `G` early), and nothing writes `G` or joins control flow
    /// before the last use of `t`. If something between does, a pure def that nothing
    /// between depends on is moved down to the move instead (a post-indexed load's
    /// `add` after the load). Movs are taken in program order and earlier renames are
    /// applied while checking.
    fn coalesce(&mut self) {
        let ops = &self.f.ops;
        for m in 0..ops.len() {
            let mv = &ops[m];
            if !(mv.opc == Opc::Mov || (mv.opc == Opc::Ext32u && self.s.ident[m])) {
                continue;
            }
            if self.copy(m) {
                continue;
            }
            let (g, t) = (mv.oargs[0], mv.iargs[0]);
            let ti = t.index();
            if !self.is_local(t)
                || !matches!(self.f.temps[g.index()].kind, TempKind::Global { .. })
                || self.f.ty(g) != self.f.ty(t)
                || self.s.defs[ti] != 1
                || self.s.rename[ti] != NONE
                // A flag would take the result from the register it is moved to next.
                || self.is_flag(g)
            {
                continue;
            }
            let i = self.s.defpos[ti] as usize;
            // A read before the def sees an undefined local (zero), not G.
            if (self.s.firstuse[ti] as usize) <= i {
                continue;
            }
            // The move itself reads `t`, so its last use is known (NONE cannot happen).
            let last = match self.s.lastuse[ti] {
                NONE => m,
                l => (l as usize).max(m),
            };
            if i >= m || self.s.skip[i] {
                continue;
            }
            let touches = |o: &Op, write_only: bool| {
                o.oargs.iter().any(|&x| self.rn(x) == g)
                    || (!write_only && o.iargs.iter().any(|&x| self.rn(x) == g))
            };
            let after = (m + 1..last).all(|k| {
                let o = &ops[k];
                o.opc != Opc::SetLabel && !touches(o, true) && !reloads_globals(o.opc)
            }) && ops[last].opc != Opc::SetLabel;
            if !after {
                continue;
            }
            // The ops as they will be emitted (moved ones where they land).
            let at = |k: usize| match (self.s.skip[k], self.s.sunk[k]) {
                (false, _) => Some(&ops[k]),
                (true, NONE) => None,
                (true, src) => Some(&ops[src as usize]),
            };
            let between =
                (i + 1..m).all(|k| at(k).is_none_or(|o| !barrier(o.opc) && !touches(o, false)));
            if between {
                self.s.rename[ti] = g.0;
                self.s.skip[m] = true;
                continue;
            }
            let d = &ops[i];
            let ins: Vec<Temp> = d.iargs.iter().map(|&x| self.rn(x)).collect();
            let sink = d.opc.flags().contains(OpFlags::PURE)
                && d.oargs.len() == 1
                && (i + 1..m).all(|k| {
                    let o = &ops[k];
                    !matches!(o.opc, Opc::SetLabel | Opc::Br | Opc::Brcond)
                        && !reloads_globals(o.opc)
                        && !self.s.skip[k]
                        && self.s.sunk[k] == NONE
                        && !o.iargs.contains(&t)
                        && !o.oargs.iter().any(|&x| ins.contains(&self.rn(x)) || x == t)
                });
            if sink {
                self.s.rename[ti] = g.0;
                self.s.skip[i] = true;
                self.s.skip[m] = true;
                self.s.sunk[m] = i as u32;
            }
        }
    }

    /// Copy propagation for `mov t, u` at `m` (t a local defined only here, u not a
    /// constant): later reads of `t` read `u` when nothing writes `u` or joins control
    /// flow before the last of them. `u` inherits `t`'s uses (for the fusion checks).
    fn copy(&mut self, m: usize) -> bool {
        let ops = &self.f.ops;
        let mv = &ops[m];
        let (t, u) = (mv.oargs[0], self.rn(mv.iargs[0]));
        let (ti, ui) = (t.index(), u.index());
        if !self.is_local(t)
            || self.konst(u).is_some()
            || self.f.ty(t) != self.f.ty(u)
            || self.s.defs[ti] != 1
            || self.s.rename[ti] != NONE
            || t == u
        {
            return false;
        }
        let last = self.s.lastuse[ti];
        // Unread, or read before this def (an undefined local reads zero, not u).
        if last == NONE || (last as usize) < m || (self.s.firstuse[ti] as usize) <= m {
            // Never read: the move is dead (the optimizer normally removes it).
            return false;
        }
        let last = last as usize;
        let global = !self.is_local(u);
        let ok = (m + 1..=last.min(ops.len() - 1)).all(|k| {
            let o = &ops[k];
            o.opc != Opc::SetLabel
                && (k == last || !(global && reloads_globals(o.opc)))
                && (k == last || !o.oargs.iter().any(|&x| self.rn(x) == u))
                && !(self.s.skip[k] && self.s.sunk[k] != NONE)
        });
        if !ok {
            return false;
        }
        self.s.rename[ti] = u.0;
        self.s.skip[m] = true;
        // (A global's raw count may miss reads through temps renamed into it; only
        // locals' counts matter, for the fusion checks.)
        self.s.uses[ui] = self.s.uses[ui].saturating_sub(1) + self.s.uses[ti];
        self.s.lastuse[ui] = self.s.lastuse[ui].max(last as u32);
        true
    }

    /// On the coalesced IR: the straight-line prefix (globals written there first need
    /// no load), possibly-undefined locals, and which globals must be loaded at entry
    /// and stored at each exit: forward data flow of the globals definitely written (so
    /// their slots hold the current value) and maybe written (so env is stale). A TB
    /// with a backward branch or too many globals keeps the simple rule: load all but
    /// the prefix-written globals, store every written global everywhere.
    fn analyse(&mut self) {
        let f = self.f;
        let ng = self.s.gl.len() as u32;
        // A self loop runs the TB again with the globals still in their slots (see
        // `exec::run`), so like a backward branch it needs every written global loaded at
        // entry and stored at every point: the next iteration's syncs must see them.
        let mut precise = ng <= 128 && f.self_loops == 0;
        let all: u128 = if ng >= 128 { !0 } else { (1u128 << ng) - 1 };
        let (mut d, mut mw, mut dead) = (0u128, 0u128, false);
        let mut need = 0u128;
        let mut prefix = true;
        let mut block = 1u32;
        for k in 0..f.ops.len() {
            let op = match (self.s.skip[k], self.s.sunk[k]) {
                (false, _) => &f.ops[k],
                (true, NONE) => continue,
                (true, src) => &f.ops[src as usize],
            };
            if prefix && barrier(op.opc) {
                prefix = false;
            }
            let bit = |s: &Scratch, t: Temp| -> u128 {
                match s.gidx.get(t.index()) {
                    Some(&g) if g < 128 => 1u128 << g,
                    _ => 0,
                }
            };
            if op.opc == Opc::SetLabel {
                block += 1;
                let l = op.cargs.first().copied().unwrap_or(0) as usize;
                if let Some(seen) = self.s.label_seen.get_mut(l) {
                    *seen = true;
                }
                let inc = self.s.label_in.get(l).copied().flatten();
                (d, mw) = match (dead, inc) {
                    (true, Some(x)) => x,
                    (true, None) => (all, 0),
                    (false, Some((id, imw))) => (d & id, mw | imw),
                    (false, None) => (d, mw),
                };
                dead = false;
                continue;
            }
            // Reads.
            for &t in &op.iargs {
                let t = self.rn(t);
                let i = t.index();
                if prefix && self.s.first[i] == 0 {
                    self.s.first[i] = 1;
                }
                if self.s.defblock[i] != block {
                    self.s.zero[i] = true;
                }
                need |= bit(self.s, t) & !d;
            }
            // Exit and sync points.
            let mut point = |s: &mut Scratch, set: u128, need: &mut u128| {
                *need |= set & !d;
                let id = match s.lists.iter().position(|&x| x == set) {
                    Some(p) => p,
                    None => {
                        s.lists.push(set);
                        s.lists.len() - 1
                    }
                };
                if id > u16::MAX as usize {
                    precise = false;
                }
                s.sl_of[k] = id as u16;
            };
            match op.opc {
                Opc::QemuLd
                | Opc::QemuSt
                | Opc::AtomicCmpxchg
                | Opc::AtomicRmw
                | Opc::GotoTb
                | Opc::LookupGoto => point(self.s, mw, &mut need),
                Opc::ExitTb => {
                    point(self.s, mw, &mut need);
                    dead = true;
                    (d, mw) = (all, 0);
                }
                Opc::Call => {
                    point(self.s, mw, &mut need);
                    let h = op.cargs.first().and_then(|&h| f.helpers.get(h as usize));
                    if h.is_some_and(|h| !h.flags.contains(HelperFlags::NO_WRITE_GLOBALS)) {
                        d = all;
                    }
                }
                Opc::LdEnv | Opc::StEnv => {
                    let off = op.cargs.first().copied().unwrap_or(0);
                    let bytes = op
                        .cargs
                        .get(1)
                        .map_or(8, |&m| MemOp(m as u8).bytes() as u64);
                    let ov = self.overlap_bits(off, off + bytes, None);
                    point(self.s, ov & mw, &mut need);
                    if op.opc == Opc::StEnv {
                        d |= ov;
                    }
                }
                opc if opc.flags().contains(OpFlags::VECTOR) => {
                    let envs = vector::env_operands(op);
                    let mut ov = 0;
                    for &o in &envs {
                        ov |= self.overlap_bits(o as u64, o as u64 + VEC_BYTES as u64, None);
                    }
                    point(self.s, ov & mw, &mut need);
                    if let Some(&o) = envs.first() {
                        let ex = op.oargs.first().copied();
                        d |= self.overlap_bits(o as u64, o as u64 + VEC_BYTES as u64, ex);
                    }
                }
                Opc::Brcond | Opc::Br => {
                    let l = op.cargs.get(if op.opc == Opc::Br { 0 } else { 1 }).copied();
                    let l = l.unwrap_or(0) as usize;
                    if self.s.label_seen.get(l).copied().unwrap_or(true) {
                        precise = false;
                    }
                    if let Some(slot) = self.s.label_in.get_mut(l) {
                        *slot = Some(match *slot {
                            Some((id, imw)) => (id & d, imw | mw),
                            None => (d, mw),
                        });
                    }
                    if op.opc == Opc::Br {
                        dead = true;
                        (d, mw) = (all, 0);
                    }
                }
                _ => {}
            }
            // Writes.
            for &t in &op.oargs {
                let t = self.rn(t);
                let i = t.index();
                if prefix && self.s.first[i] == 0 {
                    self.s.first[i] = 2;
                }
                self.s.defblock[i] = block;
                d |= bit(self.s, t);
                mw |= bit(self.s, t);
            }
        }
        if precise {
            self.need = Some(need);
        } else {
            // One list, every written global, for every point.
            let mut w = 0u128;
            for (g, &i) in self.s.gl.iter().enumerate().take(128) {
                if self.s.defs[i as usize] > 0 {
                    w |= 1 << g;
                }
            }
            self.s.lists.clear();
            self.s.lists.push(if ng <= 128 { w } else { all });
            self.s.sl_of.fill(0);
            self.need = None;
        }
    }

    /// Bits of the used globals overlapping env `[lo, hi)`, except `ex`.
    fn overlap_bits(&self, lo: u64, hi: u64, ex: Option<Temp>) -> u128 {
        let mut b = 0;
        for (g, &i) in self.s.gl.iter().enumerate().take(128) {
            let i = i as usize;
            if ex.is_some_and(|e| e.index() == i) {
                continue;
            }
            if self.overlap(i, lo, hi).is_some() {
                b |= 1u128 << g;
            }
        }
        b
    }

    /// Finds the NZCV globals `nf zf cf vf` (all four used: the flag superinstructions
    /// write all of them): they get four consecutive slots, the superinstructions' `f`.
    fn find_flags(&mut self) {
        let mut found = [None; 4];
        for &i in &self.s.gl {
            let (i, t) = (i as usize, &self.f.temps[i as usize]);
            if t.ty != Type::I64 {
                continue;
            }
            let k = match t.name.as_deref() {
                Some("nf") => 0,
                Some("zf") => 1,
                Some("cf") => 2,
                Some("vf") => 3,
                _ => continue,
            };
            found[k] = Some(Temp(i as u32));
        }
        if let [Some(n), Some(z), Some(c), Some(v)] = found {
            self.flags = Some([n, z, c, v]);
        }
    }

    /// None of the ops `i..i + n` was dropped or moved by coalescing.
    fn clean(&self, i: usize, n: usize) -> bool {
        (i..i + n).all(|k| !self.s.skip.get(k).copied().unwrap_or(true))
    }

    fn used(&self, t: Temp) -> bool {
        self.s.uses[t.index()] + self.s.defs[t.index()] > 0
    }

    fn new_slot(&mut self, t: Temp) -> Result<S, BackendError> {
        let n =
            S::try_from(self.nslots).map_err(|_| BackendError::Compile("too many temps".into()))?;
        self.nslots += 1;
        let i = t.index();
        self.s.slot[i] = n as u32;
        match self.f.temps[i].kind {
            TempKind::Global { .. } => {
                if self.used(t) {
                    self.s.globals.push(i as u32)
                }
            }
            TempKind::Const(v) => self.s.inits.push((n, v)),
            TempKind::Local => {
                if self.s.zero[i] {
                    self.s.inits.push((n, 0))
                }
            }
        }
        Ok(n)
    }

    /// The slot of `t` (allocated on first use).
    fn slot(&mut self, t: Temp) -> Result<S, BackendError> {
        let t = self.rn(t);
        match self.s.slot.get(t.index()) {
            Some(&NONE) => self.new_slot(t),
            Some(&s) => Ok(s as S),
            None => Err(invalid("temp out of range")),
        }
    }

    fn i(&mut self, op: &Op, k: usize) -> Result<S, BackendError> {
        let t = *op.iargs.get(k).ok_or_else(|| invalid("missing input"))?;
        self.slot(t)
    }

    fn o(&mut self, op: &Op, k: usize) -> Result<S, BackendError> {
        let t = *op.oargs.get(k).ok_or_else(|| invalid("missing output"))?;
        self.slot(t)
    }

    fn c(op: &Op, k: usize) -> Result<u64, BackendError> {
        op.cargs
            .get(k)
            .copied()
            .ok_or_else(|| invalid("missing constant argument"))
    }

    fn cond(op: &Op, k: usize) -> Result<Cond, BackendError> {
        Cond::from_u64(Self::c(op, k)?).ok_or_else(|| invalid("bad condition"))
    }

    fn label(&self, op: &Op, k: usize) -> Result<u32, BackendError> {
        let l = Self::c(op, k)?;
        u32::try_from(l)
            .ok()
            .filter(|&l| l < self.f.nb_labels)
            .ok_or_else(|| invalid("bad label"))
    }

    fn konst(&self, t: Temp) -> Option<u64> {
        match self.f.temps.get(t.index())?.kind {
            TempKind::Const(v) => Some(v),
            _ => None,
        }
    }

    fn is_local(&self, t: Temp) -> bool {
        matches!(
            self.f.temps.get(t.index()).map(|d| &d.kind),
            Some(TempKind::Local)
        )
    }

    /// A local defined `defs` times and read `uses` times in the whole TB.
    fn private(&self, t: Temp, defs: u32, uses: u32) -> bool {
        self.is_local(t) && self.s.defs[t.index()] == defs && self.s.uses[t.index()] == uses
    }

    fn push(&mut self, i: Insn) {
        self.s.prog.push(i);
    }

    /// The flag slot base if `[n, z, c, v]` are the TB's NZCV globals.
    fn flag_base(&self, n: Temp, z: Temp, c: Temp, v: Temp) -> Option<S> {
        let fl = self.flags?;
        if fl != [n, z, c, v] {
            return None;
        }
        Some(self.s.slot[n.index()] as S)
    }

    fn is_flag(&self, t: Temp) -> bool {
        self.flags.is_some_and(|f| f.contains(&t))
    }

    /// Emits the op(s) at `i`; returns how many IR ops it consumed.
    fn op_at(&mut self, i: usize) -> Result<usize, BackendError> {
        let f = self.f;
        let ops = &f.ops;
        if self.s.skip[i] {
            let src = self.s.sunk[i];
            if src != NONE {
                self.op(src as usize)?;
            }
            return Ok(1);
        }
        if let Some(n) = self.fuse(i)? {
            return Ok(n);
        }
        let op = &ops[i];
        // mov G, $imm; goto_tb n; exit_tb n
        if op.opc == Opc::Mov
            && ops.get(i + 1).is_some_and(|n| n.opc == Opc::GotoTb)
            && self.konst(op.iargs[0]).is_some()
            && !self.is_local(op.oargs[0])
        {
            if let Some(n) = self.goto(i + 1, Some(op))? {
                return Ok(n + 1);
            }
        }
        if op.opc == Opc::GotoTb {
            if let Some(n) = self.goto(i, None)? {
                return Ok(n);
            }
            let slot = Self::c(op, 0)?;
            self.push(Insn::GotoTb {
                slot: slot as u8,
                sl: self.s.sl_of[i],
            });
            return Ok(1);
        }
        if matches!(op.opc, Opc::QemuLd | Opc::QemuSt) {
            let a = self.i(op, if op.opc == Opc::QemuLd { 0 } else { 1 })?;
            return self.mem(i, a, 0);
        }
        self.op(i)?;
        Ok(1)
    }

    /// `goto_tb n; exit_tb n` at `i` (with the `mov pc, $imm` before it, if given) as one
    /// `GotoExit`; `None` if no `exit_tb n` follows.
    fn goto(&mut self, i: usize, mov: Option<&Op>) -> Result<Option<usize>, BackendError> {
        let ops = &self.f.ops;
        let op = &ops[i];
        let slot = Self::c(op, 0)?;
        if slot > 1 {
            return Err(invalid("goto_tb slot out of range"));
        }
        self.goto_seen[slot as usize] = true;
        let next = ops.get(i + 1);
        if !next.is_some_and(|n| n.opc == Opc::ExitTb && n.cargs.first() == Some(&slot)) {
            return Ok(None);
        }
        let (pc, imm) = match mov {
            Some(m) => (self.o(m, 0)?, self.konst(m.iargs[0]).unwrap_or(0)),
            None => (S::MAX, 0),
        };
        self.push(Insn::GotoExit {
            slot: slot as u8,
            sl: self.s.sl_of[i],
            pc,
            imm,
        });
        Ok(Some(2))
    }

    /// Superinstructions: `Some(n)` when the ops at `i..i + n` were fused.
    fn fuse(&mut self, i: usize) -> Result<Option<usize>, BackendError> {
        let func = self.f;
        let ops = &func.ops;
        let w = |k: usize| ops.get(i + k);
        let Some(o0) = w(0) else { return Ok(None) };
        let is = |o: Option<&Op>, opc: Opc| o.is_some_and(|o| o.opc == opc && o.ty == Type::I64);
        // {x, y} == {p, q} as a set of two operands.
        let pair = |o: &Op, p: Temp, q: Temp| {
            (o.iargs[0] == p && o.iargs[1] == q) || (o.iargs[0] == q && o.iargs[1] == p)
        };
        match o0.opc {
            Opc::Sub if o0.ty == Type::I64 => {
                // sub R,A,B; setcond.geu cf,A,B; xor T1,A,B; xor T2,A,R; and vf,T1,T2;
                // mov nf,R; mov zf,R
                let (r, a, b) = (o0.oargs[0], o0.iargs[0], o0.iargs[1]);
                if !(is(w(1), Opc::Setcond)
                    && is(w(2), Opc::Xor)
                    && is(w(3), Opc::Xor)
                    && is(w(4), Opc::And)
                    && is(w(5), Opc::Mov)
                    && is(w(6), Opc::Mov))
                {
                    return Ok(None);
                }
                let (o1, o2, o3, o4, o5, o6) = (
                    &ops[i + 1],
                    &ops[i + 2],
                    &ops[i + 3],
                    &ops[i + 4],
                    &ops[i + 5],
                    &ops[i + 6],
                );
                let (t1, t2) = (o2.oargs[0], o3.oargs[0]);
                let Some(f) = self.flag_base(o5.oargs[0], o6.oargs[0], o1.oargs[0], o4.oargs[0])
                else {
                    return Ok(None);
                };
                let ok = o1.cargs.first() == Some(&(Cond::Geu as u64))
                    && o1.iargs[0] == a
                    && o1.iargs[1] == b
                    && pair(o2, a, b)
                    && pair(o3, a, r)
                    && pair(o4, t1, t2)
                    && o5.iargs[0] == r
                    && o6.iargs[0] == r
                    && self.is_local(r)
                    && self.s.defs[r.index()] == 1
                    && t1 != t2
                    && self.private(t1, 1, 1)
                    && self.private(t2, 1, 1)
                    && ![r, t1, t2].contains(&a)
                    && ![r, t1, t2].contains(&b)
                    && !self.is_flag(a)
                    && !self.is_flag(b)
                    && self.konst(a).is_none()
                    && self.clean(i, 7);
                if !ok {
                    return Ok(None);
                }
                let (d, sa) = (self.slot(r)?, self.slot(a)?);
                match self.konst(b) {
                    Some(imm) => self.push(Insn::SubFlagsI { d, a: sa, f, imm }),
                    None => {
                        let sb = self.slot(b)?;
                        self.push(Insn::SubFlags { d, a: sa, b: sb, f })
                    }
                }
                Ok(Some(7))
            }
            Opc::Add if o0.ty == Type::I64 => {
                if let Some(n) = self.fuse_adds64(i)? {
                    return Ok(Some(n));
                }
                if let Some(n) = self.fuse_flags32(i, None, None)? {
                    return Ok(Some(n));
                }
                self.fuse_address(i)
            }
            Opc::Mov | Opc::Ext32s if o0.ty == Type::I64 => {
                // mov nf,R; mov zf,R; mov cf,$0; mov vf,$0 (ext32s/ext32u for 32 bits)
                let i32 = o0.opc == Opc::Ext32s;
                let zop = if i32 { Opc::Ext32u } else { Opc::Mov };
                if !(is(w(1), zop) && is(w(2), Opc::Mov) && is(w(3), Opc::Mov)) {
                    return Ok(None);
                }
                let (o1, o2, o3) = (&ops[i + 1], &ops[i + 2], &ops[i + 3]);
                let r = o0.iargs[0];
                let Some(f) = self.flag_base(o0.oargs[0], o1.oargs[0], o2.oargs[0], o3.oargs[0])
                else {
                    return Ok(None);
                };
                if o1.iargs[0] != r
                    || !self.clean(i, 4)
                    || self.is_flag(r)
                    || self.konst(o2.iargs[0]) != Some(0)
                    || self.konst(o3.iargs[0]) != Some(0)
                {
                    return Ok(None);
                }
                let a = self.slot(r)?;
                self.push(Insn::LogicFlags { a, f, i32 });
                Ok(Some(4))
            }
            Opc::Ext32u if o0.ty == Type::I64 => {
                let pa = Some((o0.oargs[0], o0.iargs[0]));
                let e1 = w(1).filter(|o| o.opc == Opc::Ext32u && o.ty == Type::I64);
                if let (Some(e), Some(x)) = (e1, w(2)) {
                    let inv = x.opc == Opc::Xor
                        && x.ty == Type::I64
                        && x.iargs[0] == e.oargs[0]
                        && self.konst(x.iargs[1]) == Some(0xffff_ffff);
                    if inv {
                        let pb = Some((x.oargs[0], e.iargs[0], Some(e.oargs[0])));
                        if let Some(n) = self.try_flags32(i + 3, pa, pb)? {
                            return Ok(Some(n + 3));
                        }
                    }
                    let pb = Some((e.oargs[0], e.iargs[0], None));
                    if let Some(n) = self.try_flags32(i + 2, pa, pb)? {
                        return Ok(Some(n + 2));
                    }
                }
                Ok(self.try_flags32(i + 1, pa, None)?.map(|n| n + 1))
            }
            Opc::Brcond => self.fuse_brgoto(i),
            Opc::Setcond if o0.ty == Type::I64 => {
                // setcond.ne Z,zf,$0; xor T,nf,vf; sar T,T,$63; andc T,Z,T
                if !(is(w(1), Opc::Xor) && is(w(2), Opc::Sar) && is(w(3), Opc::Andc)) {
                    return Ok(None);
                }
                let Some(fl) = self.flags else {
                    return Ok(None);
                };
                let (o1, o2, o3) = (&ops[i + 1], &ops[i + 2], &ops[i + 3]);
                let (z, t) = (o0.oargs[0], o1.oargs[0]);
                let ok = o0.cargs.first() == Some(&(Cond::Ne as u64))
                    && o0.iargs[0] == fl[1]
                    && self.konst(o0.iargs[1]) == Some(0)
                    && o1.iargs[0] == fl[0]
                    && o1.iargs[1] == fl[3]
                    && o2.oargs[0] == t
                    && o2.iargs[0] == t
                    && self.konst(o2.iargs[1]) == Some(63)
                    && o3.oargs[0] == t
                    && o3.iargs[0] == z
                    && o3.iargs[1] == t
                    && z != t
                    && self.private(z, 1, 1)
                    && self.is_local(t)
                    && self.clean(i, 4);
                if !ok {
                    return Ok(None);
                }
                let f = self.s.slot[fl[0].index()] as S;
                let d = self.slot(t)?;
                self.push(Insn::TestGt { d, f });
                Ok(Some(4))
            }
            _ => Ok(None),
        }
    }

    /// add R,A,B; setcond.ltu C,R,A; [mov cf,C]; xor T1,R,A; xor T2,A,B; andc vf,T1,T2;
    /// mov nf,R; mov zf,R
    fn fuse_adds64(&mut self, i: usize) -> Result<Option<usize>, BackendError> {
        let func = self.f;
        let ops = &func.ops;
        let Some(fl) = self.flags else {
            return Ok(None);
        };
        let w = |k: usize| ops.get(i + k);
        let is = |o: Option<&Op>, opc: Opc| o.is_some_and(|o| o.opc == opc && o.ty == Type::I64);
        let pair = |o: &Op, p: Temp, q: Temp| {
            (o.iargs[0] == p && o.iargs[1] == q) || (o.iargs[0] == q && o.iargs[1] == p)
        };
        let o0 = &ops[i];
        let (r, a, b) = (o0.oargs[0], o0.iargs[0], o0.iargs[1]);
        if !is(w(1), Opc::Setcond) {
            return Ok(None);
        }
        let o1 = &ops[i + 1];
        let c = o1.oargs[0];
        // The carry either goes straight to cf or through a local other code reuses.
        let k = if c == fl[2] {
            2
        } else if is(w(2), Opc::Mov) && ops[i + 2].oargs[0] == fl[2] && ops[i + 2].iargs[0] == c {
            3
        } else {
            return Ok(None);
        };
        if !(is(w(k), Opc::Xor)
            && is(w(k + 1), Opc::Xor)
            && is(w(k + 2), Opc::Andc)
            && is(w(k + 3), Opc::Mov)
            && is(w(k + 4), Opc::Mov))
        {
            return Ok(None);
        }
        let (o2, o3, o4, o5, o6) = (
            &ops[i + k],
            &ops[i + k + 1],
            &ops[i + k + 2],
            &ops[i + k + 3],
            &ops[i + k + 4],
        );
        let (t1, t2) = (o2.oargs[0], o3.oargs[0]);
        let ok = o1.cargs.first() == Some(&(Cond::Ltu as u64))
            && o1.iargs[0] == r
            && o1.iargs[1] == a
            && pair(o2, r, a)
            && pair(o3, a, b)
            && o4.oargs[0] == fl[3]
            && o4.iargs[0] == t1
            && o4.iargs[1] == t2
            && o5.oargs[0] == fl[0]
            && o5.iargs[0] == r
            && o6.oargs[0] == fl[1]
            && o6.iargs[0] == r
            && self.is_local(r)
            && self.s.defs[r.index()] == 1
            && (k == 2 || (self.is_local(c) && self.s.defs[c.index()] == 1))
            && t1 != t2
            && self.private(t1, 1, 1)
            && self.private(t2, 1, 1)
            && ![r, c, t1, t2].contains(&a)
            && ![r, c, t1, t2].contains(&b)
            && !self.is_flag(a)
            && !self.is_flag(b)
            && r != c
            && self.clean(i, k + 5);
        if !ok {
            return Ok(None);
        }
        let f = self.s.slot[fl[0].index()] as S;
        let (d, sc, sa, sb) = (self.slot(r)?, self.slot(c)?, self.slot(a)?, self.slot(b)?);
        self.push(Insn::AddFlags {
            d,
            c: sc,
            a: sa,
            b: sb,
            f,
        });
        Ok(Some(k + 5))
    }

    /// add S,A,B; [add S,S,$cin]; extract cf,S,32,1; ext32u R,S; xor T1,R,A; xor T2,A,B;
    /// andc T3,T1,T2; shl vf,T3,$32; ext32s nf,R; ext32u zf,R
    fn fuse_flags32(
        &mut self,
        i: usize,
        pa: Option<(Temp, Temp)>,
        pb: Option<(Temp, Temp, Option<Temp>)>,
    ) -> Result<Option<usize>, BackendError> {
        let func = self.f;
        let ops = &func.ops;
        let Some(fl) = self.flags else {
            return Ok(None);
        };
        let w = |k: usize| ops.get(i + k);
        let is = |o: Option<&Op>, opc: Opc| o.is_some_and(|o| o.opc == opc && o.ty == Type::I64);
        let o0 = &ops[i];
        let sum = o0.oargs[0];
        let (mut k, mut cin) = (1, 0u8);
        if is(w(1), Opc::Add) && ops[i + 1].oargs[0] == sum && ops[i + 1].iargs[0] == sum {
            match self.konst(ops[i + 1].iargs[1]) {
                Some(c @ (0 | 1)) => cin = c as u8,
                _ => return Ok(None),
            }
            k = 2;
        }
        if !(is(w(k), Opc::Extract)
            && is(w(k + 1), Opc::Ext32u)
            && is(w(k + 2), Opc::Xor)
            && is(w(k + 3), Opc::Xor)
            && is(w(k + 4), Opc::Andc)
            && is(w(k + 5), Opc::Shl)
            && is(w(k + 6), Opc::Ext32s)
            && is(w(k + 7), Opc::Ext32u))
        {
            return Ok(None);
        }
        let o = |j: usize| &ops[i + k + j];
        let r = o(1).oargs[0];
        let (t1, t2, t3) = (o(2).oargs[0], o(3).oargs[0], o(4).oargs[0]);
        // A is the operand T1 mixes with R.
        let (x, y) = (o0.iargs[0], o0.iargs[1]);
        let a = if o(2).iargs.contains(&x) && o(2).iargs.contains(&r) {
            x
        } else {
            y
        };
        let b = if a == x { y } else { x };
        // Folded `ext32u A, X` (and `ext32u B', Y; xor B, B', $0xffffffff`) before it.
        let (mut xa, mut xb, mut bits) = (a, b, 0u8);
        if let Some((ta, tx)) = pa {
            if ta != a || !self.private(ta, 1, 3) {
                return Ok(None);
            }
            (xa, bits) = (tx, bits | 2);
        }
        if let Some((tb, ty, nb)) = pb {
            let ok = match nb {
                Some(b1) => self.private(tb, 1, 2) && self.private(b1, 1, 1),
                None => self.private(tb, 1, 2),
            };
            if tb != b || !ok {
                return Ok(None);
            }
            (xb, bits) = (ty, bits | if nb.is_some() { 4 | 8 } else { 4 });
        }
        let pair = |o: &Op, p: Temp, q: Temp| {
            (o.iargs[0] == p && o.iargs[1] == q) || (o.iargs[0] == q && o.iargs[1] == p)
        };
        let sum_uses = if k == 2 { 3 } else { 2 };
        let ok = o(0).oargs[0] == fl[2]
            && o(0).iargs[0] == sum
            && o(0).cargs.as_slice() == [32, 1]
            && o(1).iargs[0] == sum
            && pair(o(2), r, a)
            && pair(o(3), a, b)
            && o(4).iargs[0] == t1
            && o(4).iargs[1] == t2
            && o(5).oargs[0] == fl[3]
            && o(5).iargs[0] == t3
            && self.konst(o(5).iargs[1]) == Some(32)
            && o(6).oargs[0] == fl[0]
            && o(6).iargs[0] == r
            && o(7).oargs[0] == fl[1]
            && o(7).iargs[0] == r
            && self.private(sum, k as u32, sum_uses)
            && self.is_local(r)
            && self.s.defs[r.index()] == 1
            && self.private(t1, 1, 1)
            && self.private(t2, 1, 1)
            && self.private(t3, 1, 1)
            && [sum, r, t1, t2, t3].iter().all(|t| *t != a && *t != b)
            && t1 != t2
            && t2 != t3
            && t1 != t3
            && r != sum
            && [sum, r, t1, t2, t3].iter().all(|t| *t != xa && *t != xb)
            && !self.is_flag(xa)
            && !self.is_flag(xb)
            && self.konst(xa).is_none()
            && (bits & 4 == 0 || self.konst(xb).is_none())
            && self.clean(i, k + 8);
        if !ok {
            return Ok(None);
        }
        let cin = cin | bits;
        let f = self.s.slot[fl[0].index()] as S;
        let (d, sa) = (self.slot(r)?, self.slot(xa)?);
        let b = xb;
        match self.konst(b).and_then(|v| u32::try_from(v).ok()) {
            Some(imm) => self.push(Insn::AddFlags32I {
                d,
                a: sa,
                f,
                cin,
                imm,
            }),
            None => {
                let sb = self.slot(b)?;
                self.push(Insn::AddFlags32 {
                    d,
                    a: sa,
                    b: sb,
                    f,
                    cin,
                })
            }
        }
        Ok(Some(k + 8))
    }

    fn try_flags32(
        &mut self,
        i: usize,
        pa: Option<(Temp, Temp)>,
        pb: Option<(Temp, Temp, Option<Temp>)>,
    ) -> Result<Option<usize>, BackendError> {
        let ops = &self.f.ops;
        if !ops
            .get(i)
            .is_some_and(|o| o.opc == Opc::Add && o.ty == Type::I64)
        {
            return Ok(None);
        }
        self.fuse_flags32(i, pa, pb)
    }

    /// brcond X,$0,c,L; mov PC,$A; goto_tb s0; exit_tb s0; L: mov PC,$B; goto_tb s1;
    /// exit_tb s1 (L branched to from here only)  ->  one `BrGoto`.
    fn fuse_brgoto(&mut self, i: usize) -> Result<Option<usize>, BackendError> {
        let func = self.f;
        let ops = &func.ops;
        if ops.len() < i + 8 || (i..i + 8).any(|k| self.s.skip[k]) {
            return Ok(None);
        }
        let o = |k: usize| &ops[i + k];
        let b = o(0);
        let kind = match Cond::from_u64(b.cargs[0]) {
            Some(Cond::Eq) => 0,
            Some(Cond::Ne) => 1,
            Some(Cond::Lt) if b.ty == Type::I64 => 2,
            Some(Cond::Ge) if b.ty == Type::I64 => 3,
            _ => return Ok(None),
        };
        let l = b.cargs[1];
        let pc = o(1).oargs.first().copied();
        let ok = self.konst(b.iargs[1]) == Some(0)
            && self.konst(b.iargs[0]).is_none()
            && self.s.label_refs.get(l as usize) == Some(&1)
            && o(1).opc == Opc::Mov
            && o(2).opc == Opc::GotoTb
            && o(3).opc == Opc::ExitTb
            && o(3).cargs.first() == o(2).cargs.first()
            && o(4).opc == Opc::SetLabel
            && o(4).cargs.first() == Some(&l)
            && o(5).opc == Opc::Mov
            && o(5).oargs.first().copied() == pc
            && o(6).opc == Opc::GotoTb
            && o(7).opc == Opc::ExitTb
            && o(7).cargs.first() == o(6).cargs.first()
            && o(2).cargs[0] <= 1
            && o(6).cargs[0] <= 1
            && self.s.sl_of[i + 2] == self.s.sl_of[i + 6]
            && self.s.pcs.len() + 2 < u16::MAX as usize
            && pc.is_some_and(|p| !self.is_local(p));
        let (Some(pc), true) = (pc, ok) else {
            return Ok(None);
        };
        let (Some(fa), Some(ta)) = (self.konst(o(1).iargs[0]), self.konst(o(5).iargs[0])) else {
            return Ok(None);
        };
        let (s0, s1) = (o(2).cargs[0], o(6).cargs[0]);
        self.goto_seen[s0 as usize] = true;
        self.goto_seen[s1 as usize] = true;
        let a = self.slot(b.iargs[0])?;
        let pc = self.slot(pc)?;
        if self.s.pcs.is_empty() {
            self.s.pcs.push(0);
        }
        self.s.pcs.push(ta);
        self.s.pcs.push(fa);
        let t = self.s.pcs.len() as u16 - 2;
        self.push(Insn::BrGoto {
            a,
            kind,
            slots: (s1 as u8) << 1 | s0 as u8,
            pc,
            sl: self.s.sl_of[i + 2],
            t,
            f: t + 1,
        });
        Ok(Some(8))
    }

    /// add T,BASE,$off; qemu_ld/st ...,T  ->  one memory op at BASE + off.
    fn fuse_address(&mut self, i: usize) -> Result<Option<usize>, BackendError> {
        let func = self.f;
        let ops = &func.ops;
        let (o0, Some(o1)) = (&ops[i], ops.get(i + 1)) else {
            return Ok(None);
        };
        let t = o0.oargs[0];
        let (base, Some(off)) = (o0.iargs[0], self.konst(o0.iargs[1])) else {
            return Ok(None);
        };
        let Ok(off) = i32::try_from(off as i64) else {
            return Ok(None);
        };
        let addr_k = match o1.opc {
            Opc::QemuLd => 0,
            Opc::QemuSt => 1,
            _ => return Ok(None),
        };
        if o1.iargs.get(addr_k) != Some(&t)
            || !self.clean(i, 2)
            || !self.private(t, 1, 1)
            || base == t
            || self.konst(base).is_some()
        {
            return Ok(None);
        }
        let a = self.slot(base)?;
        let n = self.mem(i + 1, a, off)?;
        Ok(Some(1 + n))
    }

    /// The guest load or store at op `k` with its address in slot `a` plus `off`; a load
    /// whose only use is an `ext32u` (`ext32s`) it already did writes that op's output.
    /// Returns the number of ops consumed.
    fn mem(&mut self, k: usize, a: S, off: i32) -> Result<usize, BackendError> {
        let ops = &self.f.ops;
        let op = &ops[k];
        let memop = MemOp(Self::c(op, 0)? as u8);
        let mmu = Self::c(op, 1)? as u8;
        let pcx = self.pcx;
        let sl = self.s.sl_of[k];
        let i32 = op.ty == Type::I32;
        let mut n = 1;
        let insn = if op.opc == Opc::QemuLd {
            let t = op.oargs[0];
            let ext = ops.get(k + 1).filter(|e| {
                let same = match e.opc {
                    Opc::Ext32u => !memop.signed() && memop.bytes() <= 4,
                    Opc::Ext32s => memop.signed() && memop.bytes() == 4,
                    _ => false,
                };
                same && e.ty == Type::I64
                    && op.ty == Type::I64
                    && e.iargs[0] == t
                    && !self.s.skip[k + 1]
                    && self.private(t, 1, 1)
            });
            let d = match ext {
                Some(e) => {
                    n = 2;
                    self.o(e, 0)?
                }
                None => self.o(op, 0)?,
            };
            match memop.bytes() {
                1 => Insn::Ld1 {
                    d,
                    a,
                    mmu,
                    memop,
                    pcx,
                    i32,
                    off,
                    sl,
                },
                2 => Insn::Ld2 {
                    d,
                    a,
                    mmu,
                    memop,
                    pcx,
                    i32,
                    off,
                    sl,
                },
                4 => Insn::Ld4 {
                    d,
                    a,
                    mmu,
                    memop,
                    pcx,
                    i32,
                    off,
                    sl,
                },
                _ => Insn::Ld8 {
                    d,
                    a,
                    mmu,
                    memop,
                    pcx,
                    i32,
                    off,
                    sl,
                },
            }
        } else {
            let v = self.i(op, 0)?;
            match memop.bytes() {
                1 => Insn::St1 {
                    v,
                    a,
                    mmu,
                    memop,
                    pcx,
                    off,
                    sl,
                },
                2 => Insn::St2 {
                    v,
                    a,
                    mmu,
                    memop,
                    pcx,
                    off,
                    sl,
                },
                4 => Insn::St4 {
                    v,
                    a,
                    mmu,
                    memop,
                    pcx,
                    off,
                    sl,
                },
                _ => Insn::St8 {
                    v,
                    a,
                    mmu,
                    memop,
                    pcx,
                    off,
                    sl,
                },
            }
        };
        self.push(insn);
        Ok(n)
    }

    /// Writes back the globals of op `k`'s store list that overlap `[lo, hi)` of env
    /// (before an env access).
    fn sync_store(&mut self, k: usize, lo: u64, hi: u64) {
        let set = self
            .s
            .lists
            .get(self.s.sl_of[k] as usize)
            .copied()
            .unwrap_or(0);
        for j in 0..self.s.globals.len() {
            let t = self.s.globals[j] as usize;
            let g = self.s.gidx[t];
            if g >= 128 || set & 1 << g == 0 {
                continue;
            }
            if let Some((off, wide)) = self.overlap(t, lo, hi) {
                let a = self.s.slot[t] as S;
                self.push(Insn::StGlobal { a, wide, off });
            }
        }
    }

    /// Reloads the globals overlapping `[lo, hi)` (after an env write).
    fn sync_load(&mut self, lo: u64, hi: u64, except: Option<Temp>) {
        for k in 0..self.s.globals.len() {
            let t = self.s.globals[k] as usize;
            if except.is_some_and(|e| e.index() == t) {
                continue;
            }
            if let Some((off, wide)) = self.overlap(t, lo, hi) {
                let d = self.s.slot[t] as S;
                self.push(Insn::LdGlobal { d, wide, off });
            }
        }
    }

    /// Env location of global temp `t` if it overlaps `[lo, hi)`.
    fn overlap(&self, t: usize, lo: u64, hi: u64) -> Option<(u32, bool)> {
        let d = &self.f.temps[t];
        let TempKind::Global { offset } = d.kind else {
            return None;
        };
        let wide = d.ty == Type::I64;
        let end = offset as u64 + if wide { 8 } else { 4 };
        ((offset as u64) < hi && lo < end).then_some((offset, wide))
    }

    fn env_off(op: &Op) -> Result<u32, BackendError> {
        u32::try_from(Self::c(op, 0)?).map_err(|_| invalid("env offset too large"))
    }

    fn bitfield(op: &Op) -> Result<(u8, u8), BackendError> {
        let (pos, len) = (Self::c(op, 0)?, Self::c(op, 1)?);
        let bits = op.ty.bits() as u64;
        // Re-checked here because an overflowing pos + len could slip past the verifier.
        if len == 0 || pos >= bits || len > bits || pos + len > bits {
            return Err(invalid("bit field outside its type"));
        }
        Ok((pos as u8, len as u8))
    }

    fn vec_info(&mut self, op: &Op) -> Result<VecInfo, BackendError> {
        let v = vector::params(op).map_err(|e| match e {
            vector::VecParamsError::Invalid(m) => invalid(m),
            vector::VecParamsError::NoSemantics(o) => {
                BackendError::Compile(format!("no semantics for {}", o.name()))
            }
        })?;
        let mut offs = [0u32; 4];
        offs[..v.envs.len()].copy_from_slice(&v.envs);
        let (shape, envs, cond, imm, mask) = (v.shape, v.envs, v.cond, v.imm, v.mask);
        let scalar = match op.iargs.first() {
            Some(&t) => Some(self.slot(t)?),
            None => None,
        };
        let out = match op.oargs.first() {
            Some(&t) => Some(self.slot(t)?),
            None => None,
        };
        Ok(VecInfo {
            opc: op.opc,
            shape,
            cond,
            imm,
            offs,
            nsrc: envs.len() as u8 - 1,
            scalar,
            out,
            mask,
        })
    }

    /// Op `k`, no fusion.
    fn op(&mut self, k: usize) -> Result<(), BackendError> {
        let func = self.f;
        let op = &func.ops[k];
        let sl = self.s.sl_of[k];
        let ty = op.ty;
        let is64 = ty == Type::I64;
        let insn = match op.opc {
            Opc::SetLabel => {
                let l = self.label(op, 0)? as usize;
                self.s.label_pos[l] = self.s.prog.len() as u32;
                return Ok(());
            }
            Opc::InsnStart => {
                let pc = Self::c(op, 0)?;
                if self.s.pcs.len() >= u16::MAX as usize {
                    return Err(BackendError::Compile("too many guest instructions".into()));
                }
                self.s.pcs.push(pc);
                self.pcx = self.s.pcs.len() as u16 - 1;
                return Ok(());
            }
            // The jump cache probe; on a miss, the `exit_tb` that follows.
            Opc::LookupGoto => {
                let flags = u32::try_from(Self::c(op, 0)?)
                    .map_err(|_| invalid("lookup_goto flags out of range"))?;
                Insn::LookupGoto {
                    pc: self.i(op, 0)?,
                    mmu: Self::c(op, 1)? as u8,
                    sl,
                    flags,
                }
            }
            Opc::Mov => {
                let d = self.o(op, 0)?;
                match self.konst(op.iargs[0]) {
                    Some(imm) => Insn::MovI { d, imm },
                    None => {
                        let a = self.i(op, 0)?;
                        if a == d {
                            return Ok(());
                        }
                        Insn::Mov { d, a }
                    }
                }
            }
            Opc::Add
            | Opc::Sub
            | Opc::Mul
            | Opc::And
            | Opc::Or
            | Opc::Xor
            | Opc::Andc
            | Opc::Shl
            | Opc::Shr
            | Opc::Sar => return self.binary(op),
            Opc::Ext32u if self.s.ident[k] => {
                let (d, a) = (self.o(op, 0)?, self.i(op, 0)?);
                if d == a {
                    return Ok(());
                }
                Insn::Mov { d, a }
            }
            Opc::Ext32u | Opc::ExtuI32I64 | Opc::ExtrlI64I32 => Insn::Ext32u {
                d: self.o(op, 0)?,
                a: self.i(op, 0)?,
            },
            Opc::Ext32s if is64 => Insn::Ext32s {
                d: self.o(op, 0)?,
                a: self.i(op, 0)?,
            },
            Opc::ExtsI32I64 => Insn::Ext32s {
                d: self.o(op, 0)?,
                a: self.i(op, 0)?,
            },
            Opc::ExtrhI64I32 => Insn::ShrI {
                d: self.o(op, 0)?,
                a: self.i(op, 0)?,
                sh: 32,
            },
            Opc::Neg if is64 => Insn::Neg {
                d: self.o(op, 0)?,
                a: self.i(op, 0)?,
            },
            Opc::Not if is64 => Insn::Not {
                d: self.o(op, 0)?,
                a: self.i(op, 0)?,
            },
            Opc::Deposit => {
                let (pos, len) = Self::bitfield(op)?;
                Insn::Deposit {
                    d: self.o(op, 0)?,
                    a: self.i(op, 0)?,
                    b: self.i(op, 1)?,
                    pos,
                    len,
                    ty,
                }
            }
            Opc::Extract => {
                let (pos, len) = Self::bitfield(op)?;
                Insn::Extract {
                    d: self.o(op, 0)?,
                    a: self.i(op, 0)?,
                    pos,
                    len,
                }
            }
            Opc::Sextract => {
                let (pos, len) = Self::bitfield(op)?;
                Insn::Sextract {
                    d: self.o(op, 0)?,
                    a: self.i(op, 0)?,
                    pos,
                    len,
                    i32: !is64,
                }
            }
            Opc::Mulu2 | Opc::Muls2 => Insn::Mul2 {
                lo: self.o(op, 0)?,
                hi: self.o(op, 1)?,
                a: self.i(op, 0)?,
                b: self.i(op, 1)?,
                signed: op.opc == Opc::Muls2,
                ty,
            },
            Opc::Setcond => {
                let cc = Cc::new(Self::cond(op, 0)?, ty);
                let d = self.o(op, 0)?;
                let a = self.i(op, 0)?;
                match self.konst(op.iargs[1]) {
                    Some(imm) => Insn::SetcondI { d, a, cc, imm },
                    None => Insn::Setcond {
                        d,
                        a,
                        b: self.i(op, 1)?,
                        cc,
                    },
                }
            }
            Opc::Movcond => Insn::Movcond {
                cc: Cc::new(Self::cond(op, 0)?, ty),
                d: self.o(op, 0)?,
                c1: self.i(op, 0)?,
                c2: self.i(op, 1)?,
                v1: self.i(op, 2)?,
                v2: self.i(op, 3)?,
            },
            Opc::Brcond => {
                let cond = Self::cond(op, 0)?;
                let target = self.label(op, 1)?;
                let a = self.i(op, 0)?;
                match (self.konst(op.iargs[1]), cond) {
                    (Some(0), Cond::Eq) => Insn::BrZ { a, target },
                    (Some(0), Cond::Ne) => Insn::BrNz { a, target },
                    (Some(imm), _) => Insn::BrcondI {
                        a,
                        cc: Cc::new(cond, ty),
                        target,
                        imm,
                    },
                    (None, _) => Insn::Brcond {
                        a,
                        b: self.i(op, 1)?,
                        cc: Cc::new(cond, ty),
                        target,
                    },
                }
            }
            Opc::Br => Insn::Br {
                target: self.label(op, 0)?,
            },
            Opc::LdEnv => {
                let off = Self::env_off(op)?;
                let memop = MemOp(Self::c(op, 1)? as u8);
                self.sync_store(k, off as u64, off as u64 + memop.bytes() as u64);
                Insn::LdEnv {
                    d: self.o(op, 0)?,
                    memop,
                    i32: !is64,
                    off,
                }
            }
            Opc::StEnv => {
                let off = Self::env_off(op)?;
                let memop = MemOp(Self::c(op, 1)? as u8);
                let (lo, hi) = (off as u64, off as u64 + memop.bytes() as u64);
                let a = self.i(op, 0)?;
                self.sync_store(k, lo, hi);
                self.push(Insn::StEnv { a, memop, off });
                self.sync_load(lo, hi, None);
                return Ok(());
            }
            Opc::QemuLd | Opc::QemuSt => {
                return Err(BackendError::Compile(
                    "guest memory op reached the generic path".into(),
                ))
            }
            Opc::AtomicCmpxchg | Opc::AtomicRmw => {
                let memop = MemOp(Self::c(op, 0)? as u8);
                let mmu = Self::c(op, 1)? as u8;
                let rmw = if op.opc == Opc::AtomicRmw {
                    Some(RmwOp::from_u64(Self::c(op, 2)?).ok_or_else(|| invalid("bad rmw op"))?)
                } else {
                    None
                };
                let d = self.o(op, 0)?;
                let addr = self.i(op, 0)?;
                let v = self.i(op, 1)?;
                let new = if rmw.is_none() { self.i(op, 2)? } else { v };
                self.s.atomics.push(AtomicInfo {
                    memop,
                    mmu,
                    rmw,
                    i32: !is64,
                    d,
                    addr,
                    v,
                    new,
                    pcx: self.pcx,
                    sl,
                });
                Insn::Atomic {
                    idx: self.s.atomics.len() as u32 - 1,
                }
            }
            Opc::Mb => {
                let f = BarrierFlags::from_bits_truncate(Self::c(op, 0)? as u8);
                if f.is_empty() {
                    return Ok(());
                }
                // Store-then-load ordering needs a full fence on every host; the other
                // orderings are covered by acquire/release fences.
                Insn::Mb {
                    full: f.contains(BarrierFlags::ST_LD),
                }
            }
            Opc::Call => {
                let h: &Helper = usize::try_from(Self::c(op, 0)?)
                    .ok()
                    .and_then(|i| self.f.helpers.get(i).copied())
                    .ok_or_else(|| invalid("helper index out of range"))?;
                if h.addr == 0 || h.nargs > Helper::MAX_ARGS || op.iargs.len() != h.nargs as usize {
                    return Err(invalid(format!(
                        "helper {} has no address or bad arity",
                        h.name
                    )));
                }
                let mut args = [0; Helper::MAX_ARGS as usize];
                for (k, a) in args.iter_mut().enumerate().take(op.iargs.len()) {
                    *a = self.i(op, k)?;
                }
                let ret = if h.has_ret {
                    Some(self.o(op, 0)?)
                } else {
                    None
                };
                let ret_i32 = op.oargs.first().is_some_and(|&t| self.f.ty(t) == Type::I32);
                // As the JIT: a helper that may write globals is reloaded from afterwards,
                // so our values must be in env first even if it does not read them.
                let writes = !h.flags.contains(HelperFlags::NO_WRITE_GLOBALS);
                self.s.calls.push(CallInfo {
                    addr: h.addr,
                    nargs: h.nargs,
                    args,
                    ret,
                    ret_i32,
                    sync_before: writes || !h.flags.contains(HelperFlags::NO_READ_GLOBALS),
                    reload_after: writes,
                    sl,
                });
                Insn::Call {
                    idx: self.s.calls.len() as u32 - 1,
                }
            }
            Opc::GotoTb => unreachable_op(op)?,
            Opc::ExitTb => {
                let code = Self::c(op, 0)?;
                Insn::Exit {
                    chainable: code <= 1 && self.goto_seen[code as usize],
                    sl,
                    code,
                }
            }
            opc if opc.flags().contains(OpFlags::VECTOR) => {
                let v = self.vec_info(op)?;
                for j in 0..=v.nsrc as usize {
                    let lo = v.offs[j] as u64;
                    self.sync_store(k, lo, lo + VEC_BYTES as u64);
                }
                let dst = v.offs[0] as u64;
                self.s.vecs.push(v);
                let idx = self.s.vecs.len() as u32 - 1;
                self.push(Insn::Vec { idx });
                // The flag output is defined after the destination (it may be a global
                // in it): not reloaded.
                self.sync_load(dst, dst + VEC_BYTES as u64, op.oargs.first().copied());
                return Ok(());
            }
            opc if opc.flags().contains(OpFlags::PURE) => {
                let d = self.o(op, 0)?;
                let a = self.i(op, 0)?;
                if opc.def().nb_iargs == 1 {
                    let ety = unary_eval_type(op);
                    if tcg_ir::semantics::eval_unary(opc, ety, 0).is_none() {
                        return Err(BackendError::Compile(format!(
                            "no semantics for {}",
                            opc.name()
                        )));
                    }
                    Insn::Un { d, a, opc, ty: ety }
                } else {
                    if tcg_ir::semantics::eval_binary(opc, ty, 0, 0).is_none() {
                        return Err(BackendError::Compile(format!(
                            "no semantics for {}",
                            opc.name()
                        )));
                    }
                    Insn::Bin {
                        d,
                        a,
                        b: self.i(op, 1)?,
                        opc,
                        ty,
                    }
                }
            }
            opc => {
                return Err(BackendError::Compile(format!(
                    "unsupported opcode {}",
                    opc.name()
                )))
            }
        };
        self.push(insn);
        Ok(())
    }

    /// The two-input arithmetic ops, with an immediate form when the second input (or the
    /// first, for commutative ops) is a constant.
    fn binary(&mut self, op: &Op) -> Result<(), BackendError> {
        let is64 = op.ty == Type::I64;
        let m = op.ty.mask();
        let (mut x, mut y) = (op.iargs[0], op.iargs[1]);
        let commutative = matches!(op.opc, Opc::Add | Opc::Mul | Opc::And | Opc::Or | Opc::Xor);
        if commutative && self.konst(x).is_some() && self.konst(y).is_none() {
            std::mem::swap(&mut x, &mut y);
        }
        let d = self.o(op, 0)?;
        if self.konst(x).is_none() {
            if let Some(c) = self.konst(y) {
                let a = self.slot(x)?;
                let bits = if is64 { 64 } else { 32 };
                let sh = (c % bits) as u8;
                let insn = match (op.opc, is64) {
                    (Opc::Add, true) => Some(Insn::AddI { d, a, imm: c }),
                    (Opc::Sub, true) => Some(Insn::AddI {
                        d,
                        a,
                        imm: c.wrapping_neg(),
                    }),
                    (Opc::Add, false) => Some(Insn::AddI32 { d, a, imm: c }),
                    (Opc::Sub, false) => Some(Insn::AddI32 {
                        d,
                        a,
                        imm: c.wrapping_neg(),
                    }),
                    (Opc::And, _) => Some(Insn::AndI { d, a, imm: c & m }),
                    (Opc::Or, _) => Some(Insn::OrI { d, a, imm: c & m }),
                    (Opc::Xor, _) => Some(Insn::XorI { d, a, imm: c & m }),
                    (Opc::Shl, true) => Some(Insn::ShlI { d, a, sh }),
                    (Opc::Shl, false) => Some(Insn::ShlI32 { d, a, sh }),
                    (Opc::Shr, _) => Some(Insn::ShrI { d, a, sh }),
                    (Opc::Sar, true) => Some(Insn::SarI { d, a, sh }),
                    (Opc::Sar, false) => Some(Insn::SarI32 { d, a, sh }),
                    _ => None,
                };
                if let Some(i) = insn {
                    self.push(i);
                    return Ok(());
                }
            }
        }
        let (a, b) = (self.slot(x)?, self.slot(y)?);
        let insn = match (op.opc, is64) {
            (Opc::Add, true) => Insn::Add { d, a, b },
            (Opc::Sub, true) => Insn::Sub { d, a, b },
            (Opc::Mul, true) => Insn::Mul { d, a, b },
            (Opc::Shl, true) => Insn::Shl { d, a, b },
            (Opc::Shr, true) => Insn::Shr { d, a, b },
            (Opc::Sar, true) => Insn::Sar { d, a, b },
            (Opc::Add, false) => Insn::Add32 { d, a, b },
            (Opc::Sub, false) => Insn::Sub32 { d, a, b },
            (Opc::Mul, false) => Insn::Mul32 { d, a, b },
            // Masked inputs give masked results.
            (Opc::And, _) => Insn::And { d, a, b },
            (Opc::Or, _) => Insn::Or { d, a, b },
            (Opc::Xor, _) => Insn::Xor { d, a, b },
            (Opc::Andc, _) => Insn::Andc { d, a, b },
            (opc, _) => Insn::Bin {
                d,
                a,
                b,
                opc,
                ty: op.ty,
            },
        };
        self.push(insn);
        Ok(())
    }

    fn finish(self) -> Result<Program, BackendError> {
        let s = self.s;
        let f = self.f;
        let range = |s: &mut Scratch, sel: &dyn Fn(&Scratch, usize) -> bool| {
            let lo = s.meta.len() as u32;
            for k in 0..s.globals.len() {
                let t = s.globals[k] as usize;
                if !sel(s, t) {
                    continue;
                }
                if let TempKind::Global { offset } = f.temps[t].kind {
                    let g = GSlot::new(s.slot[t] as S, f.temps[t].ty == Type::I64, offset);
                    s.meta.push(g.0);
                }
            }
            (lo, s.meta.len() as u32)
        };
        let bit = |s: &Scratch, t: usize| match s.gidx[t] {
            g if g < 128 => 1u128 << g,
            _ => 0,
        };
        let gload = match self.need {
            Some(need) => range(s, &|s, t| need & bit(s, t) != 0),
            None => range(s, &|s, t| s.first[t] != 2),
        };
        let gall = range(s, &|_, _| true);
        let mut ranges = Vec::with_capacity(s.lists.len());
        for k in 0..s.lists.len() {
            let set = s.lists[k];
            let (lo, hi) = range(s, &|s, t| set & bit(s, t) != 0);
            ranges.push(lo as u64 | (hi as u64) << 32);
        }
        let lists = (s.meta.len() as u32, ranges.len() as u32);
        s.meta.extend_from_slice(&ranges);
        let lo = s.meta.len() as u32;
        for k in 0..s.inits.len() {
            let (slot, v) = s.inits[k];
            s.meta.push(slot as u64);
            s.meta.push(v);
        }
        let inits = (lo, s.meta.len() as u32);
        Ok(Program {
            prog: s.prog.as_slice().into(),
            meta: s.meta.as_slice().into(),
            gload,
            gall,
            lists,
            inits,
            pcs: s.pcs.as_slice().into(),
            calls: s.calls.as_slice().into(),
            vecs: s.vecs.as_slice().into(),
            atomics: s.atomics.as_slice().into(),
            nslots: self.nslots,
            first_pc: f
                .ops
                .iter()
                .find(|o| o.opc == Opc::InsnStart)
                .and_then(|o| o.cargs.first().copied()),
            ninsns: f.guest_insn_count() as u32,
            chainable: self.goto_seen.contains(&true),
            self_loops: f.self_loops,
        })
    }
}

/// Ops after which globals are reloaded from env (env may have changed them).
fn reloads_globals(opc: Opc) -> bool {
    matches!(opc, Opc::Call | Opc::StEnv) || opc.flags().contains(OpFlags::VECTOR)
}

/// Ops that can leave the TB, sync globals with env or join control flow.
fn barrier(opc: Opc) -> bool {
    matches!(
        opc,
        Opc::Brcond
            | Opc::Br
            | Opc::SetLabel
            | Opc::ExitTb
            | Opc::GotoTb
            | Opc::LookupGoto
            | Opc::Call
            | Opc::QemuLd
            | Opc::QemuSt
            | Opc::AtomicCmpxchg
            | Opc::AtomicRmw
            | Opc::LdEnv
            | Opc::StEnv
    ) || opc.flags().contains(OpFlags::VECTOR)
}

/// `goto_tb` is handled by `op_at`; reaching `op` with one is a bug, reported as such.
fn unreachable_op(op: &Op) -> Result<Insn, BackendError> {
    Err(BackendError::Compile(format!(
        "{} reached the generic path",
        op.opc.name()
    )))
}
