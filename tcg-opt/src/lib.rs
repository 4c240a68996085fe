//! IR optimisation passes over one TB: constant folding, copy propagation, dead-code elimination.
//!
//! Every pass keeps the function valid for `tcg_ir::verify::verify` and evaluates through
//! `tcg_ir::semantics`, the same code the interpreter runs, so folding cannot change results.

use rustc_hash::FxHashMap;
use smallvec::{smallvec, SmallVec};
use tcg_ir::opcodes::OpFlags;
use tcg_ir::semantics;
use tcg_ir::text::op_label;
use tcg_ir::vector;
use tcg_ir::{Cond, Func, HelperFlags, Label, MemOp, Op, Opc, Temp, TempKind, Type};

// Each pass's buffers, reused by the next TB this thread optimises (taken out while a pass
// runs, so a panic only loses them).
thread_local! {
    static COPIES: std::cell::RefCell<(Copies, Vec<usize>)> = std::cell::RefCell::default();
    static DCE: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
    static CONSTS: std::cell::RefCell<FxHashMap<(Type, u64), Temp>> = std::cell::RefCell::default();
}

/// Runs the passes in order: fold, propagate copies, fold again (propagation exposes new
/// constants), then remove dead code.
pub fn optimize(func: &mut Func) {
    fold_constants(func);
    propagate_copies(func);
    fold_constants(func);
    eliminate_dead_code(func);
}

/// The type a pure unary op is evaluated at: its input's type (the conversions' `op.ty`
/// differs between the builder and the parser, and `eval_unary` masks the input with it).
fn unary_eval_type(op: &Op) -> Type {
    match op.opc {
        Opc::ExtuI32I64 | Opc::ExtsI32I64 => Type::I32,
        Opc::ExtrlI64I32 | Opc::ExtrhI64I32 => Type::I64,
        _ => op.ty,
    }
}

/// Finds or creates constant temps without `Func::constant`'s linear search. The map is
/// built on first use (most TBs fold nothing into a new constant) in the thread's reused
/// map, handed back on drop.
struct Consts(Option<FxHashMap<(Type, u64), Temp>>);

impl Consts {
    fn new() -> Consts {
        Consts(None)
    }

    fn get(&mut self, func: &mut Func, ty: Type, v: u64) -> Temp {
        let v = v & ty.mask();
        let map = self.0.get_or_insert_with(|| {
            let mut m = CONSTS.with(|c| std::mem::take(&mut *c.borrow_mut()));
            m.clear();
            for (i, t) in func.temps.iter().enumerate() {
                if let TempKind::Const(v) = t.kind {
                    m.entry((t.ty, v)).or_insert(Temp(i as u32));
                }
            }
            m
        });
        *map.entry((ty, v)).or_insert_with(|| {
            func.push_temp(tcg_ir::TempData {
                kind: TempKind::Const(v),
                ty,
                name: None,
            })
        })
    }
}

impl Drop for Consts {
    fn drop(&mut self) {
        if let Some(m) = self.0.take() {
            CONSTS.with(|c| *c.borrow_mut() = m);
        }
    }
}

fn mov(ty: Type, d: Temp, s: Temp) -> Op {
    Op {
        opc: Opc::Mov,
        ty,
        oargs: smallvec![d],
        iargs: smallvec![s],
        cargs: SmallVec::new(),
    }
}

/// What folding does with one op.
enum Fold {
    Keep,
    Remove,
    Replace(Op),
    /// Two ops in place of one (a folded double-output op).
    Replace2(Op, Op),
}

/// `a cond a` when it does not depend on the value.
fn cond_on_equal(c: Cond) -> Option<bool> {
    match c {
        Cond::Eq | Cond::Ge | Cond::Le | Cond::Geu | Cond::Leu => Some(true),
        Cond::Ne | Cond::Lt | Cond::Gt | Cond::Ltu | Cond::Gtu => Some(false),
        Cond::TstEq | Cond::TstNe => None,
    }
}

/// The outcome of a comparison of two inputs when it is known at translation time.
fn known_cond(func: &Func, ty: Type, c: Cond, a: Temp, b: Temp) -> Option<bool> {
    match (func.const_value(a), func.const_value(b)) {
        (Some(x), Some(y)) => Some(c.eval(ty, x, y)),
        _ if a == b => cond_on_equal(c),
        _ => None,
    }
}

