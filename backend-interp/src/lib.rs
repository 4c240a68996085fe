//! The interpreter back end: compiles a TB's IR into a compact pre-decoded program and runs it.
//!
//! Compilation resolves every temp to an operand index (a slot in a per-run frame for
//! locals and constants, or an entry of a global table for temps living in `env`), every
//! label to an instruction index, and pre-loads constants into a slot template, so
//! execution is one `match` loop over small `Copy` instructions.
//!
//! Rules shared with the JIT (a conformance suite compares the two): globals are read from
//! `env` at every use and written at every def; guest memory ops go through
//! `softmmu::access` with the pc of the last executed `insn_start` and leave with
//! `ExitCode::FAULT` when the env's fault record is set; the exit-request flag is checked
//! once on entry. Vector ops read their 16-byte env operands, compute through
//! `tcg_ir::vector::eval` and write the destination.

use softmmu::layout::{ENV_EXIT_REQUEST, ENV_FAULT};
use softmmu::EnvHead;
use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::sync::Arc;
use tcg_ir::opcodes::OpFlags;
use tcg_ir::semantics;
use tcg_ir::vector::{self, VecShape};
use tcg_ir::verify::verify;
use tcg_ir::{
    Backend, BackendError, BarrierFlags, CompiledTb, Cond, ExitCode, Func, Helper, MemOp, Op, Opc,
    RmwOp, TempKind, Type,
};

/// The interpreter back end. Stateless: every compiled TB owns its program.
#[derive(Debug, Default, Clone, Copy)]
pub struct Interp;

impl Interp {
    pub fn new() -> Interp {
        Interp
    }
}

/// An operand: `< nslots` is a frame slot, otherwise `nslots + i` names global `i`.
type Val = u32;

/// A global's location in `env`.
#[derive(Clone, Copy, Debug)]
struct Glob {
    off: u32,
    wide: bool,
}

/// A helper call's resolved arguments (kept out of line so `Insn` stays small).
#[derive(Clone, Copy, Debug)]
struct CallInfo {
    addr: usize,
    nargs: u8,
    args: [Val; Helper::MAX_ARGS as usize],
    ret: Option<Val>,
}

/// A vector op's resolved operands (kept out of line like calls).
#[derive(Clone, Copy, Debug)]
struct VecInfo {
    opc: Opc,
    shape: VecShape,
    cond: Cond,
    imm: u64,
    /// Destination then sources (`nsrc` of them).
    offs: [u32; 4],
    nsrc: u8,
    scalar: Option<Val>,
    /// The saturation flag of the saturating ops.
    out: Option<Val>,
    /// The index bytes of `vshuf`.
    mask: Option<u128>,
}

