//! IR -> Cranelift IR for one TB.
//!
//! The TB becomes `fn(env: i64) -> i64` in Cranelift's `tail` calling convention (entered
//! from Rust through the trampoline in `lib.rs`); helpers are called in the host's C
//! convention.
//!
//! * Globals live in Cranelift variables for the whole TB: loaded once after the
//!   exit-request check, written back before every exit, before a helper call that may read
//!   them and on the fault exits, and reloaded after a helper that may write them.
//!   `ld_env`/`st_env` that overlap a global sync that global around the access. Only
//!   *dirty* globals are written back: those that may differ from env at that point (written
//!   since the last write-back on some path to it; with a backward branch in the TB, every
//!   global the TB writes). Each guest memory op has its own cold fault exit storing the
//!   globals dirty there, so no block parameters carry them to a shared one.
//! * Locals are variables; constants are `iconst`s (GVN merges repeats).
//! * Guest memory ops inline the TLB hit path; the miss path calls the softmmu helpers out of
//!   line (cold blocks) and leaves through one shared fault exit if the helper recorded a
//!   fault.
//! * `goto_tb n` atomically loads slot `n` of the TB's chain cell; if non-zero it writes
//!   back the globals and tail-calls that address with `env` (the next TB); otherwise it
//!   falls through to the `exit_tb n` that follows, which returns
//!   `ExitCode::chainable(cell, n)` so the execution loop can patch the slot.
//! * Vector ops (operands in env) load 16-byte host vectors of their lane type, compute
//!   with Cranelift's SIMD instructions and store 16 bytes; globals sharing bytes with an
//!   operand are synced around them like `ld_env`/`st_env`.
//! * Invariants the verifier guarantees are not re-checked with panics: a violation gives
//!   `BackendError::Compile`.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, types, AbiParam, AtomicRmwOp, Block, BlockArg, InstBuilder, MemFlagsData, SigRef,
    Signature, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use softmmu::layout::*;
use softmmu::slow;
use std::collections::HashMap;
use tcg_ir::opcodes::OpFlags;
use tcg_ir::vector::{self, VecShape, VEC_BYTES};
use tcg_ir::{
    BackendError, BarrierFlags, Cond, ExitCode, Func, HelperFlags, MemOp, Op, Opc, RmwOp, Temp,
    TempKind, Type,
};

fn cty(t: Type) -> ir::Type {
    match t {
        Type::I32 => types::I32,
        Type::I64 => types::I64,
    }
}

fn int_of_bytes(bytes: u32) -> ir::Type {
    match bytes {
        1 => types::I8,
        2 => types::I16,
        4 => types::I32,
        _ => types::I64,
    }
}

fn mask_of(t: ir::Type) -> u64 {
    if t.bits() >= 64 {
        u64::MAX
    } else {
        (1u64 << t.bits()) - 1
    }
}

/// The signature of a TB: `fn(env) -> exit code`.
/// The memory slow-path helpers TB code calls through `preserve_all` stubs, with their
/// argument counts (env included), in [`SlowPaths`] order.
pub(crate) fn slow_helpers() -> [(usize, usize); 4] {
    [
        (slow::helper_ld as *const () as usize, 4),
        (slow::helper_st as *const () as usize, 5),
        (slow::helper_cmpxchg as *const () as usize, 6),
        (slow::helper_rmw as *const () as usize, 5),
    ]
}

/// Addresses of the `preserve_all` stubs of [`slow_helpers`] in one arena: load, store,
/// cmpxchg, rmw.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlowPaths(pub [usize; 4]);

pub(crate) fn tb_signature(cc: CallConv) -> Signature {
    let mut s = Signature::new(cc);
    s.params.push(AbiParam::new(types::I64));
    s.returns.push(AbiParam::new(types::I64));
    s
}