fn fold_op(func: &mut Func, consts: &mut Consts, op: &Op) -> Fold {
    let flags = op.opc.flags();
    let d = op.oargs.first().copied();
    // Replace the op by `d = constant` / `d = temp`.
    let to_const = |func: &mut Func, consts: &mut Consts, v: u64| -> Fold {
        match d {
            Some(d) => {
                let ty = func.ty(d);
                let c = consts.get(func, ty, v);
                Fold::Replace(mov(ty, d, c))
            }
            None => Fold::Keep,
        }
    };
    let to_copy = |func: &Func, s: Temp| -> Fold {
        match d {
            Some(d) if d == s => Fold::Remove,
            Some(d) => Fold::Replace(mov(func.ty(d), d, s)),
            None => Fold::Keep,
        }
    };
    let ci = |k: usize| op.iargs.get(k).and_then(|&t| func.const_value(t));
    match op.opc {
        Opc::Mov => match (d, op.iargs.first()) {
            (Some(d), Some(&s)) if d == s => Fold::Remove,
            _ => Fold::Keep,
        },
        Opc::Setcond | Opc::Brcond | Opc::Movcond => {
            let (Some(&a), Some(&b), Some(c)) = (
                op.iargs.first(),
                op.iargs.get(1),
                op.cargs.first().and_then(|&c| Cond::from_u64(c)),
            ) else {
                return Fold::Keep;
            };
            let known = known_cond(func, op.ty, c, a, b);
            match op.opc {
                Opc::Setcond => match known {
                    Some(v) => to_const(func, consts, v as u64),
                    None => Fold::Keep,
                },
                Opc::Brcond => match (known, op.cargs.get(1)) {
                    (Some(true), Some(&l)) => Fold::Replace(Op {
                        opc: Opc::Br,
                        ty: Type::I64,
                        oargs: SmallVec::new(),
                        iargs: SmallVec::new(),
                        cargs: smallvec![l],
                    }),
                    (Some(false), _) => Fold::Remove,
                    _ => Fold::Keep,
                },
                _ => {
                    let (Some(&v1), Some(&v2)) = (op.iargs.get(2), op.iargs.get(3)) else {
                        return Fold::Keep;
                    };
                    match known {
                        Some(true) => to_copy(func, v1),
                        Some(false) => to_copy(func, v2),
                        None if v1 == v2 => to_copy(func, v1),
                        None => Fold::Keep,
                    }
                }
            }
        }
        Opc::Deposit | Opc::Extract | Opc::Sextract => {
            let (Some(&pos), Some(&len)) = (op.cargs.first(), op.cargs.get(1)) else {
                return Fold::Keep;
            };
            // Verified IR has pos + len <= width; re-check so no shift can overflow.
            if len == 0 || pos >= 64 || len > 64 || pos + len > op.ty.bits() as u64 {
                return Fold::Keep;
            }
            let (pos, len) = (pos as u32, len as u32);
            match (op.opc, ci(0), ci(1)) {
                (Opc::Deposit, Some(a), Some(b)) => {
                    to_const(func, consts, semantics::deposit(op.ty, a, b, pos, len))
                }
                (Opc::Extract, Some(a), _) => {
                    to_const(func, consts, semantics::extract(op.ty, a, pos, len, false))
                }
                (Opc::Sextract, Some(a), _) => {
                    to_const(func, consts, semantics::extract(op.ty, a, pos, len, true))
                }
                _ => Fold::Keep,
            }
        }
        Opc::Mulu2 | Opc::Muls2 => match (ci(0), ci(1), op.oargs.first(), op.oargs.get(1)) {
            (Some(a), Some(b), Some(&lo), Some(&hi)) => {
                let (l, h) = semantics::mul2(op.ty, a, b, op.opc == Opc::Muls2);
                let (cl, ch) = (consts.get(func, op.ty, l), consts.get(func, op.ty, h));
                // Same order as execution: low first, then high.
                Fold::Replace2(mov(op.ty, lo, cl), mov(op.ty, hi, ch))
            }
            _ => Fold::Keep,
        },
        opc if flags.contains(OpFlags::PURE) && op.cargs.is_empty() && op.oargs.len() == 1 => {
            match op.iargs.len() {
                1 => match ci(0).and_then(|a| semantics::eval_unary(opc, unary_eval_type(op), a)) {
                    Some(r) => to_const(func, consts, r),
                    None => Fold::Keep,
                },
                2 => fold_binary(func, consts, op, &to_const, &to_copy),
                _ => Fold::Keep,
            }
        }
        _ => Fold::Keep,
    }
}