/// One pre-decoded instruction. The frequent arithmetic ops get their own variants; the
/// rest evaluate through `tcg_ir::semantics` so folding and execution cannot disagree.
/// Slot values are always kept masked to their temp's type, which the specialised
/// variants rely on (and/or/xor need no masking; 32-bit add/sub/mul/shl mask the result).
#[derive(Clone, Copy, Debug)]
enum Insn {
    Mov {
        d: Val,
        a: Val,
    },
    Add64 {
        d: Val,
        a: Val,
        b: Val,
    },
    Add32 {
        d: Val,
        a: Val,
        b: Val,
    },
    Sub64 {
        d: Val,
        a: Val,
        b: Val,
    },
    Sub32 {
        d: Val,
        a: Val,
        b: Val,
    },
    Mul64 {
        d: Val,
        a: Val,
        b: Val,
    },
    Mul32 {
        d: Val,
        a: Val,
        b: Val,
    },
    And {
        d: Val,
        a: Val,
        b: Val,
    },
    Or {
        d: Val,
        a: Val,
        b: Val,
    },
    Xor {
        d: Val,
        a: Val,
        b: Val,
    },
    Shl64 {
        d: Val,
        a: Val,
        b: Val,
    },
    Shl32 {
        d: Val,
        a: Val,
        b: Val,
    },
    Shr64 {
        d: Val,
        a: Val,
        b: Val,
    },
    Shr32 {
        d: Val,
        a: Val,
        b: Val,
    },
    Sar64 {
        d: Val,
        a: Val,
        b: Val,
    },
    Sar32 {
        d: Val,
        a: Val,
        b: Val,
    },
    Un {
        opc: Opc,
        ty: Type,
        d: Val,
        a: Val,
    },
    Bin {
        opc: Opc,
        ty: Type,
        d: Val,
        a: Val,
        b: Val,
    },
    Deposit {
        ty: Type,
        pos: u8,
        len: u8,
        d: Val,
        a: Val,
        b: Val,
    },
    Extract {
        ty: Type,
        pos: u8,
        len: u8,
        signed: bool,
        d: Val,
        a: Val,
    },
    Mul2 {
        ty: Type,
        signed: bool,
        lo: Val,
        hi: Val,
        a: Val,
        b: Val,
    },
    Setcond {
        ty: Type,
        cond: Cond,
        d: Val,
        a: Val,
        b: Val,
    },
    Movcond {
        ty: Type,
        cond: Cond,
        d: Val,
        c1: Val,
        c2: Val,
        v1: Val,
        v2: Val,
    },
    Brcond {
        ty: Type,
        cond: Cond,
        a: Val,
        b: Val,
        target: u32,
    },
    Br {
        target: u32,
    },
    LdEnv {
        memop: MemOp,
        ty: Type,
        off: u32,
        d: Val,
    },
    StEnv {
        memop: MemOp,
        off: u32,
        v: Val,
    },
    QemuLd {
        memop: MemOp,
        mmu: u8,
        ty: Type,
        d: Val,
        addr: Val,
    },
    QemuSt {
        memop: MemOp,
        mmu: u8,
        v: Val,
        addr: Val,
    },
    Cmpxchg {
        memop: MemOp,
        mmu: u8,
        ty: Type,
        d: Val,
        addr: Val,
        cmp: Val,
        new: Val,
    },
    Rmw {
        memop: MemOp,
        mmu: u8,
        op: RmwOp,
        ty: Type,
        d: Val,
        addr: Val,
        v: Val,
    },
    Mb {
        full: bool,
    },
    Call {
        idx: u32,
    },
    /// A vector op; its operands are in `InterpTb::vecs`.
    Vec {
        idx: u32,
    },
    SetPc {
        lo: u32,
        hi: u32,
    },
    Exit {
        lo: u32,
        hi: u32,
    },
}

/// A compiled TB: the program, the slot template and the side tables.
#[derive(Debug)]
pub struct InterpTb {
    prog: Vec<Insn>,
    /// Initial frame: constants at their slots, locals zero.
    template: Vec<u64>,
    globals: Vec<Glob>,
    calls: Vec<CallInfo>,
    vecs: Vec<VecInfo>,
}

fn invalid(m: impl Into<String>) -> BackendError {
    BackendError::Invalid(m.into())
}

fn split(v: u64) -> (u32, u32) {
    (v as u32, (v >> 32) as u32)
}

fn join(lo: u32, hi: u32) -> u64 {
    lo as u64 | (hi as u64) << 32
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

struct Compiler<'f> {
    func: &'f Func,
    vals: Vec<Val>,
    prog: Vec<Insn>,
    calls: Vec<CallInfo>,
    vecs: Vec<VecInfo>,
    label_pos: Vec<u32>,
}