#[derive(Clone, Copy)]
struct GlobalInfo {
    temp: Temp,
    offset: u32,
    ty: Type,
    written: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum MemKind {
    Load,
    Store,
    Cmpxchg,
    Rmw(RmwOp),
}

struct Tr<'a, 'f> {
    f: &'f Func,
    b: FunctionBuilder<'a>,
    /// Calling convention of helpers (the host's C convention).
    cc: CallConv,
    /// Address of this TB's chain cell (`[slot0, slot1, ..]`, `AtomicU64`s).
    cell: usize,
    /// `goto_tb n` seen: `exit_tb n` returns a chainable value.
    goto_seen: [bool; 2],
    /// Signature of a TB, for chained tail calls.
    tb_sig: Option<SigRef>,
    /// First violated IR invariant.
    err: Option<String>,
    env: Value,
    vars: Vec<Option<Variable>>,
    globals: Vec<GlobalInfo>,
    labels: Vec<Block>,
    /// The current block is a fresh block nothing jumps to (after `br`/`exit_tb`).
    dead: bool,
    /// Per entry of `globals`: may differ from env here (see the module doc).
    dirty: Vec<bool>,
    /// Per label: globals dirty on some branch to it seen so far.
    label_dirty: Vec<Vec<bool>>,
    /// The TB branches backwards: dirty state is not tracked (every written global is
    /// always dirty).
    back_edges: bool,
    /// Index in `globals` of each temp (`u32::MAX`: not a used global).
    gidx: Vec<u32>,
    pc: u64,
    sigs: HashMap<usize, SigRef>,
    /// The slow-path stubs of this TB's arena, and their signatures by argument count.
    slow_paths: SlowPaths,
    preserving_sigs: HashMap<usize, SigRef>,
    /// The stack slot the slow-path stubs return their result in.
    slow_ret: Option<ir::StackSlot>,
    /// The TB's shared `return FAULT` block (filled at the end).
    fault_ret: Option<Block>,
    /// Cranelift's `shuffle` compiles inline on this ISA (else `vshuf` moves bytes).
    byte_shuffle: bool,
    /// Where the TB's ops start, after the entry's exit check and global loads, when the
    /// TB loops to itself (`Func::self_loops`): those `goto_tb`s jump back here with the
    /// globals still in variables.
    head: Option<Block>,
}

fn flags_env() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// Translates `func` (already verified) into `out`; `cell` is the TB's chain cell.
pub(crate) fn translate(
    func: &Func,
    out: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
    fcfg: TargetFrontendConfig,
    cell: usize,
    slow_paths: &SlowPaths,
    byte_shuffle: bool,
) -> Result<(), BackendError> {
    let cc = fcfg.default_call_conv;
    out.signature = tb_signature(CallConv::Tail);
    let mut b = FunctionBuilder::new(out, fctx);

    // Which temps are used, which globals are written.
    let nt = func.temps.len();
    let mut used = vec![false; nt];
    let mut written = vec![false; nt];
    for op in &func.ops {
        for &t in &op.iargs {
            used[t.index()] = true;
        }
        for &t in &op.oargs {
            used[t.index()] = true;
            written[t.index()] = true;
        }
    }
    // Globals whose first reference is a write in the straight-line prefix of the TB are
    // defined on every path that reaches a use of them, and need no load at entry. The
    // prefix ends at the first branch or label. Exits, calls, env and guest memory
    // accesses before that write are fine: they write back (and helpers and env accesses
    // see in env) only dirty globals, and a global is dirty only once written, so they
    // never need its entry value. With a backward branch every written global counts as
    // dirty from the start, so there the prefix also ends at those ops.
    // A loop back to the TB's own start (`Func::self_loops`) is a backward branch too.
    let back_edges = has_back_edges(func) || func.self_loops != 0;
    let mut read_first = vec![false; nt];
    let mut write_first = vec![false; nt];
    for op in &func.ops {
        use Opc::*;
        let control = matches!(op.opc, Brcond | Br | SetLabel);
        let syncs = matches!(
            op.opc,
            ExitTb
                | GotoTb
                | LookupGoto
                | Call
                | QemuLd
                | QemuSt
                | AtomicCmpxchg
                | AtomicRmw
                | LdEnv
                | StEnv
        ) || op.opc.flags().contains(OpFlags::VECTOR);
        if control || (back_edges && syncs) {
            break;
        }
        for &t in &op.iargs {
            if !write_first[t.index()] {
                read_first[t.index()] = true;
            }
        }
        for &t in &op.oargs {
            if !read_first[t.index()] {
                write_first[t.index()] = true;
            }
        }
    }
    let mut vars = vec![None; nt];
    let mut globals = Vec::new();
    for (i, td) in func.temps.iter().enumerate() {
        if !used[i] {
            continue;
        }
        match td.kind {
            TempKind::Global { offset } => {
                vars[i] = Some(b.declare_var(cty(td.ty)));
                globals.push(GlobalInfo {
                    temp: Temp(i as u32),
                    offset,
                    ty: td.ty,
                    written: written[i],
                });
            }
            TempKind::Local => vars[i] = Some(b.declare_var(cty(td.ty))),
            TempKind::Const(_) => {}
        }
    }

    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    // Blocks are sealed as soon as all their predecessors exist (here: none), so the SSA
    // builder resolves variables directly instead of adding block parameters that
    // register allocation then has to carry (it dominates compile time).
    b.seal_block(entry);
    let env = b.block_params(entry)[0];
    let labels = (0..func.nb_labels).map(|_| b.create_block()).collect();
    let mut gidx = vec![u32::MAX; nt];
    for (k, g) in globals.iter().enumerate() {
        gidx[g.temp.index()] = k as u32;
    }
    let dirty: Vec<bool> = globals.iter().map(|g| back_edges && g.written).collect();

    let mut tr = Tr {
        f: func,
        b,
        cc,
        cell,
        goto_seen: [false; 2],
        tb_sig: None,
        err: None,
        env,
        vars,
        label_dirty: vec![vec![false; globals.len()]; func.nb_labels as usize],
        globals,
        labels,
        dead: false,
        dirty,
        back_edges,
        gidx,
        pc: 0,
        sigs: HashMap::new(),
        slow_paths: *slow_paths,
        preserving_sigs: HashMap::new(),
        slow_ret: None,
        fault_ret: None,
        byte_shuffle,
        head: None,
    };

    // Exit request check, then the globals.
    let req =
        tr.b.ins()
            .load(types::I32, flags_env(), env, ENV_EXIT_REQUEST as i32);
    let req_block = tr.b.create_block();
    let body = tr.b.create_block();
    tr.b.set_cold_block(req_block);
    tr.b.ins().brif(req, req_block, &[], body, &[]);
    tr.b.seal_block(req_block);
    tr.b.seal_block(body);
    tr.b.switch_to_block(req_block);
    let v = tr.b.ins().iconst(types::I64, ExitCode::REQUESTED as i64);
    tr.b.ins().return_(&[v]);
    tr.b.switch_to_block(body);
    tr.reload_globals(|g| !write_first[g.temp.index()]);
    if func.self_loops != 0 {
        // Sealed only at the end, once the back edges exist: the globals the loop uses
        // become its block parameters.
        let head = tr.b.create_block();
        tr.b.ins().jump(head, &[]);
        tr.b.switch_to_block(head);
        tr.head = Some(head);
    }

    // Without backward branches, a global's last write in the TB (in op order) is its
    // final value on every path through that op: it is stored there, not at the exits,
    // so its value need not stay in a register until then (fewer live values, fewer
    // callee-saved registers to save on entry and restore on every chained exit).
    let mut last_def = vec![usize::MAX; nt];
    if !back_edges {
        for (i, op) in func.ops.iter().enumerate() {
            for &t in &op.oargs {
                if matches!(func.temps[t.index()].kind, TempKind::Global { .. }) {
                    last_def[t.index()] = i;
                }
            }
        }
    }
    let mut skip = false;
    for (i, op) in func.ops.iter().enumerate() {
        if std::mem::take(&mut skip) {
            continue;
        }
        // An LDP/STP-shaped pair: one TLB probe for both accesses.
        let second = crate::quick::pair_at(func, i);
        match second {
            Some(next) => {
                tr.guest_pair(op, next);
                skip = true;
            }
            None => tr.op(op),
        }
        if tr.dead {
            continue;
        }
        for (k, o) in std::iter::once(op).chain(second).enumerate() {
            for &t in &o.oargs {
                if last_def[t.index()] == i + k {
                    tr.store_global_now(t);
                }
            }
        }
    }
    // Running off the end is invalid IR (the verifier, off in release builds, requires a
    // final exit): leave through the loop rather than hand Cranelift an open block.
    if !tr.dead {
        tr.exit(ExitCode::LOOKUP);
    }
    if let Some(fb) = tr.fault_ret {
        tr.b.switch_to_block(fb);
        let v = tr.b.ins().iconst(types::I64, ExitCode::FAULT as i64);
        tr.b.ins().return_(&[v]);
    }
    tr.b.seal_all_blocks();
    let err = tr.err.take();
    tr.b.finalize(fcfg);
    match err {
        Some(e) => Err(BackendError::Compile(e)),
        None => Ok(()),
    }
}

/// Whether some branch goes to a label set before it (translators only branch forward,
/// but hand-written IR may loop).
fn has_back_edges(func: &Func) -> bool {
    let mut set = vec![false; func.nb_labels as usize];
    for op in &func.ops {
        match op.opc {
            Opc::SetLabel => {
                if let Some(s) = set.get_mut(op.cargs[0] as usize) {
                    *s = true;
                }
            }
            Opc::Br | Opc::Brcond => {
                let l = op.cargs[if op.opc == Opc::Br { 0 } else { 1 }] as usize;
                if set.get(l).copied().unwrap_or(true) {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

impl Tr<'_, '_> {
    fn k(&mut self, ty: ir::Type, v: u64) -> Value {
        self.b.ins().iconst(ty, (v & mask_of(ty)) as i64)
    }

    /// Records a violated IR invariant (reported as `BackendError::Compile`).
    fn fail(&mut self, msg: String) {
        if self.err.is_none() {
            self.err = Some(msg);
        }
    }

    fn var(&mut self, t: Temp) -> Option<Variable> {
        let v = self.vars.get(t.index()).copied().flatten();
        if v.is_none() {
            self.fail(format!("temp {} has no variable", t.index()));
        }
        v
    }

    fn get(&mut self, t: Temp) -> Value {
        let Some(td) = self.f.temps.get(t.index()) else {
            self.fail(format!("temp {} out of range", t.index()));
            return self.b.ins().iconst(types::I64, 0);
        };
        let ty = cty(td.ty);
        match td.kind {
            TempKind::Const(v) => self.k(ty, v),
            _ => match self.var(t) {
                Some(var) => self.b.use_var(var),
                None => self.b.ins().iconst(ty, 0),
            },
        }
    }

    fn set(&mut self, t: Temp, v: Value) {
        if let Some(var) = self.var(t) {
            self.b.def_var(var, v);
            if let Some(&k) = self.gidx.get(t.index()) {
                if let Some(d) = self.dirty.get_mut(k as usize) {
                    *d = true;
                }
            }
        }
    }

    /// Records a branch to label `l` from here (its dirty globals merge there).
    fn branch_to(&mut self, l: u64) {
        if let Some(ld) = self.label_dirty.get_mut(l as usize) {
            for (a, &d) in ld.iter_mut().zip(self.dirty.iter()) {
                *a |= d;
            }
        }
    }

    fn label(&mut self, l: u64) -> Block {
        match self.labels.get(l as usize) {
            Some(&b) => b,
            None => {
                self.fail(format!("label {l} out of range"));
                self.b.create_block()
            }
        }
    }

    fn cond_of(&mut self, c: u64) -> Cond {
        Cond::from_u64(c).unwrap_or_else(|| {
            self.fail(format!("bad condition {c}"));
            Cond::Eq
        })
    }

    fn env_addr(&mut self, off: u64) -> (Value, i32) {
        if off <= i32::MAX as u64 {
            (self.env, off as i32)
        } else {
            let a = self.b.ins().iadd_imm_s(self.env, off as i64);
            (a, 0)
        }
    }

    /// Writes back global `t` if dirty (it is clean afterwards).
    fn store_global_now(&mut self, t: Temp) {
        let Some(&k) = self.gidx.get(t.index()) else {
            return;
        };
        self.store_globals_at(k as usize..k as usize + 1, |_| true);
    }

    /// Writes back the dirty globals selected by `sel` (they are clean afterwards).
    fn store_globals(&mut self, sel: impl Fn(&GlobalInfo) -> bool) {
        self.store_globals_at(0..self.globals.len(), sel);
    }

    fn store_globals_at(
        &mut self,
        range: std::ops::Range<usize>,
        sel: impl Fn(&GlobalInfo) -> bool,
    ) {
        for i in range {
            let Some(&g) = self.globals.get(i) else {
                continue;
            };
            if !g.written || !self.dirty[i] || !sel(&g) {
                continue;
            }
            let Some(var) = self.var(g.temp) else {
                continue;
            };
            let v = self.b.use_var(var);
            let (base, off) = self.env_addr(g.offset as u64);
            self.b.ins().store(flags_env(), v, base, off);
            self.dirty[i] = self.back_edges;
        }
    }

    /// Reloads the globals selected by `sel` from env (they are clean afterwards).
    fn reload_globals(&mut self, sel: impl Fn(&GlobalInfo) -> bool) {
        for i in 0..self.globals.len() {
            let g = self.globals[i];
            if !sel(&g) {
                continue;
            }
            let (base, off) = self.env_addr(g.offset as u64);
            let v = self.b.ins().load(cty(g.ty), flags_env(), base, off);
            self.set(g.temp, v);
            self.dirty[i] = self.back_edges && g.written;
        }
    }

    fn start_dead_block(&mut self) {
        let nb = self.b.create_block();
        // Unreachable: nothing will branch here.
        self.b.seal_block(nb);
        self.b.switch_to_block(nb);
        self.dead = true;
    }

    fn exit(&mut self, code: u64) {
        self.store_globals(|_| true);
        let v = self.b.ins().iconst(types::I64, code as i64);
        self.b.ins().return_(&[v]);
        self.start_dead_block();
    }

    fn sig(&mut self, nparams: usize) -> SigRef {
        if let Some(&s) = self.sigs.get(&nparams) {
            return s;
        }
        let mut s = Signature::new(self.cc);
        for _ in 0..nparams {
            s.params.push(AbiParam::new(types::I64));
        }
        s.returns.push(AbiParam::new(types::I64));
        let r = self.b.import_signature(s);
        self.sigs.insert(nparams, r);
        r
    }

    /// Calls `addr` as `extern "C" fn(env, args..) -> u64`.
    fn call(&mut self, addr: usize, args: &[Value]) -> Value {
        let sig = self.sig(args.len() + 1);
        let callee = self.b.ins().iconst(types::I64, addr as i64);
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.env);
        all.extend_from_slice(args);
        let inst = self.b.ins().call_indirect(sig, callee, &all);
        self.b.inst_results(inst)[0]
    }

    /// Calls slow-path helper `which` (index into [`slow_helpers`]) through its
    /// `preserve_all` stub, as `fn(env, args..) -> u64`; the stub stores the result in a
    /// stack slot of this TB's frame.
    fn call_slow(&mut self, which: usize, args: &[Value]) -> Value {
        let n = args.len() + 1;
        debug_assert_eq!(slow_helpers()[which].1, n);
        let sig = match self.preserving_sigs.get(&n) {
            Some(&s) => s,
            None => {
                let mut s = Signature::new(CallConv::PreserveAll);
                for _ in 0..=n {
                    s.params.push(AbiParam::new(types::I64));
                }
                let r = self.b.import_signature(s);
                self.preserving_sigs.insert(n, r);
                r
            }
        };
        let slot = *self.slow_ret.get_or_insert_with(|| {
            self.b.create_sized_stack_slot(ir::StackSlotData::new(
                ir::StackSlotKind::ExplicitSlot,
                8,
                3,
            ))
        });
        let out = self.b.ins().stack_addr(types::I64, slot, 0);
        let callee = self
            .b
            .ins()
            .iconst(types::I64, self.slow_paths.0[which] as i64);
        let mut all = Vec::with_capacity(n + 1);
        all.push(self.env);
        all.extend_from_slice(args);
        all.push(out);
        self.b.ins().call_indirect(sig, callee, &all);
        self.b.ins().stack_load(types::I64, types::I64, slot, 0)
    }

    fn cond(&mut self, c: Cond, a: Value, b: Value) -> Value {
        let cc = match c {
            Cond::Eq => IntCC::Equal,
            Cond::Ne => IntCC::NotEqual,
            Cond::Lt => IntCC::SignedLessThan,
            Cond::Ge => IntCC::SignedGreaterThanOrEqual,
            Cond::Le => IntCC::SignedLessThanOrEqual,
            Cond::Gt => IntCC::SignedGreaterThan,
            Cond::Ltu => IntCC::UnsignedLessThan,
            Cond::Geu => IntCC::UnsignedGreaterThanOrEqual,
            Cond::Leu => IntCC::UnsignedLessThanOrEqual,
            Cond::Gtu => IntCC::UnsignedGreaterThan,
            Cond::TstEq | Cond::TstNe => {
                let x = self.b.ins().band(a, b);
                let cc = if c == Cond::TstEq {
                    IntCC::Equal
                } else {
                    IntCC::NotEqual
                };
                return self.b.ins().icmp_imm_s(cc, x, 0);
            }
        };
        self.b.ins().icmp(cc, a, b)
    }

    fn narrow(&mut self, v: Value, to: ir::Type) -> Value {
        if self.b.func.dfg.value_type(v) == to {
            v
        } else {
            self.b.ins().ireduce(to, v)
        }
    }

    fn widen(&mut self, v: Value, to: ir::Type, signed: bool) -> Value {
        if self.b.func.dfg.value_type(v) == to {
            v
        } else if signed {
            self.b.ins().sextend(to, v)
        } else {
            self.b.ins().uextend(to, v)
        }
    }

    /// Leaves the TB with `ExitCode::FAULT` when `fault` (the env's fault word) is set:
    /// a cold exit of its own that writes back the globals dirty here. Continues in a new
    /// block otherwise.
    fn op(&mut self, op: &Op) {
        use Opc::*;
        let ty = cty(op.ty);
        match op.opc {
            SetLabel => {
                let l = self.label(op.cargs[0]);
                if self.dead {
                    self.dirty.iter_mut().for_each(|d| *d = false);
                } else {
                    self.b.ins().jump(l, &[]);
                }
                if let Some(ld) = self.label_dirty.get(op.cargs[0] as usize) {
                    for (d, &a) in self.dirty.iter_mut().zip(ld.iter()) {
                        *d |= a;
                    }
                }
                self.b.switch_to_block(l);
                self.dead = false;
                return;
            }
            _ if self.dead && op.opc != InsnStart => {
                // Unreachable until the next label.
                return;
            }
            _ => {}
        }
        match op.opc {
            SetLabel => {}
            Mov => {
                let a = self.get(op.iargs[0]);
                self.set(op.oargs[0], a);
            }
            Add | Sub | Mul | And | Or | Xor | Andc | Orc | Eqv | Shl | Shr | Sar | Rotl | Rotr => {
                let a = self.get(op.iargs[0]);
                let b = self.get(op.iargs[1]);
                let i = self.b.ins();
                let r = match op.opc {
                    Add => i.iadd(a, b),
                    Sub => i.isub(a, b),
                    Mul => i.imul(a, b),
                    And => i.band(a, b),
                    Or => i.bor(a, b),
                    Xor => i.bxor(a, b),
                    Andc => i.band_not(a, b),
                    Orc => i.bor_not(a, b),
                    Eqv => i.bxor_not(a, b),
                    Shl => i.ishl(a, b),
                    Shr => i.ushr(a, b),
                    Sar => i.sshr(a, b),
                    Rotl => i.rotl(a, b),
                    _ => i.rotr(a, b),
                };
                self.set(op.oargs[0], r);
            }
            Div | Divu | Rem | Remu => {
                let a = self.get(op.iargs[0]);
                let b = self.get(op.iargs[1]);
                let zero = self.k(ty, 0);
                let one = self.k(ty, 1);
                let bz = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
                let r = match op.opc {
                    Divu | Remu => {
                        let sb = self.b.ins().select(bz, one, b);
                        if op.opc == Divu {
                            let q = self.b.ins().udiv(a, sb);
                            self.b.ins().select(bz, zero, q)
                        } else {
                            let r = self.b.ins().urem(a, sb);
                            self.b.ins().select(bz, a, r)
                        }
                    }
                    _ => {
                        // b == 0 or b == -1 divide by 1 instead (no trap), then fix up:
                        // x/0 = 0, x/-1 = -x (MIN/-1 = MIN); x%0 = x, x%-1 = 0.
                        let m1 = self.k(ty, u64::MAX);
                        let bm1 = self.b.ins().icmp(IntCC::Equal, b, m1);
                        let special = self.b.ins().bor(bz, bm1);
                        let sb = self.b.ins().select(special, one, b);
                        if op.opc == Div {
                            let q = self.b.ins().sdiv(a, sb);
                            let na = self.b.ins().ineg(a);
                            let q = self.b.ins().select(bm1, na, q);
                            self.b.ins().select(bz, zero, q)
                        } else {
                            let r = self.b.ins().srem(a, sb);
                            self.b.ins().select(bz, a, r)
                        }
                    }
                };
                self.set(op.oargs[0], r);
            }
            Neg | Not | Clz | Ctz | Ctpop => {
                let a = self.get(op.iargs[0]);
                let i = self.b.ins();
                let r = match op.opc {
                    Neg => i.ineg(a),
                    Not => i.bnot(a),
                    Clz => i.clz(a),
                    Ctz => i.ctz(a),
                    _ => i.popcnt(a),
                };
                self.set(op.oargs[0], r);
            }
            Ext8s | Ext8u | Ext16s | Ext16u | Ext32s | Ext32u => {
                let a = self.get(op.iargs[0]);
                let (nt, signed) = match op.opc {
                    Ext8s => (types::I8, true),
                    Ext8u => (types::I8, false),
                    Ext16s => (types::I16, true),
                    Ext16u => (types::I16, false),
                    Ext32s => (types::I32, true),
                    _ => (types::I32, false),
                };
                let r = if nt.bits() >= ty.bits() {
                    a
                } else {
                    let n = self.b.ins().ireduce(nt, a);
                    self.widen(n, ty, signed)
                };
                self.set(op.oargs[0], r);
            }
            ExtuI32I64 | ExtsI32I64 => {
                let a = self.get(op.iargs[0]);
                let r = self.widen(a, types::I64, op.opc == ExtsI32I64);
                self.set(op.oargs[0], r);
            }
            ExtrlI64I32 | ExtrhI64I32 => {
                let mut a = self.get(op.iargs[0]);
                if op.opc == ExtrhI64I32 {
                    a = self.b.ins().ushr_imm_s(a, 32);
                }
                let r = self.b.ins().ireduce(types::I32, a);
                self.set(op.oargs[0], r);
            }
            Bswap16 | Bswap32 | Bswap64 => {
                let a = self.get(op.iargs[0]);
                let nt = match op.opc {
                    Bswap16 => types::I16,
                    Bswap32 => types::I32,
                    _ => types::I64,
                };
                let r = if nt.bits() > ty.bits() {
                    // bswap64 of a zero-extended i32: the low half is the swapped (zero) top.
                    self.k(ty, 0)
                } else {
                    let n = self.narrow(a, nt);
                    let s = self.b.ins().bswap(n);
                    self.widen(s, ty, false)
                };
                self.set(op.oargs[0], r);
            }
            Deposit => {
                let a = self.get(op.iargs[0]);
                let b = self.get(op.iargs[1]);
                let (pos, len) = (op.cargs[0] as u32, op.cargs[1] as u32);
                let field = if len >= 64 {
                    u64::MAX
                } else {
                    (1u64 << len) - 1
                };
                let mask = (field << pos) & mask_of(ty);
                let r = if mask == mask_of(ty) {
                    b
                } else {
                    let na = self.k(ty, !mask);
                    let keep = self.b.ins().band(a, na);
                    let sh = if pos > 0 {
                        self.b.ins().ishl_imm_s(b, pos as i64)
                    } else {
                        b
                    };
                    let m = self.k(ty, mask);
                    let ins = self.b.ins().band(sh, m);
                    self.b.ins().bor(keep, ins)
                };
                self.set(op.oargs[0], r);
            }
            Extract | Sextract => {
                let a = self.get(op.iargs[0]);
                let (pos, len) = (op.cargs[0] as u32, op.cargs[1] as u32);
                let w = ty.bits();
                let r = if op.opc == Extract {
                    let s = if pos > 0 {
                        self.b.ins().ushr_imm_s(a, pos as i64)
                    } else {
                        a
                    };
                    if pos + len >= w {
                        s
                    } else {
                        let m = self.k(ty, (1u64 << len) - 1);
                        self.b.ins().band(s, m)
                    }
                } else {
                    let up = w - pos - len;
                    let s = if up > 0 {
                        self.b.ins().ishl_imm_s(a, up as i64)
                    } else {
                        a
                    };
                    if len == w {
                        s
                    } else {
                        self.b.ins().sshr_imm_s(s, (w - len) as i64)
                    }
                };
                self.set(op.oargs[0], r);
            }
            Mulu2 | Muls2 => {
                let a = self.get(op.iargs[0]);
                let b = self.get(op.iargs[1]);
                let lo = self.b.ins().imul(a, b);
                let hi = if op.opc == Mulu2 {
                    self.b.ins().umulhi(a, b)
                } else {
                    self.b.ins().smulhi(a, b)
                };
                self.set(op.oargs[0], lo);
                self.set(op.oargs[1], hi);
            }
            Setcond => {
                let a = self.get(op.iargs[0]);
                let b = self.get(op.iargs[1]);
                let cc = self.cond_of(op.cargs[0]);
                let c = self.cond(cc, a, b);
                let r = self.b.ins().uextend(ty, c);
                self.set(op.oargs[0], r);
            }
            Movcond => {
                let c1 = self.get(op.iargs[0]);
                let c2 = self.get(op.iargs[1]);
                let v1 = self.get(op.iargs[2]);
                let v2 = self.get(op.iargs[3]);
                let cc = self.cond_of(op.cargs[0]);
                let c = self.cond(cc, c1, c2);
                let r = self.b.ins().select(c, v1, v2);
                self.set(op.oargs[0], r);
            }
            Brcond => {
                let a = self.get(op.iargs[0]);
                let b = self.get(op.iargs[1]);
                let cc = self.cond_of(op.cargs[0]);
                let c = self.cond(cc, a, b);
                let target = self.label(op.cargs[1]);
                self.branch_to(op.cargs[1]);
                let next = self.b.create_block();
                self.b.ins().brif(c, target, &[], next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            Br => {
                let target = self.label(op.cargs[0]);
                self.branch_to(op.cargs[0]);
                self.b.ins().jump(target, &[]);
                self.start_dead_block();
            }
            LdEnv => {
                let off = op.cargs[0];
                let m = MemOp(op.cargs[1] as u8);
                let end = off + m.bytes() as u64;
                self.store_globals(|g| overlaps(g, off, end));
                let (base, o) = self.env_addr(off);
                let r = self.host_load(m, ty, flags_env(), base, o);
                self.set(op.oargs[0], r);
            }
            StEnv => {
                let off = op.cargs[0];
                let m = MemOp(op.cargs[1] as u8);
                let end = off + m.bytes() as u64;
                let v = self.get(op.iargs[0]);
                self.store_globals(|g| overlaps(g, off, end));
                let (base, o) = self.env_addr(off);
                self.host_store(m, v, flags_env(), base, o);
                self.reload_globals(|g| overlaps(g, off, end));
            }
            QemuLd => self.guest_mem(op, MemKind::Load),
            QemuSt => self.guest_mem(op, MemKind::Store),
            AtomicCmpxchg => self.guest_mem(op, MemKind::Cmpxchg),
            AtomicRmw => match RmwOp::from_u64(op.cargs[2]) {
                Some(r) => self.guest_mem(op, MemKind::Rmw(r)),
                None => self.fail(format!("bad atomic op {}", op.cargs[2])),
            },
            Mb => {
                let fl = BarrierFlags::from_bits_retain(op.cargs[0] as u8);
                let need = if cfg!(target_arch = "x86_64") {
                    fl.contains(BarrierFlags::ST_LD)
                } else {
                    !fl.is_empty()
                };
                if need {
                    self.b.ins().fence();
                }
            }
            Call => {
                let Some(&h) = self.f.helpers.get(op.cargs[0] as usize) else {
                    self.fail(format!("helper {} out of range", op.cargs[0]));
                    return;
                };
                let args: Vec<Value> = op
                    .iargs
                    .iter()
                    .map(|&t| {
                        let v = self.get(t);
                        self.widen(v, types::I64, false)
                    })
                    .collect();
                // A helper that may write globals is reloaded from afterwards, so our
                // values must be in env first even if it does not read them.
                let writes = !h.flags.contains(HelperFlags::NO_WRITE_GLOBALS);
                if writes || !h.flags.contains(HelperFlags::NO_READ_GLOBALS) {
                    self.store_globals(|_| true);
                }
                let r = self.call(h.addr, &args);
                if writes {
                    self.reload_globals(|_| true);
                }
                if let Some(&d) = op.oargs.first() {
                    let r = self.narrow(r, cty(self.f.ty(d)));
                    self.set(d, r);
                }
            }
            VMov | VNot | VNeg | VAbs | VAdd | VSub | VMul | VAnd | VOr | VXor | VAndc | VOrc
            | VSmin | VSmax | VUmin | VUmax | VCmp | VShli | VShri | VSari | VBitsel | VDup
            | VAnds | VOrs | VCmps | VUsadd | VSsadd | VUssub | VSssub | VShuf | VMla | VMls
            | VTbl => self.vec_op(op),
            InsnStart => self.pc = op.cargs[0],
            GotoTb => self.goto_tb(op.cargs[0]),
            LookupGoto => self.lookup_goto(op),
            ExitTb => {
                let c = op.cargs[0];
                let code = if c <= ExitCode::GOTO_TB1 && self.goto_seen[c as usize] {
                    ExitCode::chainable(self.cell, c)
                } else {
                    c
                };
                self.exit(code)
            }
        }
    }

    /// A 128-bit constant of vector type `vty` (little-endian bytes).
    fn vconst(&mut self, vty: ir::Type, v: u128) -> Value {
        let c = self
            .b
            .func
            .dfg
            .constants
            .insert(ir::ConstantData::from(v.to_le_bytes().to_vec()));
        self.b.ins().vconst(vty, c)
    }

    /// The 16 bytes at `env + off` as a vector of `vty`.
    fn vload(&mut self, vty: ir::Type, off: u32) -> Value {
        let (base, o) = self.env_addr(off as u64);
        self.b.ins().load(vty, flags_env(), base, o)
    }

    /// A vector op (see `tcg_ir::vector`): loads the env operands as host vectors of the
    /// lane type, one Cranelift vector instruction (a short sequence for the few lane
    /// sizes x86 lacks), then one 16-byte store; 8-byte shapes clear the upper half first.
    fn vec_op(&mut self, op: &Op) {
        use Opc::*;
        let envs = vector::env_operands(op);
        let Some(shape) = vector::shape(op).filter(|_| !envs.is_empty()) else {
            self.fail(format!("{}: bad vector operands", op.opc.name()));
            return;
        };
        // Globals kept in variables that share bytes with an operand: env must hold
        // their values before the op reads them, and they are reloaded after it writes.
        for &o in &envs {
            let (lo, hi) = (o as u64, o as u64 + VEC_BYTES as u64);
            self.store_globals(|g| overlaps(g, lo, hi));
        }
        let vty = match shape.vece {
            0 => types::I8X16,
            1 => types::I16X8,
            2 => types::I32X4,
            _ => types::I64X2,
        };
        let bits = shape.lane_bits() as u64;
        let src = |tr: &mut Self, k: usize| -> Value {
            let off = envs.get(k + 1).copied().unwrap_or(0);
            tr.vload(vty, off)
        };
        // The scalar input, replicated to every lane.
        let splat = |tr: &mut Self| -> Value {
            let x = match op.iargs.first() {
                Some(&t) => tr.get(t),
                None => tr.b.ins().iconst(types::I64, 0),
            };
            let x = tr.widen(x, types::I64, false);
            let x = tr.narrow(x, vty.lane_type());
            tr.b.ins().splat(vty, x)
        };
        // Lanes (all-ones) where a saturating op saturated.
        let mut sat_lanes = None;
        let r = match op.opc {
            VUsadd | VSsadd | VUssub | VSssub => {
                let a = src(self, 0);
                let b = src(self, 1);
                let (r, s) = self.vec_sat(op.opc, vty, a, b);
                sat_lanes = Some(s);
                r
            }
            VShuf => {
                let Some(m) = vector::shuffle_mask(op) else {
                    self.fail("vshuf without a mask".into());
                    return;
                };
                if !self.byte_shuffle {
                    self.vshuf_bytes(shape, &envs, m);
                    return;
                }
                let a = self.vload(types::I8X16, envs[1]);
                let b = self.vload(types::I8X16, envs[2]);
                // Cranelift takes indices 0..32 only: zero bytes are masked off after.
                let idx = m.to_le_bytes();
                let sel: Vec<u8> = idx.iter().map(|&k| if k < 32 { k } else { 0 }).collect();
                let keep = u128::from_le_bytes(idx.map(|k| if k < 32 { 0xff } else { 0 }));
                let imm = self.b.func.dfg.immediates.push(ir::ConstantData::from(sel));
                let r = self.b.ins().shuffle(a, b, imm);
                let r = if keep == u128::MAX {
                    r
                } else {
                    let k = self.vconst(types::I8X16, keep);
                    self.b.ins().band(r, k)
                };
                if vty == types::I8X16 {
                    r
                } else {
                    let le = MemFlagsData::new().with_endianness(ir::Endianness::Little);
                    self.b.ins().bitcast(vty, le, r)
                }
            }
            VTbl => {
                if !self.byte_shuffle {
                    self.vtbl_bytes(shape, &envs);
                    return;
                }
                let t = self.vload(types::I8X16, envs[1]);
                let i = self.vload(types::I8X16, envs[2]);
                // Indices of 16 and up give zero, as TBL's.
                let r = self.b.ins().swizzle(t, i);
                if vty == types::I8X16 {
                    r
                } else {
                    let le = MemFlagsData::new().with_endianness(ir::Endianness::Little);
                    self.b.ins().bitcast(vty, le, r)
                }
            }
            VMov => src(self, 0),
            VNot | VNeg | VAbs => {
                let a = src(self, 0);
                let i = self.b.ins();
                match op.opc {
                    VNot => i.bnot(a),
                    VNeg => i.ineg(a),
                    _ => i.iabs(a),
                }
            }
            VMul => {
                let (a, b) = (envs[1], envs[2]);
                self.vmul(vty, a, b)
            }
            VMla | VMls => {
                let p = self.vmul(vty, envs[1], envs[2]);
                let acc = src(self, 2);
                if op.opc == VMla {
                    self.b.ins().iadd(acc, p)
                } else {
                    self.b.ins().isub(acc, p)
                }
            }
            VAdd | VSub | VAnd | VOr | VXor | VAndc | VOrc | VSmin | VSmax | VUmin | VUmax => {
                let a = src(self, 0);
                let b = src(self, 1);
                let i = self.b.ins();
                match op.opc {
                    VAdd => i.iadd(a, b),
                    VSub => i.isub(a, b),
                    VAnd => i.band(a, b),
                    VOr => i.bor(a, b),
                    VXor => i.bxor(a, b),
                    VAndc => i.band_not(a, b),
                    VOrc => {
                        let nb = i.bnot(b);
                        self.b.ins().bor(a, nb)
                    }
                    VSmin => i.smin(a, b),
                    VSmax => i.smax(a, b),
                    VUmin => i.umin(a, b),
                    _ => i.umax(a, b),
                }
            }
            VCmp | VCmps => {
                let c = self.cond_of(op.cargs[1]);
                let a = src(self, 0);
                let b = if op.opc == VCmp {
                    src(self, 1)
                } else {
                    splat(self)
                };
                self.vcmp(vty, c, a, b)
            }
            VShli | VShri if op.cargs[3] >= bits => self.vconst(vty, 0),
            VShli | VShri | VSari => {
                let a = src(self, 0);
                let sh = op.cargs[3].min(bits - 1);
                let n = self.b.ins().iconst(types::I32, sh as i64);
                let i = self.b.ins();
                match op.opc {
                    VShli => i.ishl(a, n),
                    VShri => i.ushr(a, n),
                    _ => i.sshr(a, n),
                }
            }
            VBitsel => {
                let c = src(self, 0);
                let t = src(self, 1);
                let f = src(self, 2);
                self.b.ins().bitselect(c, t, f)
            }
            VDup => splat(self),
            VAnds | VOrs => {
                let a = src(self, 0);
                let x = splat(self);
                if op.opc == VAnds {
                    self.b.ins().band(a, x)
                } else {
                    self.b.ins().bor(a, x)
                }
            }
            _ => {
                self.fail(format!("{} is not a vector op", op.opc.name()));
                return;
            }
        };
        let (r, sat_lanes) = if shape.q {
            (r, sat_lanes)
        } else {
            let m = self.vconst(vty, u64::MAX as u128);
            let s = sat_lanes.map(|s| self.b.ins().band(s, m));
            (self.b.ins().band(r, m), s)
        };
        let flag = sat_lanes.map(|s| {
            let any = self.b.ins().vany_true(s);
            self.b.ins().uextend(types::I64, any)
        });
        let d = envs[0];
        let (base, o) = self.env_addr(d as u64);
        self.b.ins().store(flags_env(), r, base, o);
        let (lo, hi) = (d as u64, d as u64 + VEC_BYTES as u64);
        self.reload_globals(|g| overlaps(g, lo, hi));
        // The flag output is defined after the destination (it may be a global in it).
        if let (Some(f), Some(&t)) = (flag, op.oargs.first()) {
            self.set(t, f);
        }
    }

    /// `vshuf` one byte at a time (hosts without a byte shuffle): all 16 bytes are read
    /// before any is written, as operands may alias.
    fn vshuf_bytes(&mut self, shape: VecShape, envs: &[u32], m: u128) {
        let (Some(&d), Some(&a), Some(&b)) = (envs.first(), envs.get(1), envs.get(2)) else {
            return;
        };
        let n = shape.oprsz();
        let bytes: Vec<Value> = (0..n)
            .map(|i| {
                let k = ((m >> (8 * i)) & 0xff) as u32;
                let off = match k {
                    0..16 => a + k,
                    16..32 => b + k - 16,
                    _ => return self.b.ins().iconst(types::I32, 0),
                };
                let (base, o) = self.env_addr(off as u64);
                self.b.ins().uload8(types::I32, flags_env(), base, o)
            })
            .collect();
        self.store_vec_bytes(d, bytes);
    }

    /// `vtbl` a byte at a time (hosts without an inline byte shuffle): every index byte
    /// picks a table byte at a computed env address, or zero, before anything is stored.
    fn vtbl_bytes(&mut self, shape: VecShape, envs: &[u32]) {
        let (Some(&d), Some(&t), Some(&x)) = (envs.first(), envs.get(1), envs.get(2)) else {
            return;
        };
        let n = shape.oprsz();
        let bytes: Vec<Value> = (0..n)
            .map(|i| {
                let (base, o) = self.env_addr(x as u64 + i as u64);
                let k = self.b.ins().uload8(types::I64, flags_env(), base, o);
                // In range: the byte at table + k; else the byte at table + 0, then zero.
                let ok = self
                    .b
                    .ins()
                    .icmp_imm_u(ir::condcodes::IntCC::UnsignedLessThan, k, 16);
                let zero = self.b.ins().iconst(types::I64, 0);
                let k = self.b.ins().select(ok, k, zero);
                let (base, o) = self.env_addr(t as u64);
                let a = self.b.ins().iadd(base, k);
                let v = self.b.ins().uload8(types::I32, flags_env(), a, o);
                let z = self.b.ins().iconst(types::I32, 0);
                self.b.ins().select(ok, v, z)
            })
            .collect();
        self.store_vec_bytes(d, bytes);
    }

    /// Stores the result bytes of a byte-at-a-time vector op at env offset `d` (the upper
    /// half zeroed for 8 bytes) and reloads the globals sharing those bytes.
    fn store_vec_bytes(&mut self, d: u32, bytes: Vec<Value>) {
        let n = bytes.len() as u32;
        for (i, x) in bytes.into_iter().enumerate() {
            let (base, o) = self.env_addr(d as u64 + i as u64);
            self.b.ins().istore8(flags_env(), x, base, o);
        }
        if n < VEC_BYTES {
            let z = self.b.ins().iconst(types::I64, 0);
            let (base, o) = self.env_addr(d as u64 + 8);
            self.b.ins().store(flags_env(), z, base, o);
        }
        self.reload_globals(|g| overlaps(g, d as u64, d as u64 + VEC_BYTES as u64));
    }

    /// Lane-wise product of the env operands at `a` and `b`, as `vty`. x86 has no byte
    /// multiply: for bytes, the even ones come from a 16-bit multiply of the pairs, the
    /// odd ones from the high bytes of a times the high bytes of b.
    fn vmul(&mut self, vty: ir::Type, a: u32, b: u32) -> Value {
        if vty != types::I8X16 {
            let x = self.vload(vty, a);
            let y = self.vload(vty, b);
            return self.b.ins().imul(x, y);
        }
        let w = types::I16X8;
        let a = self.vload(w, a);
        let b = self.vload(w, b);
        let lo_mask = self.vconst(w, vector::dup(1, 0x00ff));
        let hi_mask = self.vconst(w, vector::dup(1, 0xff00));
        let p = self.b.ins().imul(a, b);
        let lo = self.b.ins().band(p, lo_mask);
        let eight = self.b.ins().iconst(types::I32, 8);
        let ah = self.b.ins().ushr(a, eight);
        let bh = self.b.ins().band(b, hi_mask);
        let hi = self.b.ins().imul(ah, bh);
        let r = self.b.ins().bor(lo, hi);
        let le = MemFlagsData::new().with_endianness(ir::Endianness::Little);
        self.b.ins().bitcast(vty, le, r)
    }

    /// A saturating add/sub: the result and all-ones lanes where it saturated. x86 has
    /// saturating instructions for 8- and 16-bit lanes only; wider lanes detect the
    /// overflow from the wrapping result.
    fn vec_sat(&mut self, opc: Opc, vty: ir::Type, a: Value, b: Value) -> (Value, Value) {
        use Opc::*;
        let bits = vty.lane_bits() as i64;
        let add = matches!(opc, VUsadd | VSsadd);
        let w = if add {
            self.b.ins().iadd(a, b)
        } else {
            self.b.ins().isub(a, b)
        };
        if bits <= 16 {
            let i = self.b.ins();
            let r = match opc {
                VUsadd => i.uadd_sat(a, b),
                VSsadd => i.sadd_sat(a, b),
                VUssub => i.usub_sat(a, b),
                _ => i.ssub_sat(a, b),
            };
            let s = self.b.ins().icmp(IntCC::NotEqual, r, w);
            return (r, s);
        }
        match opc {
            VUsadd => {
                // Carry out: the sum wrapped below an operand; saturate to all-ones.
                let c = self.b.ins().icmp(IntCC::UnsignedLessThan, w, a);
                (self.b.ins().bor(w, c), c)
            }
            VUssub => {
                let c = self.b.ins().icmp(IntCC::UnsignedLessThan, a, b);
                (self.b.ins().band_not(w, c), c)
            }
            _ => {
                // Signed overflow: the result's sign differs from what the operands
                // allow; saturate towards a's sign (MIN if a < 0, else MAX).
                let x = if add {
                    let p = self.b.ins().bxor(a, w);
                    let q = self.b.ins().bxor(b, w);
                    self.b.ins().band(p, q)
                } else {
                    let p = self.b.ins().bxor(a, b);
                    let q = self.b.ins().bxor(a, w);
                    self.b.ins().band(p, q)
                };
                let n = self.b.ins().iconst(types::I32, bits - 1);
                let m = self.b.ins().sshr(x, n);
                let sign = self.b.ins().sshr(a, n);
                let max = self.vconst(
                    vty,
                    vector::dup(if bits == 32 { 2 } else { 3 }, (1u64 << (bits - 1)) - 1),
                );
                let lim = self.b.ins().bxor(sign, max);
                (self.b.ins().bitselect(m, lim, w), m)
            }
        }
    }

    /// Lane-wise comparison of two vectors of `vty`: all-ones lanes where it holds.
    fn vcmp(&mut self, vty: ir::Type, c: Cond, a: Value, b: Value) -> Value {
        match c {
            Cond::TstEq | Cond::TstNe => {
                let x = self.b.ins().band(a, b);
                let z = self.vconst(vty, 0);
                let cc = if c == Cond::TstEq {
                    IntCC::Equal
                } else {
                    IntCC::NotEqual
                };
                self.b.ins().icmp(cc, x, z)
            }
            _ => self.cond(c, a, b),
        }
    }

    /// `goto_tb slot`: tail-call the TB in the chain cell's slot, if any.
    fn goto_tb(&mut self, slot: u64) {
        if slot > 1 {
            self.fail(format!("goto_tb slot {slot}"));
            return;
        }
        self.goto_seen[slot as usize] = true;
        let addr = self.k(types::I64, (self.cell + 8 * slot as usize) as u64);
        let next = self
            .b
            .ins()
            .atomic_load(types::I64, MemFlagsData::trusted(), addr);
        if let Some(head) = self.head.filter(|_| self.f.self_loops & (1 << slot) != 0) {
            // The next TB is this one: while the slot stays chained (an invalidation
            // unchains it) and no exit is requested (what the entry would check), loop
            // here without writing the globals back.
            // Two tests and branches, not one on their conjunction: x86 then needs no
            // setcc/and to combine them.
            let out = self.b.create_block();
            let chained = self.b.create_block();
            self.b.ins().brif(next, chained, &[], out, &[]);
            self.b.seal_block(chained);
            self.b.switch_to_block(chained);
            let req = self
                .b
                .ins()
                .load(types::I32, flags_env(), self.env, ENV_EXIT_REQUEST as i32);
            self.b.ins().brif(req, out, &[], head, &[]);
            self.b.seal_block(out);
            self.b.switch_to_block(out);
        }
        // Globals go back to env on both paths (the tail call and the `exit_tb` that
        // follows), so write them once here.
        self.store_globals(|_| true);
        let chain = self.b.create_block();
        let stay = self.b.create_block();
        self.b.ins().brif(next, chain, &[], stay, &[]);
        self.b.seal_block(chain);
        self.b.seal_block(stay);
        self.b.switch_to_block(chain);
        let sig = self.tb_sig();
        let env = self.env;
        self.b.ins().return_call_indirect(sig, next, &[env]);
        self.b.switch_to_block(stay);
    }

    /// `lookup_goto pc, flags, mmu`: probe the vCPU's jump cache (`softmmu::jmp`) and
    /// tail-call the TB it names if the entry is for `pc`, its guest code is what the code
    /// TLB maps `pc` to now, its flags are `flags` and the TB is alive (its chain cell not
    /// dead); otherwise fall through.
    fn lookup_goto(&mut self, op: &Op) {
        use softmmu::jmp::*;
        let pc = self.get(op.iargs[0]);
        let flags = op.cargs[0];
        let mmu = (op.cargs[1] as usize) % NB_MMU_MODES;
        self.store_globals(|_| true);
        let miss = self.b.create_block();
        let fl = flags_env();

        // e = env->jmp + jmp_index(pc) * 32
        let h1 = self.b.ins().ushr_imm_s(pc, 2);
        let h2 = self.b.ins().ushr_imm_s(pc, 2 + JMP_BITS as i64);
        let h = self.b.ins().bxor(h1, h2);
        let h = self.b.ins().band_imm_s(h, (JMP_SIZE - 1) as i64);
        let eoff = self.b.ins().ishl_imm_s(h, JMPE_SIZE_LOG2 as i64);
        let table = self
            .b
            .ins()
            .load(types::I64, fl, self.env, ENV_JMP_TABLE as i32);
        let e = self.b.ins().iadd(table, eoff);
        let epc = self.b.ins().load(types::I64, fl, e, JMPE_PC as i32);
        let c = self.b.ins().icmp(IntCC::Equal, epc, pc);
        self.branch_or(c, miss);

        // The code TLB entry of pc must map its page (RAM, executable), to the guest code
        // the key names (its host address).
        let ent = self.tlb_entry_addr(mmu, pc);
        let tag = self
            .b
            .ins()
            .load(types::I64, fl, ent, TLBE_ADDR_CODE as i32);
        let page = self.b.ins().band_imm_s(pc, PAGE_MASK as i64);
        let c = self.b.ins().icmp(IntCC::Equal, tag, page);
        self.branch_or(c, miss);
        let addend = self.b.ins().load(types::I64, fl, ent, TLBE_ADDEND as i32);
        let host = self.b.ins().iadd(pc, addend);
        let key = self
            .b
            .ins()
            .bor_imm_s(host, (flags << JMP_KEY_FLAGS_SHIFT) as i64);
        let ekey = self.b.ins().load(types::I64, fl, e, JMPE_KEY as i32);
        let c = self.b.ins().icmp(IntCC::Equal, ekey, key);
        self.branch_or(c, miss);

        // The TB is alive: its chain cell's flag word has no CELL_DEAD.
        let cell = self.b.ins().load(types::I64, fl, e, JMPE_AUX as i32);
        let flag_word = self.b.ins().iadd_imm_s(cell, crate::CELL_FLAGS_OFFSET);
        let cf = self
            .b
            .ins()
            .atomic_load(types::I64, MemFlagsData::trusted(), flag_word);
        let dead = self.b.ins().band_imm_s(cf, crate::CELL_DEAD as i64);
        let c = self.b.ins().icmp_imm_s(IntCC::Equal, dead, 0);
        self.branch_or(c, miss);

        let code = self.b.ins().load(types::I64, fl, e, JMPE_CODE as i32);
        let sig = self.tb_sig();
        let env = self.env;
        self.b.ins().return_call_indirect(sig, code, &[env]);
        self.b.seal_block(miss);
        self.b.switch_to_block(miss);
    }

    /// Continues in a new block when `c` holds, else jumps to `miss`.
    fn branch_or(&mut self, c: Value, miss: Block) {
        let next = self.b.create_block();
        self.b.ins().brif(c, next, &[], miss, &[]);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
    }

    fn tb_sig(&mut self) -> SigRef {
        match self.tb_sig {
            Some(s) => s,
            None => {
                let s = self.b.import_signature(tb_signature(CallConv::Tail));
                self.tb_sig = Some(s);
                s
            }
        }
    }

    /// A host load of `m`'s size, extended to `ty` as `m` says.
    fn host_load(
        &mut self,
        m: MemOp,
        ty: ir::Type,
        fl: MemFlagsData,
        base: Value,
        off: i32,
    ) -> Value {
        let i = self.b.ins();
        match (m.bytes(), m.signed()) {
            (1, false) => i.uload8(ty, fl, base, off),
            (1, true) => i.sload8(ty, fl, base, off),
            (2, false) => i.uload16(ty, fl, base, off),
            (2, true) => i.sload16(ty, fl, base, off),
            (4, s) if ty == types::I64 => {
                if s {
                    i.sload32(fl, base, off)
                } else {
                    i.uload32(fl, base, off)
                }
            }
            _ => i.load(ty, fl, base, off),
        }
    }

    fn host_store(&mut self, m: MemOp, v: Value, fl: MemFlagsData, base: Value, off: i32) {
        let vt = self.b.func.dfg.value_type(v);
        let i = self.b.ins();
        match m.bytes() {
            1 => i.istore8(fl, v, base, off),
            2 => i.istore16(fl, v, base, off),
            4 if vt == types::I64 => i.istore32(fl, v, base, off),
            _ => i.store(fl, v, base, off),
        };
    }

    /// The address of the TLB entry for guest virtual address `addr` in MMU index `mmu`
    /// (of the vCPU's current ASID): `table + ((addr >> (PAGE_BITS - TLBE_SIZE_LOG2)) &
    /// mask)`, both loaded from the env's `TlbFast` of `mmu` (they change when the table
    /// is switched or resized, only in slow paths and helpers). Every inline TLB probe
    /// (data accesses here, code lookups elsewhere) goes through this one function.
    pub(crate) fn tlb_entry_addr(&mut self, mmu: usize, addr: Value) -> Value {
        let fast = (ENV_TLB + ((mmu % NB_MMU_MODES) << TLBF_SIZE_LOG2)) as i32;
        let mask = self
            .b
            .ins()
            .load(types::I64, flags_env(), self.env, fast + TLBF_MASK as i32);
        let table = self
            .b
            .ins()
            .load(types::I64, flags_env(), self.env, fast + TLBF_TABLE as i32);
        let sh = self
            .b
            .ins()
            .ushr_imm_s(addr, (PAGE_BITS - TLBE_SIZE_LOG2) as i64);
        let off = self.b.ins().band(sh, mask);
        self.b.ins().iadd(table, off)
    }

    fn guest_mem(&mut self, op: &Op, kind: MemKind) {
        let ty = cty(op.ty);
        let m = MemOp(op.cargs[0] as u8);
        let mmu = (op.cargs[1] as usize) % NB_MMU_MODES;
        let bytes = m.bytes();
        // Operands: (addr, value...) in the order of the op.
        let (addr, vals): (Value, Vec<Value>) = match kind {
            MemKind::Load => (self.get(op.iargs[0]), vec![]),
            MemKind::Store => {
                let v = self.get(op.iargs[0]);
                (self.get(op.iargs[1]), vec![v])
            }
            MemKind::Cmpxchg => {
                let a = self.get(op.iargs[0]);
                let c = self.get(op.iargs[1]);
                let n = self.get(op.iargs[2]);
                (a, vec![c, n])
            }
            MemKind::Rmw(_) => {
                let a = self.get(op.iargs[0]);
                let v = self.get(op.iargs[1]);
                (a, vec![v])
            }
        };
        let atomic = matches!(kind, MemKind::Cmpxchg | MemKind::Rmw(_));
        // Atomics take the fast path only when naturally aligned (host atomics need it).
        let aligned = m.aligned() || atomic;
        let tag_off = match kind {
            MemKind::Load => TLBE_ADDR_READ,
            _ => TLBE_ADDR_WRITE,
        };
        let ent = self.tlb_entry_addr(mmu, addr);
        let tag = self
            .b
            .ins()
            .load(types::I64, flags_env(), ent, tag_off as i32);
        let s_mask = bytes as u64 - 1;
        let a_mask = if aligned { s_mask } else { 0 };
        let last = if s_mask - a_mask != 0 {
            self.b.ins().iadd_imm_s(addr, (s_mask - a_mask) as i64)
        } else {
            addr
        };
        let cmpv = self.b.ins().band_imm_s(last, (PAGE_MASK | a_mask) as i64);
        let hit_c = self.b.ins().icmp(IntCC::Equal, tag, cmpv);

        let hit = self.b.create_block();
        let slow_b = self.b.create_block();
        let join = self.b.create_block();
        self.b.set_cold_block(slow_b);
        let has_result = kind != MemKind::Store;
        let result = if has_result {
            Some(self.b.append_block_param(join, ty))
        } else {
            None
        };
        self.b.ins().brif(hit_c, hit, &[], slow_b, &[]);
        self.b.seal_block(hit);
        self.b.seal_block(slow_b);

        // Hit path.
        self.b.switch_to_block(hit);
        let addend = self
            .b
            .ins()
            .load(types::I64, flags_env(), ent, TLBE_ADDEND as i32);
        let host = self.b.ins().iadd(addr, addend);
        let gfl = MemFlagsData::new().with_notrap();
        let nt = int_of_bytes(bytes);
        let r = match kind {
            MemKind::Load => Some(self.host_load(m, ty, gfl, host, 0)),
            MemKind::Store => {
                self.host_store(m, vals[0], gfl, host, 0);
                None
            }
            MemKind::Cmpxchg => {
                let c = self.narrow(vals[0], nt);
                let n = self.narrow(vals[1], nt);
                let old = self.b.ins().atomic_cas(MemFlagsData::trusted(), host, c, n);
                Some(self.widen(old, ty, m.signed()))
            }
            MemKind::Rmw(rop) => {
                let v = self.narrow(vals[0], nt);
                let aop = match rop {
                    RmwOp::Xchg => AtomicRmwOp::Xchg,
                    RmwOp::Add => AtomicRmwOp::Add,
                    RmwOp::And => AtomicRmwOp::And,
                    RmwOp::Or => AtomicRmwOp::Or,
                    RmwOp::Xor => AtomicRmwOp::Xor,
                    RmwOp::Smax => AtomicRmwOp::Smax,
                    RmwOp::Smin => AtomicRmwOp::Smin,
                    RmwOp::Umax => AtomicRmwOp::Umax,
                    RmwOp::Umin => AtomicRmwOp::Umin,
                };
                let old = self
                    .b
                    .ins()
                    .atomic_rmw(nt, MemFlagsData::trusted(), aop, host, v);
                Some(self.widen(old, ty, m.signed()))
            }
        };
        let args: Vec<BlockArg> = r.into_iter().map(BlockArg::Value).collect();
        self.b.ins().jump(join, &args);

        // Slow path.
        self.b.switch_to_block(slow_b);
        let rmw = match kind {
            MemKind::Rmw(r) => Some(r),
            _ => None,
        };
        let oi = self.k(types::I64, slow::make_oi(m, mmu as u8, rmw));
        let pc = self.k(types::I64, self.pc);
        let vals64: Vec<Value> = vals
            .iter()
            .map(|&v| self.widen(v, types::I64, false))
            .collect();
        // The dirty globals go to env before the call (on this cold path only), so a
        // fault leaves through one shared block with nothing to store: a store block per
        // access would keep every dirty global alive into it, which made register
        // allocation a third of the compile time. They stay dirty (the registers still
        // hold them; storing again at an exit is harmless).
        let saved = self.dirty.clone();
        self.store_globals(|_| true);
        self.dirty = saved;
        let r = match kind {
            MemKind::Load => self.call_slow(0, &[addr, oi, pc]),
            MemKind::Store => self.call_slow(1, &[addr, vals64[0], oi, pc]),
            MemKind::Cmpxchg => self.call_slow(2, &[addr, vals64[0], vals64[1], oi, pc]),
            MemKind::Rmw(_) => self.call_slow(3, &[addr, vals64[0], oi, pc]),
        };
        let fault = self
            .b
            .ins()
            .load(types::I32, flags_env(), self.env, ENV_FAULT as i32);
        let args: Vec<BlockArg> = if has_result {
            vec![BlockArg::Value(self.narrow(r, ty))]
        } else {
            vec![]
        };
        let fb = *self.fault_ret.get_or_insert_with(|| {
            let b = self.b.create_block();
            self.b.set_cold_block(b);
            b
        });
        self.b.ins().brif(fault, fb, &[], join, &args);

        self.b.seal_block(join);
        self.b.switch_to_block(join);
        if let (Some(v), Some(&d)) = (result, op.oargs.first()) {
            self.set(d, v);
        }
    }
}

impl Tr<'_, '_> {
    /// Two loads or two stores of consecutive elements (`quick::pair_at`): one TLB probe
    /// covering both; the cold path makes both accesses through the softmmu in order (a
    /// fault on the second leaves a load pair's outputs unwritten).
    fn guest_pair(&mut self, op: &Op, next: &Op) {
        if self.dead {
            // Unreachable until the next label (as in `op`).
            return;
        }
        let ty = cty(op.ty);
        let m = MemOp(op.cargs[0] as u8);
        let mmu = (op.cargs[1] as usize) % NB_MMU_MODES;
        let bytes = m.bytes() as u64;
        let load = op.opc == Opc::QemuLd;
        let (addr, vals) = if load {
            (self.get(op.iargs[0]), vec![])
        } else {
            let (v1, v2) = (self.get(op.iargs[0]), self.get(next.iargs[0]));
            (self.get(op.iargs[1]), vec![v1, v2])
        };
        let tag_off = if load {
            TLBE_ADDR_READ
        } else {
            TLBE_ADDR_WRITE
        };
        let ent = self.tlb_entry_addr(mmu, addr);
        let tag = self
            .b
            .ins()
            .load(types::I64, flags_env(), ent, tag_off as i32);
        let a_mask = if m.aligned() { bytes - 1 } else { 0 };
        let last = self
            .b
            .ins()
            .iadd_imm_s(addr, (2 * bytes - 1 - a_mask) as i64);
        let cmpv = self.b.ins().band_imm_s(last, (PAGE_MASK | a_mask) as i64);
        let hit_c = self.b.ins().icmp(IntCC::Equal, tag, cmpv);
        let hit = self.b.create_block();
        let slow_b = self.b.create_block();
        let join = self.b.create_block();
        self.b.set_cold_block(slow_b);
        let results = if load {
            vec![
                self.b.append_block_param(join, ty),
                self.b.append_block_param(join, ty),
            ]
        } else {
            vec![]
        };
        self.b.ins().brif(hit_c, hit, &[], slow_b, &[]);
        self.b.seal_block(hit);
        self.b.seal_block(slow_b);

        // Hit path: both elements in the page the entry maps.
        self.b.switch_to_block(hit);
        let addend = self
            .b
            .ins()
            .load(types::I64, flags_env(), ent, TLBE_ADDEND as i32);
        let host = self.b.ins().iadd(addr, addend);
        let gfl = MemFlagsData::new().with_notrap();
        let args: Vec<BlockArg> = if load {
            let r1 = self.host_load(m, ty, gfl, host, 0);
            let r2 = self.host_load(m, ty, gfl, host, bytes as i32);
            vec![BlockArg::Value(r1), BlockArg::Value(r2)]
        } else {
            self.host_store(m, vals[0], gfl, host, 0);
            self.host_store(m, vals[1], gfl, host, bytes as i32);
            vec![]
        };
        self.b.ins().jump(join, &args);

        // Slow path: the dirty globals to env first, as for one access.
        self.b.switch_to_block(slow_b);
        let oi = self.k(types::I64, slow::make_oi(m, mmu as u8, None));
        let pc = self.k(types::I64, self.pc);
        let saved = self.dirty.clone();
        self.store_globals(|_| true);
        self.dirty = saved;
        let fb = *self.fault_ret.get_or_insert_with(|| {
            let b = self.b.create_block();
            self.b.set_cold_block(b);
            b
        });
        let addr2 = self.b.ins().iadd_imm_s(addr, bytes as i64);
        let mut got = Vec::new();
        for (k, a) in [addr, addr2].into_iter().enumerate() {
            let r = if load {
                self.call_slow(0, &[a, oi, pc])
            } else {
                let v = self.widen(vals[k], types::I64, false);
                self.call_slow(1, &[a, v, oi, pc])
            };
            got.push(r);
            let fault = self
                .b
                .ins()
                .load(types::I32, flags_env(), self.env, ENV_FAULT as i32);
            if k == 0 {
                let cont = self.b.create_block();
                self.b.set_cold_block(cont);
                self.b.ins().brif(fault, fb, &[], cont, &[]);
                self.b.seal_block(cont);
                self.b.switch_to_block(cont);
            } else {
                let args: Vec<BlockArg> = if load {
                    got.iter()
                        .map(|&r| BlockArg::Value(self.narrow(r, ty)))
                        .collect()
                } else {
                    vec![]
                };
                self.b.ins().brif(fault, fb, &[], join, &args);
            }
        }
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        if load {
            if let (Some(&d1), Some(&d2)) = (op.oargs.first(), next.oargs.first()) {
                self.set(d1, results[0]);
                self.set(d2, results[1]);
            }
        }
    }
}

fn overlaps(g: &GlobalInfo, off: u64, end: u64) -> bool {
    let gs = g.offset as u64;
    let ge = gs + (g.ty.bits() / 8) as u64;
    gs < end && off < ge
}