/// Constant inputs, then the algebraic identities that hold for every value.
fn fold_binary(
    func: &mut Func,
    consts: &mut Consts,
    op: &Op,
    to_const: &dyn Fn(&mut Func, &mut Consts, u64) -> Fold,
    to_copy: &dyn Fn(&Func, Temp) -> Fold,
) -> Fold {
    let (Some(&a), Some(&b)) = (op.iargs.first(), op.iargs.get(1)) else {
        return Fold::Keep;
    };
    let ty = op.ty;
    let (ca, cb) = (func.const_value(a), func.const_value(b));
    if let (Some(x), Some(y)) = (ca, cb) {
        return match semantics::eval_binary(op.opc, ty, x, y) {
            Some(r) => to_const(func, consts, r),
            None => Fold::Keep,
        };
    }
    let m = ty.mask();
    let bits = ty.bits() as u64;
    use Opc::*;
    match op.opc {
        Add | Or | Xor | Sub | Andc if cb == Some(0) => to_copy(func, a),
        Add | Or | Xor if ca == Some(0) => to_copy(func, b),
        // Counts are taken modulo the width, so any multiple of it is a shift by zero.
        Shl | Shr | Sar | Rotl | Rotr if cb.is_some_and(|c| c % bits == 0) => to_copy(func, a),
        Shl | Shr | Sar | Rotl | Rotr if ca == Some(0) => to_const(func, consts, 0),
        Mul if cb == Some(1) => to_copy(func, a),
        Mul if ca == Some(1) => to_copy(func, b),
        Mul | And if ca == Some(0) || cb == Some(0) => to_const(func, consts, 0),
        And if cb == Some(m) => to_copy(func, a),
        And if ca == Some(m) => to_copy(func, b),
        Or if ca == Some(m) || cb == Some(m) => to_const(func, consts, m),
        Div | Divu if cb == Some(1) => to_copy(func, a),
        Xor | Sub | Andc if a == b => to_const(func, consts, 0),
        And | Or if a == b => to_copy(func, a),
        Eqv | Orc if a == b => to_const(func, consts, m),
        _ => Fold::Keep,
    }
}

/// Folds pure ops with constant inputs into moves of constants, applies algebraic
/// identities (x+0, x*1, x&0, x^x, shifts by 0, ...), decides setcond/movcond/brcond on
/// known comparisons (a brcond becomes `br` or disappears) and drops `mov x, x`.
pub fn fold_constants(func: &mut Func) {
    let mut consts = Consts::new();
    let mut ops = std::mem::take(&mut func.ops);
    // Ops are rewritten in place; removals are compacted once at the end and the rare
    // one-to-two replacements are spliced in then.
    let mut removed = Vec::new();
    let mut inserted = Vec::new();
    for (i, op) in ops.iter_mut().enumerate() {
        match fold_op(func, &mut consts, op) {
            Fold::Keep => {}
            Fold::Remove => removed.push(i),
            Fold::Replace(r) => *op = r,
            Fold::Replace2(a, b) => {
                *op = a;
                inserted.push((i, b));
            }
        }
    }
    if !inserted.is_empty() {
        let mut out = Vec::with_capacity(ops.len() + inserted.len());
        let mut next = inserted.into_iter().peekable();
        let mut gone = removed.iter().peekable();
        for (i, op) in ops.into_iter().enumerate() {
            if gone.next_if(|&&r| r == i).is_none() {
                out.push(op);
            }
            if let Some((_, b)) = next.next_if(|(j, _)| *j == i) {
                out.push(b);
            }
        }
        ops = out;
    } else if !removed.is_empty() {
        remove_indices(&mut ops, &removed);
    }
    func.ops = ops;
}