impl Compiler<'_> {
    fn val(&self, t: tcg_ir::Temp) -> Result<Val, BackendError> {
        self.vals
            .get(t.index())
            .copied()
            .ok_or_else(|| invalid("temp out of range"))
    }

    fn i(&self, op: &Op, k: usize) -> Result<Val, BackendError> {
        let t = *op.iargs.get(k).ok_or_else(|| invalid("missing input"))?;
        self.val(t)
    }

    fn o(&self, op: &Op, k: usize) -> Result<Val, BackendError> {
        let t = *op.oargs.get(k).ok_or_else(|| invalid("missing output"))?;
        self.val(t)
    }

    fn c(&self, op: &Op, k: usize) -> Result<u64, BackendError> {
        op.cargs
            .get(k)
            .copied()
            .ok_or_else(|| invalid("missing constant argument"))
    }

    fn cond(&self, op: &Op, k: usize) -> Result<Cond, BackendError> {
        Cond::from_u64(self.c(op, k)?).ok_or_else(|| invalid("bad condition"))
    }

    fn label(&self, op: &Op, k: usize) -> Result<u32, BackendError> {
        let l = self.c(op, k)?;
        u32::try_from(l)
            .ok()
            .filter(|&l| l < self.func.nb_labels)
            .ok_or_else(|| invalid("bad label"))
    }

    /// Memop and MMU index of a guest memory op (cargs 0 and 1).
    fn mem(&self, op: &Op) -> Result<(MemOp, u8), BackendError> {
        Ok((MemOp(self.c(op, 0)? as u8), self.c(op, 1)? as u8))
    }

    fn bitfield(&self, op: &Op) -> Result<(u8, u8), BackendError> {
        let (pos, len) = (self.c(op, 0)?, self.c(op, 1)?);
        let bits = op.ty.bits() as u64;
        // Re-checked here because an overflowing pos + len could slip past the verifier.
        if len == 0 || pos >= bits || len > bits || pos + len > bits {
            return Err(invalid("bit field outside its type"));
        }
        Ok((pos as u8, len as u8))
    }

    fn vec_info(&self, op: &Op) -> Result<VecInfo, BackendError> {
        let shape = vector::shape(op).ok_or_else(|| invalid("bad vector shape"))?;
        let envs = vector::env_operands(op);
        if envs.is_empty() || envs.len() > 4 {
            return Err(invalid("bad vector operands"));
        }
        let mut offs = [0u32; 4];
        offs[..envs.len()].copy_from_slice(&envs);
        let cond = match op.opc {
            Opc::VCmp | Opc::VCmps => self.cond(op, 1)?,
            _ => Cond::Eq,
        };
        let imm = match op.opc {
            Opc::VShli | Opc::VShri | Opc::VSari => self.c(op, 3)?,
            _ => 0,
        };
        let scalar = match op.iargs.first() {
            Some(&t) => Some(self.val(t)?),
            None => None,
        };
        let out = match op.oargs.first() {
            Some(&t) => Some(self.val(t)?),
            None => None,
        };
        let mask = vector::shuffle_mask(op);
        if vector::eval(op.opc, shape, cond, imm, &[], 0).is_none()
            && vector::eval_sat(op.opc, shape, 0, 0).is_none()
            && mask.is_none()
        {
            return Err(BackendError::Compile(format!(
                "no semantics for {}",
                op.opc.name()
            )));
        }
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

    fn op(&mut self, op: &Op) -> Result<(), BackendError> {
        let ty = op.ty;
        let is64 = ty == Type::I64;
        let insn = match op.opc {
            Opc::SetLabel => {
                let l = self.label(op, 0)? as usize;
                let pos = self.prog.len() as u32;
                if let Some(p) = self.label_pos.get_mut(l) {
                    *p = pos;
                }
                return Ok(());
            }
            // Interpreted TBs always leave through the loop.
            Opc::GotoTb | Opc::LookupGoto => return Ok(()),
            Opc::Mov => Insn::Mov {
                d: self.o(op, 0)?,
                a: self.i(op, 0)?,
            },
            Opc::Add
            | Opc::Sub
            | Opc::Mul
            | Opc::And
            | Opc::Or
            | Opc::Xor
            | Opc::Shl
            | Opc::Shr
            | Opc::Sar => {
                let (d, a, b) = (self.o(op, 0)?, self.i(op, 0)?, self.i(op, 1)?);
                match (op.opc, is64) {
                    (Opc::Add, true) => Insn::Add64 { d, a, b },
                    (Opc::Add, false) => Insn::Add32 { d, a, b },
                    (Opc::Sub, true) => Insn::Sub64 { d, a, b },
                    (Opc::Sub, false) => Insn::Sub32 { d, a, b },
                    (Opc::Mul, true) => Insn::Mul64 { d, a, b },
                    (Opc::Mul, false) => Insn::Mul32 { d, a, b },
                    (Opc::And, _) => Insn::And { d, a, b },
                    (Opc::Or, _) => Insn::Or { d, a, b },
                    (Opc::Xor, _) => Insn::Xor { d, a, b },
                    (Opc::Shl, true) => Insn::Shl64 { d, a, b },
                    (Opc::Shl, false) => Insn::Shl32 { d, a, b },
                    (Opc::Shr, true) => Insn::Shr64 { d, a, b },
                    (Opc::Shr, false) => Insn::Shr32 { d, a, b },
                    (Opc::Sar, true) => Insn::Sar64 { d, a, b },
                    _ => Insn::Sar32 { d, a, b },
                }
            }
            Opc::Deposit => {
                let (pos, len) = self.bitfield(op)?;
                Insn::Deposit {
                    ty,
                    pos,
                    len,
                    d: self.o(op, 0)?,
                    a: self.i(op, 0)?,
                    b: self.i(op, 1)?,
                }
            }
            Opc::Extract | Opc::Sextract => {
                let (pos, len) = self.bitfield(op)?;
                let signed = op.opc == Opc::Sextract;
                Insn::Extract {
                    ty,
                    pos,
                    len,
                    signed,
                    d: self.o(op, 0)?,
                    a: self.i(op, 0)?,
                }
            }
            Opc::Mulu2 | Opc::Muls2 => Insn::Mul2 {
                ty,
                signed: op.opc == Opc::Muls2,
                lo: self.o(op, 0)?,
                hi: self.o(op, 1)?,
                a: self.i(op, 0)?,
                b: self.i(op, 1)?,
            },
            Opc::Setcond => Insn::Setcond {
                ty,
                cond: self.cond(op, 0)?,
                d: self.o(op, 0)?,
                a: self.i(op, 0)?,
                b: self.i(op, 1)?,
            },
            Opc::Movcond => Insn::Movcond {
                ty,
                cond: self.cond(op, 0)?,
                d: self.o(op, 0)?,
                c1: self.i(op, 0)?,
                c2: self.i(op, 1)?,
                v1: self.i(op, 2)?,
                v2: self.i(op, 3)?,
            },
            Opc::Brcond => Insn::Brcond {
                ty,
                cond: self.cond(op, 0)?,
                a: self.i(op, 0)?,
                b: self.i(op, 1)?,
                target: self.label(op, 1)?,
            },
            Opc::Br => Insn::Br {
                target: self.label(op, 0)?,
            },
            Opc::LdEnv => Insn::LdEnv {
                memop: MemOp(self.c(op, 1)? as u8),
                ty,
                off: u32::try_from(self.c(op, 0)?).map_err(|_| invalid("env offset too large"))?,
                d: self.o(op, 0)?,
            },
            Opc::StEnv => Insn::StEnv {
                memop: MemOp(self.c(op, 1)? as u8),
                off: u32::try_from(self.c(op, 0)?).map_err(|_| invalid("env offset too large"))?,
                v: self.i(op, 0)?,
            },
            Opc::QemuLd => {
                let (memop, mmu) = self.mem(op)?;
                Insn::QemuLd {
                    memop,
                    mmu,
                    ty,
                    d: self.o(op, 0)?,
                    addr: self.i(op, 0)?,
                }
            }
            Opc::QemuSt => {
                let (memop, mmu) = self.mem(op)?;
                Insn::QemuSt {
                    memop,
                    mmu,
                    v: self.i(op, 0)?,
                    addr: self.i(op, 1)?,
                }
            }
            Opc::AtomicCmpxchg => {
                let (memop, mmu) = self.mem(op)?;
                Insn::Cmpxchg {
                    memop,
                    mmu,
                    ty,
                    d: self.o(op, 0)?,
                    addr: self.i(op, 0)?,
                    cmp: self.i(op, 1)?,
                    new: self.i(op, 2)?,
                }
            }
            Opc::AtomicRmw => {
                let (memop, mmu) = self.mem(op)?;
                let rop = RmwOp::from_u64(self.c(op, 2)?).ok_or_else(|| invalid("bad rmw op"))?;
                Insn::Rmw {
                    memop,
                    mmu,
                    op: rop,
                    ty,
                    d: self.o(op, 0)?,
                    addr: self.i(op, 0)?,
                    v: self.i(op, 1)?,
                }
            }
            Opc::Mb => {
                let f = BarrierFlags::from_bits_truncate(self.c(op, 0)? as u8);
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
                let h = usize::try_from(self.c(op, 0)?)
                    .ok()
                    .and_then(|i| self.func.helpers.get(i))
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
                self.calls.push(CallInfo {
                    addr: h.addr,
                    nargs: h.nargs,
                    args,
                    ret,
                });
                Insn::Call {
                    idx: self.calls.len() as u32 - 1,
                }
            }
            Opc::InsnStart => {
                let (lo, hi) = split(self.c(op, 0)?);
                Insn::SetPc { lo, hi }
            }
            Opc::ExitTb => {
                let (lo, hi) = split(self.c(op, 0)?);
                Insn::Exit { lo, hi }
            }
            opc if opc.flags().contains(OpFlags::VECTOR) => {
                let v = self.vec_info(op)?;
                self.vecs.push(v);
                Insn::Vec {
                    idx: self.vecs.len() as u32 - 1,
                }
            }
            opc if opc.flags().contains(OpFlags::PURE) => {
                let d = self.o(op, 0)?;
                let a = self.i(op, 0)?;
                if opc.def().nb_iargs == 1 {
                    let ety = unary_eval_type(op);
                    if semantics::eval_unary(opc, ety, 0).is_none() {
                        return Err(BackendError::Compile(format!(
                            "no semantics for {}",
                            opc.name()
                        )));
                    }
                    Insn::Un { opc, ty: ety, d, a }
                } else {
                    if semantics::eval_binary(opc, ty, 0, 0).is_none() {
                        return Err(BackendError::Compile(format!(
                            "no semantics for {}",
                            opc.name()
                        )));
                    }
                    Insn::Bin {
                        opc,
                        ty,
                        d,
                        a,
                        b: self.i(op, 1)?,
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
        self.prog.push(insn);
        Ok(())
    }
}

impl Interp {
    /// Compiles `func` into an [`InterpTb`] (also available through [`Backend::compile`]).
    pub fn compile_tb(&self, func: &Func) -> Result<InterpTb, BackendError> {
        verify(func).map_err(|e| invalid(e.to_string()))?;
        let nslots = func
            .temps
            .iter()
            .filter(|t| !matches!(t.kind, TempKind::Global { .. }))
            .count();
        let nslots = u32::try_from(nslots).map_err(|_| invalid("too many temps"))?;
        let mut vals = Vec::with_capacity(func.temps.len());
        let mut template = Vec::with_capacity(nslots as usize);
        let mut globals = Vec::new();
        for t in &func.temps {
            match t.kind {
                TempKind::Global { offset } => {
                    vals.push(nslots + globals.len() as u32);
                    globals.push(Glob {
                        off: offset,
                        wide: t.ty == Type::I64,
                    });
                }
                TempKind::Local => {
                    vals.push(template.len() as u32);
                    template.push(0);
                }
                TempKind::Const(v) => {
                    vals.push(template.len() as u32);
                    template.push(v & t.ty.mask());
                }
            }
        }
        let mut c = Compiler {
            func,
            vals,
            prog: Vec::with_capacity(func.ops.len()),
            calls: Vec::new(),
            vecs: Vec::new(),
            label_pos: vec![u32::MAX; func.nb_labels as usize],
        };
        for op in &func.ops {
            c.op(op)?;
        }
        // Labels were emitted as numbers; resolve them to instruction indices.
        let label_pos = c.label_pos;
        let resolve = |l: u32| -> Result<u32, BackendError> {
            label_pos
                .get(l as usize)
                .copied()
                .filter(|&p| p != u32::MAX)
                .ok_or_else(|| invalid(format!("label L{l} is not set")))
        };
        for insn in c.prog.iter_mut() {
            match insn {
                Insn::Br { target } | Insn::Brcond { target, .. } => *target = resolve(*target)?,
                _ => {}
            }
        }
        Ok(InterpTb {
            prog: c.prog,
            template,
            globals,
            calls: c.calls,
            vecs: c.vecs,
        })
    }
}

impl Backend for Interp {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn compile(&self, func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError> {
        Ok(Arc::new(self.compile_tb(func)?))
    }
}

/// The per-run state: the env and the frame of slots.
struct Frame<'a> {
    env: *mut u8,
    slots: &'a mut [u64],
    globals: &'a [Glob],
}

impl Frame<'_> {
    #[inline(always)]
    fn get(&self, v: Val) -> u64 {
        match self.slots.get(v as usize) {
            Some(&x) => x,
            None => self.get_global(v as usize - self.slots.len()),
        }
    }

    #[inline(always)]
    fn set(&mut self, v: Val, x: u64) {
        let n = self.slots.len();
        match self.slots.get_mut(v as usize) {
            Some(s) => *s = x,
            None => self.set_global(v as usize - n, x),
        }
    }

    #[inline(always)]
    fn get_global(&self, g: usize) -> u64 {
        let Some(g) = self.globals.get(g) else {
            return 0;
        };
        // SAFETY: a Frame is only built by `exec`, whose caller guarantees that `env` is a
        // live environment of the layout the IR names, so every global's offset is in it.
        unsafe {
            let p = self.env.add(g.off as usize);
            if g.wide {
                (p as *const u64).read_unaligned()
            } else {
                (p as *const u32).read_unaligned() as u64
            }
        }
    }

    #[inline(always)]
    fn set_global(&mut self, g: usize, x: u64) {
        let Some(g) = self.globals.get(g) else { return };
        // SAFETY: as in `get_global`.
        unsafe {
            let p = self.env.add(g.off as usize);
            if g.wide {
                (p as *mut u64).write_unaligned(x)
            } else {
                (p as *mut u32).write_unaligned(x as u32)
            }
        }
    }

    fn fault(&self) -> bool {
        // SAFETY: env starts with an EnvHead (exec's contract).
        unsafe { (self.env.add(ENV_FAULT) as *const u32).read() != 0 }
    }
}

/// The 16 bytes at `env + off` as a little-endian value.
///
/// # Safety
/// `env + off .. + 16` must be readable.
unsafe fn read_vec(env: *mut u8, off: u32) -> u128 {
    // SAFETY: the caller guarantees the range.
    u128::from_le_bytes(unsafe { (env.add(off as usize) as *const [u8; 16]).read_unaligned() })
}

/// # Safety
/// `env + off .. + 16` must be writable.
unsafe fn write_vec(env: *mut u8, off: u32, v: u128) {
    // SAFETY: the caller guarantees the range.
    unsafe { (env.add(off as usize) as *mut [u8; 16]).write_unaligned(v.to_le_bytes()) }
}

/// Calls a helper through its ABI for `nargs` arguments.
///
/// # Safety
/// `addr` must be an `extern "C" fn(*mut u8, u64 x nargs) -> u64` and `env` what it expects.
unsafe fn call_helper(addr: usize, nargs: u8, env: *mut u8, a: &[u64; 6]) -> u64 {
    type F0 = extern "C" fn(*mut u8) -> u64;
    type F1 = extern "C" fn(*mut u8, u64) -> u64;
    type F2 = extern "C" fn(*mut u8, u64, u64) -> u64;
    type F3 = extern "C" fn(*mut u8, u64, u64, u64) -> u64;
    type F4 = extern "C" fn(*mut u8, u64, u64, u64, u64) -> u64;
    type F5 = extern "C" fn(*mut u8, u64, u64, u64, u64, u64) -> u64;
    type F6 = extern "C" fn(*mut u8, u64, u64, u64, u64, u64, u64) -> u64;
    // SAFETY: the Helper contract says `addr` has exactly this signature for its arity
    // (checked non-null at compile time); function pointers and usize have the same size.
    unsafe {
        match nargs {
            0 => std::mem::transmute::<usize, F0>(addr)(env),
            1 => std::mem::transmute::<usize, F1>(addr)(env, a[0]),
            2 => std::mem::transmute::<usize, F2>(addr)(env, a[0], a[1]),
            3 => std::mem::transmute::<usize, F3>(addr)(env, a[0], a[1], a[2]),
            4 => std::mem::transmute::<usize, F4>(addr)(env, a[0], a[1], a[2], a[3]),
            5 => std::mem::transmute::<usize, F5>(addr)(env, a[0], a[1], a[2], a[3], a[4]),
            _ => std::mem::transmute::<usize, F6>(addr)(env, a[0], a[1], a[2], a[3], a[4], a[5]),
        }
    }
}

impl InterpTb {
    /// Number of pre-decoded instructions (for tests and statistics).
    pub fn len(&self) -> usize {
        self.prog.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prog.is_empty()
    }

    /// # Safety
    /// As [`CompiledTb::exec`]; `slots` is a copy of the template.
    unsafe fn run(&self, env: *mut u8, slots: &mut [u64]) -> u64 {
        let mut f = Frame {
            env,
            slots,
            globals: &self.globals,
        };
        let envh = env as *mut EnvHead;
        let mut pc = 0u64;
        let mut ip = 0usize;
        macro_rules! bin {
            ($d:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let ($x, $y) = (f.get($a), f.get($b));
                f.set($d, $e)
            }};
        }
        // The verifier guarantees the last op is `br` or `exit_tb`, so running off the end
        // cannot happen; the fallback exit only keeps this loop free of panics.
        while let Some(&insn) = self.prog.get(ip) {
            ip += 1;
            match insn {
                Insn::Mov { d, a } => {
                    let x = f.get(a);
                    f.set(d, x)
                }
                Insn::Add64 { d, a, b } => bin!(d, a, b, |x, y| x.wrapping_add(y)),
                Insn::Add32 { d, a, b } => bin!(d, a, b, |x, y| x.wrapping_add(y) & 0xffff_ffff),
                Insn::Sub64 { d, a, b } => bin!(d, a, b, |x, y| x.wrapping_sub(y)),
                Insn::Sub32 { d, a, b } => bin!(d, a, b, |x, y| x.wrapping_sub(y) & 0xffff_ffff),
                Insn::Mul64 { d, a, b } => bin!(d, a, b, |x, y| x.wrapping_mul(y)),
                Insn::Mul32 { d, a, b } => bin!(d, a, b, |x, y| x.wrapping_mul(y) & 0xffff_ffff),
                Insn::And { d, a, b } => bin!(d, a, b, |x, y| x & y),
                Insn::Or { d, a, b } => bin!(d, a, b, |x, y| x | y),
                Insn::Xor { d, a, b } => bin!(d, a, b, |x, y| x ^ y),
                Insn::Shl64 { d, a, b } => bin!(d, a, b, |x, y| x << (y & 63)),
                Insn::Shl32 { d, a, b } => bin!(d, a, b, |x, y| (x << (y & 31)) & 0xffff_ffff),
                Insn::Shr64 { d, a, b } => bin!(d, a, b, |x, y| x >> (y & 63)),
                Insn::Shr32 { d, a, b } => bin!(d, a, b, |x, y| x >> (y & 31)),
                Insn::Sar64 { d, a, b } => bin!(d, a, b, |x, y| ((x as i64) >> (y & 63)) as u64),
                Insn::Sar32 { d, a, b } => bin!(d, a, b, |x, y| ((x as u32 as i32) >> (y & 31))
                    as u32 as u64),
                Insn::Un { opc, ty, d, a } => {
                    let x = f.get(a);
                    f.set(d, semantics::eval_unary(opc, ty, x).unwrap_or(0))
                }
                Insn::Bin { opc, ty, d, a, b } => {
                    bin!(d, a, b, |x, y| semantics::eval_binary(opc, ty, x, y)
                        .unwrap_or(0))
                }
                Insn::Deposit {
                    ty,
                    pos,
                    len,
                    d,
                    a,
                    b,
                } => {
                    bin!(d, a, b, |x, y| semantics::deposit(
                        ty, x, y, pos as u32, len as u32
                    ))
                }
                Insn::Extract {
                    ty,
                    pos,
                    len,
                    signed,
                    d,
                    a,
                } => {
                    let x = f.get(a);
                    f.set(d, semantics::extract(ty, x, pos as u32, len as u32, signed))
                }
                Insn::Mul2 {
                    ty,
                    signed,
                    lo,
                    hi,
                    a,
                    b,
                } => {
                    let (l, h) = semantics::mul2(ty, f.get(a), f.get(b), signed);
                    f.set(lo, l);
                    f.set(hi, h);
                }
                Insn::Setcond { ty, cond, d, a, b } => {
                    bin!(d, a, b, |x, y| cond.eval(ty, x, y) as u64)
                }
                Insn::Movcond {
                    ty,
                    cond,
                    d,
                    c1,
                    c2,
                    v1,
                    v2,
                } => {
                    let v = if cond.eval(ty, f.get(c1), f.get(c2)) {
                        f.get(v1)
                    } else {
                        f.get(v2)
                    };
                    f.set(d, v)
                }
                Insn::Brcond {
                    ty,
                    cond,
                    a,
                    b,
                    target,
                } => {
                    if cond.eval(ty, f.get(a), f.get(b)) {
                        ip = target as usize;
                    }
                }
                Insn::Br { target } => ip = target as usize,
                Insn::LdEnv { memop, ty, off, d } => {
                    // SAFETY: exec's contract: env covers the offsets the IR names.
                    let raw =
                        unsafe { softmmu::access::host_read(env.add(off as usize), memop.bytes()) };
                    f.set(d, memop.extend(raw) & ty.mask())
                }
                Insn::StEnv { memop, off, v } => {
                    let x = f.get(v);
                    // SAFETY: as for LdEnv.
                    unsafe { softmmu::access::host_write(env.add(off as usize), memop.bytes(), x) }
                }
                Insn::QemuLd {
                    memop,
                    mmu,
                    ty,
                    d,
                    addr,
                } => {
                    let a = f.get(addr);
                    // SAFETY: env starts with this vCPU's EnvHead with a valid ctx (exec).
                    let v = unsafe { softmmu::access::load(envh, a, memop, mmu, pc) };
                    if f.fault() {
                        return ExitCode::FAULT;
                    }
                    f.set(d, v & ty.mask())
                }
                Insn::QemuSt {
                    memop,
                    mmu,
                    v,
                    addr,
                } => {
                    let (x, a) = (f.get(v), f.get(addr));
                    // SAFETY: as for QemuLd.
                    unsafe { softmmu::access::store(envh, a, x, memop, mmu, pc) };
                    if f.fault() {
                        return ExitCode::FAULT;
                    }
                }
                Insn::Cmpxchg {
                    memop,
                    mmu,
                    ty,
                    d,
                    addr,
                    cmp,
                    new,
                } => {
                    let (a, c, n) = (f.get(addr), f.get(cmp), f.get(new));
                    // SAFETY: as for QemuLd.
                    let v = unsafe { softmmu::access::cmpxchg(envh, a, c, n, memop, mmu, pc) };
                    if f.fault() {
                        return ExitCode::FAULT;
                    }
                    f.set(d, v & ty.mask())
                }
                Insn::Rmw {
                    memop,
                    mmu,
                    op,
                    ty,
                    d,
                    addr,
                    v,
                } => {
                    let (a, x) = (f.get(addr), f.get(v));
                    // SAFETY: as for QemuLd.
                    let old = unsafe { softmmu::access::rmw(envh, op, a, x, memop, mmu, pc) };
                    if f.fault() {
                        return ExitCode::FAULT;
                    }
                    f.set(d, old & ty.mask())
                }
                Insn::Mb { full } => fence(if full {
                    Ordering::SeqCst
                } else {
                    Ordering::AcqRel
                }),
                Insn::Call { idx } => {
                    let Some(ci) = self.calls.get(idx as usize) else {
                        continue;
                    };
                    let mut args = [0u64; 6];
                    for (a, &v) in args.iter_mut().zip(ci.args.iter()).take(ci.nargs as usize) {
                        *a = f.get(v);
                    }
                    // SAFETY: the helper was registered with this arity and a non-null
                    // address; it receives this vCPU's env as its contract requires.
                    let r = unsafe { call_helper(ci.addr, ci.nargs, env, &args) };
                    if let Some(d) = ci.ret {
                        f.set(d, r)
                    }
                }
                Insn::Vec { idx } => {
                    let Some(v) = self.vecs.get(idx as usize) else {
                        continue;
                    };
                    let mut srcs = [0u128; 3];
                    for (s, &o) in srcs
                        .iter_mut()
                        .zip(v.offs[1..].iter())
                        .take(v.nsrc as usize)
                    {
                        // SAFETY: exec's contract: env covers the offsets the IR names
                        // (16 bytes at each vector operand).
                        *s = unsafe { read_vec(env, o) };
                    }
                    if let Some(m) = v.mask {
                        let r = vector::shuffle(v.shape, srcs[0], srcs[1], m);
                        // SAFETY: as above.
                        unsafe { write_vec(env, v.offs[0], r) };
                        continue;
                    }
                    if let Some(o) = v.out {
                        let (r, sat) = vector::eval_sat(v.opc, v.shape, srcs[0], srcs[1])
                            .unwrap_or((0, false));
                        // SAFETY: as above.
                        unsafe { write_vec(env, v.offs[0], r) };
                        f.set(o, sat as u64);
                        continue;
                    }
                    let x = v.scalar.map_or(0, |t| f.get(t));
                    let r =
                        vector::eval(v.opc, v.shape, v.cond, v.imm, &srcs[..v.nsrc as usize], x)
                            .unwrap_or(0);
                    // SAFETY: as above.
                    unsafe { write_vec(env, v.offs[0], r) };
                }
                Insn::SetPc { lo, hi } => pc = join(lo, hi),
                Insn::Exit { lo, hi } => return join(lo, hi),
            }
        }
        ExitCode::LOOKUP
    }
}

impl CompiledTb for InterpTb {
    unsafe fn exec(&self, env: *mut u8) -> u64 {
        // SAFETY: env starts with an EnvHead (caller contract); its exit_request is an
        // AtomicU32 at ENV_EXIT_REQUEST written by other threads.
        let req = unsafe { AtomicU32::from_ptr(env.add(ENV_EXIT_REQUEST) as *mut u32) };
        if req.load(Ordering::Acquire) != 0 {
            return ExitCode::REQUESTED;
        }
        let n = self.template.len();
        // A stack frame for the usual TB sizes avoids an allocation per execution.
        macro_rules! with_stack {
            ($cap:literal) => {{
                let mut buf = [0u64; $cap];
                buf[..n].copy_from_slice(&self.template);
                // SAFETY: caller contract forwarded.
                return unsafe { self.run(env, &mut buf[..n]) };
            }};
        }
        if n <= 32 {
            with_stack!(32)
        } else if n <= 128 {
            with_stack!(128)
        } else if n <= 512 {
            with_stack!(512)
        }
        let mut v = self.template.clone();
        // SAFETY: caller contract forwarded.
        unsafe { self.run(env, &mut v) }
    }

    fn code_size(&self) -> usize {
        self.prog.len() * std::mem::size_of::<Insn>()
            + self.template.len() * 8
            + self.globals.len() * std::mem::size_of::<Glob>()
            + self.calls.len() * std::mem::size_of::<CallInfo>()
            + self.vecs.len() * std::mem::size_of::<VecInfo>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stay_small() {
        assert!(
            std::mem::size_of::<Insn>() <= 24,
            "{}",
            std::mem::size_of::<Insn>()
        );
    }
}