/// Removes the ops at `sorted` (ascending, distinct) positions, keeping the order.
fn remove_indices(ops: &mut Vec<Op>, sorted: &[usize]) {
    let mut k = 0;
    let mut i = 0;
    ops.retain(|_| {
        let drop = sorted.get(k) == Some(&i);
        k += drop as usize;
        i += 1;
        !drop
    });
}

/// Known copies during a forward walk. `copy[d] = (s, v, e)` means `d` holds the same
/// value as `s` (a root: never itself a recorded copy) if `s` is still at version `v`
/// (`version[s]` counts its redefinitions) and no label came since (epoch `e`). Forgetting
/// is O(1): redefining `s` bumps its version, a label bumps the epoch.
#[derive(Default)]
struct Copies {
    copy: Vec<(u32, u32, u32)>,
    version: Vec<u32>,
    epoch: u32,
    globals: Vec<(Temp, u32, u32)>,
    /// Recent pure computations by a hash of what they compute (one per slot, the last
    /// wins), for common subexpressions.
    avail: Vec<Avail>,
    /// Counts the functions walked: entries of earlier ones are stale.
    walk: u32,
    /// Per temp: (version, epoch) when it was last defined by an op leaving bits 63..32
    /// zero (a 32-bit unsigned load, a zero extension, ...); it is known zero-extended
    /// while both still hold, and an `ext32u` of it is a copy.
    zext: Vec<(u32, u32)>,
}

/// Whether `op` (defining a 64-bit temp) leaves bits 63..32 of its output zero.
fn zero_extends(func: &Func, op: &Op) -> bool {
    let c = |k: usize| op.iargs.get(k).and_then(|&t| func.const_value(t));
    let carg = |k: usize| op.cargs.get(k).copied().unwrap_or(u64::MAX);
    match op.opc {
        Opc::QemuLd | Opc::LdEnv => {
            let k = if op.opc == Opc::QemuLd { 0 } else { 1 };
            let m = MemOp(carg(k) as u8);
            m.bytes() <= 4 && !m.signed()
        }
        Opc::Ext32u | Opc::Ext16u | Opc::Ext8u | Opc::ExtuI32I64 | Opc::Setcond => true,
        Opc::Extract => carg(0).saturating_add(carg(1)) <= 32,
        Opc::Shr => c(1).is_some_and(|n| (32..64).contains(&n)),
        Opc::And => c(1).is_some_and(|m| m <= u32::MAX as u64),
        _ => false,
    }
}

/// Slots of [`Copies::avail`] (a power of two): enough for the computations of a few
/// instructions, as an instruction's address arithmetic repeating the one before it
/// (`lsl x7, x2, #2; ldr w4, [x19, x2, lsl #2]`).
const AVAIL: usize = 64;

type AvailKey = (Opc, Type, [u32; 2], [u64; 2]);

/// A pure op's result still in `out`: valid while the walk, the epoch, `out`'s version and
/// its inputs' versions are those recorded.
#[derive(Clone, Copy)]
struct Avail {
    key: AvailKey,
    vers: [u32; 2],
    out: u32,
    vout: u32,
    epoch: u32,
    walk: u32,
}

fn avail_slot(key: &AvailKey) -> usize {
    let (opc, _, args, cargs) = *key;
    let h = (opc as u64 | (args[0] as u64) << 8 | (args[1] as u64) << 36)
        ^ cargs[0].rotate_left(21)
        ^ cargs[1].rotate_left(42);
    (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize % AVAIL
}

const NO_COPY: u32 = u32::MAX;

impl Copies {
    fn forget(&mut self, t: Temp) {
        if let Some(c) = self.copy.get_mut(t.index()) {
            c.0 = NO_COPY;
        }
        if let Some(v) = self.version.get_mut(t.index()) {
            *v = v.wrapping_add(1);
        }
    }

    fn forget_all(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
    }

    fn record(&mut self, d: Temp, s: Temp) {
        let v = self.version.get(s.index()).copied().unwrap_or(0);
        if let Some(c) = self.copy.get_mut(d.index()) {
            *c = (s.0, v, self.epoch);
        }
    }

    /// Forgets every global overlapping env bytes `[lo, hi)` (all for `u32::MAX`).
    fn forget_globals(&mut self, lo: u64, hi: u64) {
        for k in 0..self.globals.len() {
            let (g, off, bytes) = self.globals[k];
            if (off as u64) < hi && lo < off as u64 + bytes as u64 {
                self.forget(g);
            }
        }
    }

    /// The key of a pure single-output op with at most two inputs and two constant
    /// arguments (others are not remembered).
    fn avail_key(op: &Op) -> Option<AvailKey> {
        if op.oargs.len() != 1
            || op.iargs.len() > 2
            || op.cargs.len() > 2
            || op.opc == Opc::Mov
            || !op.opc.flags().contains(OpFlags::PURE)
        {
            return None;
        }
        let arg = |k: usize| op.iargs.get(k).map_or(NO_COPY, |t| t.0);
        let carg = |k: usize| op.cargs.get(k).copied().unwrap_or(u64::MAX);
        Some((op.opc, op.ty, [arg(0), arg(1)], [carg(0), carg(1)]))
    }

    /// `t`, just defined, is zero-extended (see `zext`).
    fn mark_zext(&mut self, t: Temp) {
        let v = (self.ver(t.0), self.epoch);
        if let Some(z) = self.zext.get_mut(t.index()) {
            *z = v;
        }
    }

    fn ver(&self, t: u32) -> u32 {
        self.version.get(t as usize).copied().unwrap_or(0)
    }

    /// A temp already holding what `key` computes, if one is known.
    fn find_avail(&self, key: AvailKey) -> Option<Temp> {
        let a = self.avail.get(avail_slot(&key))?;
        let args = key.2;
        (a.walk == self.walk
            && a.key == key
            && a.epoch == self.epoch
            && a.vout == self.ver(a.out)
            && (0..2).all(|k| args[k] == NO_COPY || a.vers[k] == self.ver(args[k])))
        .then_some(Temp(a.out))
    }

    /// Remembers that `out` (just redefined by the op of `key`) holds its result.
    fn add_avail(&mut self, key: AvailKey, out: Temp, vers: [u32; 2]) {
        let a = Avail {
            key,
            vers,
            out: out.0,
            vout: self.ver(out.0),
            epoch: self.epoch,
            walk: self.walk,
        };
        if let Some(s) = self.avail.get_mut(avail_slot(&key)) {
            *s = a;
        }
    }

    fn resolve(&self, t: Temp) -> Temp {
        match self.copy.get(t.index()) {
            Some(&(s, v, e))
                if s != NO_COPY
                    && e == self.epoch
                    && self.version.get(s as usize).copied() == Some(v) =>
            {
                Temp(s)
            }
            _ => t,
        }
    }
}

/// Replaces uses of temps known to be copies of another temp or of a constant by that
/// source. Copy knowledge ends when either side is redefined, for globals also at calls
/// that may write globals and at `st_env` or vector ops over them, and entirely at every
/// label (control flow merges there). A `mov` that becomes `mov x, x` is removed.
/// A pure op computing what a recent one left in a temp still holding it (same inputs,
/// unchanged since) becomes a copy of that temp (common-subexpression elimination).
pub fn propagate_copies(func: &mut Func) {
    let (mut st, mut removed) = COPIES.with(|c| c.take());
    let n = func.temps.len();
    st.globals.clear();
    st.globals.extend(
        func.temps
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match t.kind {
                TempKind::Global { offset } => Some((Temp(i as u32), offset, t.ty.bits() / 8)),
                _ => None,
            }),
    );
    st.copy.clear();
    st.copy.resize(n, (NO_COPY, 0, 0));
    st.version.clear();
    st.version.resize(n, 0);
    st.epoch = 0;
    st.zext.clear();
    st.zext.resize(n, (u32::MAX, u32::MAX));
    st.walk = st.walk.wrapping_add(1);
    // (After 2^32 walks the counter could meet an entry's again: start the table over.)
    if st.avail.len() != AVAIL || st.walk == 0 {
        let none = Avail {
            key: (Opc::Mov, Type::I64, [NO_COPY; 2], [0; 2]),
            vers: [0; 2],
            out: NO_COPY,
            vout: 0,
            epoch: 0,
            walk: st.walk.wrapping_sub(1),
        };
        st.avail = vec![none; AVAIL];
    }
    removed.clear();
    let mut ops = std::mem::take(&mut func.ops);
    for (i, op) in ops.iter_mut().enumerate() {
        if op.opc == Opc::SetLabel {
            st.forget_all();
            continue;
        }
        for t in op.iargs.iter_mut() {
            *t = st.resolve(*t);
        }
        if op.opc == Opc::Mov {
            if let (Some(&d), Some(&s)) = (op.oargs.first(), op.iargs.first()) {
                if d == s {
                    removed.push(i); // value unchanged: drop the op and keep what we know
                    continue;
                }
                st.forget(d);
                if func.ty(d) == func.ty(s) {
                    st.record(d, s);
                }
            }
            continue;
        }
        if op.opc == Opc::Ext32u && op.ty == Type::I64 {
            // Of a value known zero-extended: a copy.
            if let (Some(&d), Some(&a)) = (op.oargs.first(), op.iargs.first()) {
                let known = (st.ver(a.0), st.epoch);
                if st.zext.get(a.index()) == Some(&known) && func.ty(a) == Type::I64 {
                    if d == a {
                        removed.push(i); // value unchanged
                        continue;
                    }
                    *op = mov(Type::I64, d, a);
                    st.forget(d);
                    st.record(d, a);
                    continue;
                }
            }
        }
        let zext = op.oargs.len() == 1 && op.ty == Type::I64 && zero_extends(func, op);
        if let Some(key) = Copies::avail_key(op) {
            let d = op.oargs[0];
            let found = st.find_avail(key);
            if let Some(s) = found.filter(|&s| s != d && func.ty(s) == func.ty(d)) {
                // Same value as `s`: a copy of it (dropped later when `d` is a local
                // whose reads all become reads of `s`).
                *op = mov(func.ty(d), d, s);
                st.forget(d);
                st.record(d, s);
                continue;
            }
            let vers = key.2.map(|a| st.ver(a));
            st.forget(d);
            if zext {
                st.mark_zext(d);
            }
            if !key.2.contains(&d.0) {
                st.add_avail(key, d, vers);
            }
            continue;
        }
        for &o in op.oargs.iter() {
            st.forget(o);
        }
        if zext {
            st.mark_zext(op.oargs[0]);
        }
        match op.opc {
            Opc::Call => {
                let writes = op
                    .cargs
                    .first()
                    .and_then(|&h| func.helpers.get(h as usize))
                    .is_none_or(|h| !h.flags.contains(HelperFlags::NO_WRITE_GLOBALS));
                if writes {
                    st.forget_globals(0, u64::MAX);
                }
            }
            Opc::StEnv => {
                if let (Some(&off), Some(&m)) = (op.cargs.first(), op.cargs.get(1)) {
                    st.forget_globals(off, off.saturating_add(MemOp(m as u8).bytes() as u64));
                }
            }
            // A vector op writes the 16 bytes of its destination operand.
            opc if opc.flags().contains(OpFlags::VECTOR) => {
                if let Some(&d) = vector::env_operands(op).first() {
                    st.forget_globals(d as u64, d as u64 + vector::VEC_BYTES as u64);
                }
            }
            _ => {}
        }
    }
    remove_indices(&mut ops, &removed);
    func.ops = ops;
    COPIES.with(|c| c.replace((st, removed)));
}

/// Can this op be dropped when none of its outputs is needed?
fn removable(func: &Func, op: &Op) -> bool {
    match op.opc {
        Opc::LdEnv => true,
        Opc::Call => op
            .cargs
            .first()
            .and_then(|&h| func.helpers.get(h as usize))
            .is_some_and(|h| {
                h.flags
                    .contains(HelperFlags::NO_SIDE_EFFECTS | HelperFlags::NO_WRITE_GLOBALS)
            }),
        opc => opc.flags().contains(OpFlags::PURE),
    }
}

/// The label a `br`/`brcond`/`set_label` names (the only ops that carry one).
fn label_of(op: &Op) -> Option<Label> {
    match op.opc {
        Opc::Br | Opc::Brcond | Opc::SetLabel => op_label(op),
        _ => None,
    }
}

/// Control-flow clean-up: drops code after `br`/`exit_tb` up to the next label, `br` to
/// the label that immediately follows, and labels nothing branches to. Returns whether
/// anything changed. Works on a keep-mask and compacts in place: most TBs have nothing to
/// clean up and then no op moves.
fn simplify_control_flow(func: &mut Func, scratch: &mut Scratch) -> bool {
    let mut changed = false;
    loop {
        let used = &mut scratch.labels;
        used.clear();
        used.resize(func.nb_labels as usize, false);
        for op in &func.ops {
            if op.opc != Opc::SetLabel {
                if let Some(u) = label_of(op).and_then(|l| used.get_mut(l.0 as usize)) {
                    *u = true;
                }
            }
        }
        let keep = &mut scratch.keep;
        keep.clear();
        keep.resize(func.ops.len(), true);
        // Indices of the ops kept so far, so `br L; L:` can drop the `br` as a rebuilt
        // list would (the op before a dropped `br` is then "last" again).
        let kept = &mut scratch.stack;
        kept.clear();
        let mut reachable = true;
        let mut progress = false;
        for (i, op) in func.ops.iter().enumerate() {
            if op.opc == Opc::SetLabel {
                let l = label_of(op);
                if !l
                    .and_then(|l| used.get(l.0 as usize))
                    .copied()
                    .unwrap_or(true)
                {
                    keep[i] = false;
                    progress = true;
                    continue;
                }
                // `br L; L:` -> `L:`
                if let Some(&p) = kept.last() {
                    let prev: &Op = &func.ops[p];
                    if prev.opc == Opc::Br && label_of(prev) == l {
                        keep[p] = false;
                        kept.pop();
                        progress = true;
                    }
                }
                reachable = true;
            }
            if !reachable {
                keep[i] = false;
                progress = true;
                continue;
            }
            if matches!(op.opc, Opc::Br | Opc::ExitTb) {
                reachable = false;
            }
            kept.push(i);
        }
        if !progress {
            return changed;
        }
        compact(&mut func.ops, keep);
        changed = true;
    }
}

/// Keeps the ops whose `keep` entry is set, in order.
fn compact(ops: &mut Vec<Op>, keep: &[bool]) {
    let mut i = 0;
    ops.retain(|_| {
        let k = keep.get(i).copied().unwrap_or(true);
        i += 1;
        k
    });
}

/// Buffers of the dead-code passes (kept per thread between TBs, see `DCE`).
#[derive(Default)]
struct Scratch {
    labels: Vec<bool>,
    keep: Vec<bool>,
    stack: Vec<usize>,
    /// Dense index of each temp among the TB's locals (`NOT_LOCAL` for the others), so
    /// liveness sets are bit sets over the locals only: a branch costs a few words.
    local: Vec<u32>,
    read_anywhere: Vec<u64>,
    live: Vec<u64>,
    /// The live set at each label already passed in the backward walk (`words` each),
    /// and whether it was passed.
    at_label: Vec<u64>,
    label_seen: Vec<bool>,
}

const NOT_LOCAL: u32 = u32::MAX;

impl Scratch {
    /// Numbers the locals of `func` (its temps do not change during dead-code removal).
    fn index_locals(&mut self, func: &Func) -> usize {
        let mut n = 0u32;
        self.local.clear();
        self.local.extend(func.temps.iter().map(|t| {
            if t.kind == TempKind::Local {
                n += 1;
                n - 1
            } else {
                NOT_LOCAL
            }
        }));
        n as usize
    }
}

fn bit(set: &[u64], i: u32) -> bool {
    set.get(i as usize / 64)
        .is_some_and(|w| w >> (i % 64) & 1 != 0)
}

fn set_bit(set: &mut [u64], i: u32, v: bool) {
    if let Some(w) = set.get_mut(i as usize / 64) {
        let m = 1u64 << (i % 64);
        if v {
            *w |= m;
        } else {
            *w &= !m;
        }
    }
}

/// Backward liveness of TB-locals; drops side-effect-free ops whose outputs are all dead
/// locals. Globals are never removed (they are live at every exit and wherever the TB may
/// be left). Liveness across branches is conservative: at a `br`/`brcond` every local read
/// anywhere in the function counts as live. Returns whether anything changed.
/// One backward liveness walk over the locals, removing ops whose results are all dead.
/// A branch to a label the walk already passed (a forward branch) takes that label's live
/// set, which makes the walk exact; a backward branch takes every local read anywhere.
/// Returns whether it removed anything and whether it met a backward branch.
fn remove_dead_ops(func: &mut Func, scratch: &mut Scratch, nlocals: usize) -> (bool, bool) {
    let Scratch {
        keep,
        local,
        read_anywhere,
        live,
        at_label,
        label_seen,
        ..
    } = scratch;
    let idx = |t: Temp| local.get(t.index()).copied().unwrap_or(NOT_LOCAL);
    let words = nlocals.div_ceil(64);
    let nlabels = func.nb_labels as usize;
    at_label.clear();
    at_label.resize(nlabels * words, 0);
    label_seen.clear();
    label_seen.resize(nlabels, false);
    let mut anywhere_ready = false;
    let mut backward = false;
    live.clear();
    live.resize(words, 0);
    keep.clear();
    keep.resize(func.ops.len(), true);
    let mut any = false;
    for (i, op) in func.ops.iter().enumerate().rev() {
        match op.opc {
            Opc::ExitTb => live.iter_mut().for_each(|l| *l = 0),
            Opc::SetLabel => {
                if let Some(l) = op
                    .cargs
                    .first()
                    .map(|&l| l as usize)
                    .filter(|&l| l < nlabels)
                {
                    at_label[l * words..(l + 1) * words].copy_from_slice(live);
                    label_seen[l] = true;
                }
            }
            Opc::Br | Opc::Brcond => {
                let l = op.cargs.get(if op.opc == Opc::Br { 0 } else { 1 });
                let target = match l.map(|&l| l as usize) {
                    Some(l) if label_seen.get(l).copied().unwrap_or(false) => {
                        &at_label[l * words..(l + 1) * words]
                    }
                    _ => {
                        backward = true;
                        if !anywhere_ready {
                            read_anywhere.clear();
                            read_anywhere.resize(words, 0);
                            for op in &func.ops {
                                for &t in &op.iargs {
                                    let i = idx(t);
                                    if i != NOT_LOCAL {
                                        set_bit(read_anywhere, i, true);
                                    }
                                }
                            }
                            anywhere_ready = true;
                        }
                        &read_anywhere[..]
                    }
                };
                if op.opc == Opc::Br {
                    live.copy_from_slice(target);
                } else {
                    for (l, &r) in live.iter_mut().zip(target.iter()) {
                        *l |= r;
                    }
                }
            }
            _ => {}
        }
        let all_dead = op.oargs.iter().all(|&t| {
            let i = idx(t);
            i != NOT_LOCAL && !bit(live, i)
        });
        if all_dead && removable(func, op) {
            keep[i] = false;
            any = true;
            continue;
        }
        for &o in &op.oargs {
            let i = idx(o);
            if i != NOT_LOCAL {
                set_bit(live, i, false);
            }
        }
        for &t in &op.iargs {
            let i = idx(t);
            if i != NOT_LOCAL {
                set_bit(live, i, true);
            }
        }
    }
    if any {
        compact(&mut func.ops, keep);
    }
    (any, backward)
}

/// Dead-code elimination: control-flow clean-up (unreachable code, jumps to the next op,
/// unused labels), then removal of side-effect-free ops whose results are never read.
///
/// One clean-up is enough: removing ops never removes a branch, so it cannot make code
/// unreachable or a label unused. One removal pass is exact (backward liveness drops whole
/// dead chains, forward branches take their label's live set) except at backward
/// branches, where every local read anywhere counts as live: only a function with one can
/// gain from another pass once reads were removed.
pub fn eliminate_dead_code(func: &mut Func) {
    let mut scratch = DCE.with(|s| s.take());
    let nlocals = scratch.index_locals(func);
    simplify_control_flow(func, &mut scratch);
    for _ in 0..4 {
        let (removed, backward) = remove_dead_ops(func, &mut scratch, nlocals);
        if !removed || !backward {
            break;
        }
    }
    DCE.with(|s| s.replace(scratch));
}
