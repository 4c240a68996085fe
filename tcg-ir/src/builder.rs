//! Emitting IR: temps, constants, labels and one method per opcode.

use crate::backend::Helper;
use crate::func::{Func, Label, Op, Temp, TempData, TempKind};
use crate::opcodes::Opc;
use crate::types::{BarrierFlags, Cond, MemOp, MmuIdx, RmwOp, Type};
use crate::vector::VecShape;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::borrow::Cow;

/// Builds a [`Func`]. Op methods take the destination first; the op's type is the
/// destination's (or the first input's for ops without outputs). The untyped conversion
/// ops always carry `I64`, as the text parser gives them.
#[derive(Default)]
pub struct Builder {
    func: Func,
    consts: FxHashMap<(Type, u64), Temp>,
}

macro_rules! binops {
    ($($m:ident => $opc:ident),* $(,)?) => {
        $(pub fn $m(&mut self, d: Temp, a: Temp, b: Temp) {
            let ty = self.func.ty(d);
            self.emit(Opc::$opc, ty, &[d], &[a, b], &[]);
        })*
    };
}

macro_rules! unops {
    ($($m:ident => $opc:ident),* $(,)?) => {
        $(pub fn $m(&mut self, d: Temp, a: Temp) {
            let ty = self.func.ty(d);
            self.emit(Opc::$opc, ty, &[d], &[a], &[]);
        })*
    };
}

impl Builder {
    pub fn new() -> Builder {
        // Vectors recycled from an earlier TB of this thread, or sized for a typical TB
        // (the A64 translator declares ~45 globals up front), so building one does not
        // regrow them several times.
        Builder {
            func: Func::from_pool(),
            consts: FxHashMap::default(),
        }
    }

    /// Declares a global living at `env + offset`.
    pub fn global(&mut self, name: impl Into<Cow<'static, str>>, ty: Type, offset: u32) -> Temp {
        self.func.push_temp(TempData {
            kind: TempKind::Global { offset },
            ty,
            name: Some(name.into()),
        })
    }

    /// A fresh TB-local temp.
    pub fn temp(&mut self, ty: Type) -> Temp {
        self.func.push_temp(TempData {
            kind: TempKind::Local,
            ty,
            name: None,
        })
    }

    pub fn constant(&mut self, ty: Type, v: u64) -> Temp {
        let v = v & ty.mask();
        if let Some(&t) = self.consts.get(&(ty, v)) {
            return t;
        }
        let t = self.func.push_temp(TempData {
            kind: TempKind::Const(v),
            ty,
            name: None,
        });
        self.consts.insert((ty, v), t);
        t
    }

    pub fn c64(&mut self, v: u64) -> Temp {
        self.constant(Type::I64, v)
    }

    pub fn c32(&mut self, v: u32) -> Temp {
        self.constant(Type::I32, v as u64)
    }

    pub fn new_label(&mut self) -> Label {
        self.func.nb_labels += 1;
        Label(self.func.nb_labels - 1)
    }

    pub fn ty(&self, t: Temp) -> Type {
        self.func.ty(t)
    }

    pub fn func(&self) -> &Func {
        &self.func
    }

    pub fn finish(self) -> Func {
        self.func
    }

    /// Number of ops emitted so far.
    pub fn len(&self) -> usize {
        self.func.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.func.ops.is_empty()
    }

    /// Appends an op as given (no checking; the verifier checks).
    pub fn emit(&mut self, opc: Opc, ty: Type, outs: &[Temp], ins: &[Temp], cargs: &[u64]) {
        self.func.ops.push(Op {
            opc,
            ty,
            oargs: SmallVec::from_slice(outs),
            iargs: SmallVec::from_slice(ins),
            cargs: SmallVec::from_slice(cargs),
        });
    }

    binops! {
        add => Add, sub => Sub, mul => Mul, and => And, or => Or, xor => Xor,
        andc => Andc, orc => Orc, eqv => Eqv, shl => Shl, shr => Shr, sar => Sar,
        rotl => Rotl, rotr => Rotr, div => Div, divu => Divu, rem => Rem, remu => Remu,
    }

    unops! {
        mov => Mov, neg => Neg, not => Not, ext8s => Ext8s, ext8u => Ext8u,
        ext16s => Ext16s, ext16u => Ext16u, ext32s => Ext32s, ext32u => Ext32u,
        clz => Clz, ctz => Ctz, ctpop => Ctpop, bswap16 => Bswap16, bswap32 => Bswap32,
        bswap64 => Bswap64,
    }

    pub fn extu_i32_i64(&mut self, d: Temp, a: Temp) {
        self.emit(Opc::ExtuI32I64, Type::I64, &[d], &[a], &[]);
    }

    pub fn exts_i32_i64(&mut self, d: Temp, a: Temp) {
        self.emit(Opc::ExtsI32I64, Type::I64, &[d], &[a], &[]);
    }

    pub fn extrl_i64_i32(&mut self, d: Temp, a: Temp) {
        self.emit(Opc::ExtrlI64I32, Type::I64, &[d], &[a], &[]);
    }

    pub fn extrh_i64_i32(&mut self, d: Temp, a: Temp) {
        self.emit(Opc::ExtrhI64I32, Type::I64, &[d], &[a], &[]);
    }

    /// `d = a` with `len` bits at `pos` replaced by the low bits of `b`.
    pub fn deposit(&mut self, d: Temp, a: Temp, b: Temp, pos: u32, len: u32) {
        let ty = self.ty(d);
        self.emit(Opc::Deposit, ty, &[d], &[a, b], &[pos as u64, len as u64]);
    }

    pub fn extract(&mut self, d: Temp, a: Temp, pos: u32, len: u32) {
        let ty = self.ty(d);
        self.emit(Opc::Extract, ty, &[d], &[a], &[pos as u64, len as u64]);
    }

    pub fn sextract(&mut self, d: Temp, a: Temp, pos: u32, len: u32) {
        let ty = self.ty(d);
        self.emit(Opc::Sextract, ty, &[d], &[a], &[pos as u64, len as u64]);
    }

    pub fn mulu2(&mut self, lo: Temp, hi: Temp, a: Temp, b: Temp) {
        let ty = self.ty(lo);
        self.emit(Opc::Mulu2, ty, &[lo, hi], &[a, b], &[]);
    }

    pub fn muls2(&mut self, lo: Temp, hi: Temp, a: Temp, b: Temp) {
        let ty = self.ty(lo);
        self.emit(Opc::Muls2, ty, &[lo, hi], &[a, b], &[]);
    }

    /// `d = (a cond b) ? 1 : 0`.
    pub fn setcond(&mut self, cond: Cond, d: Temp, a: Temp, b: Temp) {
        let ty = self.ty(a);
        let _ = self.ty(d);
        self.emit(Opc::Setcond, ty, &[d], &[a, b], &[cond as u64]);
    }

    /// `d = (c1 cond c2) ? v1 : v2`.
    pub fn movcond(&mut self, cond: Cond, d: Temp, c1: Temp, c2: Temp, v1: Temp, v2: Temp) {
        let ty = self.ty(d);
        self.emit(Opc::Movcond, ty, &[d], &[c1, c2, v1, v2], &[cond as u64]);
    }

    pub fn brcond(&mut self, cond: Cond, a: Temp, b: Temp, target: Label) {
        let ty = self.ty(a);
        self.emit(
            Opc::Brcond,
            ty,
            &[],
            &[a, b],
            &[cond as u64, target.0 as u64],
        );
    }

    pub fn br(&mut self, target: Label) {
        self.emit(Opc::Br, Type::I64, &[], &[], &[target.0 as u64]);
    }

    pub fn set_label(&mut self, l: Label) {
        self.emit(Opc::SetLabel, Type::I64, &[], &[], &[l.0 as u64]);
    }

    /// Loads `memop`-sized state at `env + offset` into `d` (not a guest memory access).
    pub fn ld_env(&mut self, d: Temp, offset: u32, memop: MemOp) {
        let ty = self.ty(d);
        self.emit(Opc::LdEnv, ty, &[d], &[], &[offset as u64, memop.0 as u64]);
    }

    pub fn st_env(&mut self, v: Temp, offset: u32, memop: MemOp) {
        let ty = self.ty(v);
        self.emit(Opc::StEnv, ty, &[], &[v], &[offset as u64, memop.0 as u64]);
    }

    pub fn qemu_ld(&mut self, d: Temp, addr: Temp, memop: MemOp, mmu: MmuIdx) {
        let ty = self.ty(d);
        self.emit(
            Opc::QemuLd,
            ty,
            &[d],
            &[addr],
            &[memop.0 as u64, mmu.0 as u64],
        );
    }

    pub fn qemu_st(&mut self, v: Temp, addr: Temp, memop: MemOp, mmu: MmuIdx) {
        let ty = self.ty(v);
        self.emit(
            Opc::QemuSt,
            ty,
            &[],
            &[v, addr],
            &[memop.0 as u64, mmu.0 as u64],
        );
    }

    /// `old = *addr; if old == cmp { *addr = new }` atomically; `d = old`.
    pub fn atomic_cmpxchg(
        &mut self,
        d: Temp,
        addr: Temp,
        cmp: Temp,
        new: Temp,
        memop: MemOp,
        mmu: MmuIdx,
    ) {
        let ty = self.ty(d);
        self.emit(
            Opc::AtomicCmpxchg,
            ty,
            &[d],
            &[addr, cmp, new],
            &[memop.0 as u64, mmu.0 as u64],
        );
    }

    /// `d = *addr; *addr = op(*addr, v)` atomically.
    pub fn atomic_rmw(
        &mut self,
        op: RmwOp,
        d: Temp,
        addr: Temp,
        v: Temp,
        memop: MemOp,
        mmu: MmuIdx,
    ) {
        let ty = self.ty(d);
        self.emit(
            Opc::AtomicRmw,
            ty,
            &[d],
            &[addr, v],
            &[memop.0 as u64, mmu.0 as u64, op as u64],
        );
    }

    pub fn mb(&mut self, flags: BarrierFlags) {
        self.emit(Opc::Mb, Type::I64, &[], &[], &[flags.bits() as u64]);
    }

    /// Calls `helper(env, args..)`; `ret` receives the result when the helper has one.
    pub fn call(&mut self, helper: &'static Helper, ret: Option<Temp>, args: &[Temp]) {
        let idx = match self
            .func
            .helpers
            .iter()
            .position(|h| std::ptr::eq(*h, helper))
        {
            Some(i) => i,
            None => {
                self.func.helpers.push(helper);
                self.func.helpers.len() - 1
            }
        };
        let outs: SmallVec<[Temp; 2]> = ret.into_iter().collect();
        self.emit(Opc::Call, Type::I64, &outs, args, &[idx as u64]);
    }

    /// A vector op with one source: `vmov vnot vneg vabs` (`d = op(a)`).
    pub fn vec_unary(&mut self, opc: Opc, shape: VecShape, d: u32, a: u32) {
        self.emit(
            opc,
            Type::I64,
            &[],
            &[],
            &[shape.carg(), d as u64, a as u64],
        );
    }

    /// A vector op with two sources: `vadd vsub vmul vand vor vxor vandc vorc vsmin vsmax
    /// vumin vumax` (`d = a op b`).
    pub fn vec_binary(&mut self, opc: Opc, shape: VecShape, d: u32, a: u32, b: u32) {
        let c = [shape.carg(), d as u64, a as u64, b as u64];
        self.emit(opc, Type::I64, &[], &[], &c);
    }

    /// `vmla vmls`: `d = acc +/- a * b`.
    pub fn vec_acc(&mut self, opc: Opc, shape: VecShape, d: u32, a: u32, b: u32, acc: u32) {
        let c = [shape.carg(), d as u64, a as u64, b as u64, acc as u64];
        self.emit(opc, Type::I64, &[], &[], &c);
    }

    /// Lanes of `d` = all-ones where `a cond b`, else zero.
    pub fn vcmp(&mut self, shape: VecShape, cond: Cond, d: u32, a: u32, b: u32) {
        let c = [shape.carg(), cond as u64, d as u64, a as u64, b as u64];
        self.emit(Opc::VCmp, Type::I64, &[], &[], &c);
    }

    /// Lanes of `d` = all-ones where `a cond x` (`x` replicated), else zero.
    pub fn vcmps(&mut self, shape: VecShape, cond: Cond, d: u32, a: u32, x: Temp) {
        let c = [shape.carg(), cond as u64, d as u64, a as u64];
        self.emit(Opc::VCmps, Type::I64, &[], &[x], &c);
    }

    /// `vshli vshri vsari`: every lane of `a` shifted by `sh`.
    pub fn vec_shift(&mut self, opc: Opc, shape: VecShape, d: u32, a: u32, sh: u32) {
        let c = [shape.carg(), d as u64, a as u64, sh as u64];
        self.emit(opc, Type::I64, &[], &[], &c);
    }

    /// `d = (t & c) | (f & !c)`.
    pub fn vbitsel(&mut self, shape: VecShape, d: u32, c: u32, t: u32, f: u32) {
        let a = [shape.carg(), d as u64, c as u64, t as u64, f as u64];
        self.emit(Opc::VBitsel, Type::I64, &[], &[], &a);
    }

    /// Every lane of `d` = the low lane bits of `x` (an I64).
    pub fn vdup(&mut self, shape: VecShape, d: u32, x: Temp) {
        self.emit(Opc::VDup, Type::I64, &[], &[x], &[shape.carg(), d as u64]);
    }

    /// `vands vors`: `d = a op dup(x)`.
    pub fn vec_scalar(&mut self, opc: Opc, shape: VecShape, d: u32, a: u32, x: Temp) {
        let c = [shape.carg(), d as u64, a as u64];
        self.emit(opc, Type::I64, &[], &[x], &c);
    }

    /// `vusadd vssadd vussub vsssub`: `d = a op b` saturating; `sat` = 1 when any lane
    /// saturated, else 0.
    pub fn vec_sat(&mut self, opc: Opc, shape: VecShape, sat: Temp, d: u32, a: u32, b: u32) {
        let c = [shape.carg(), d as u64, a as u64, b as u64];
        self.emit(opc, Type::I64, &[sat], &[], &c);
    }

    /// Byte `i` of `d` = byte `mask[i]` of `a:b` (zero for `mask[i] >= 32`).
    pub fn vshuf(&mut self, shape: VecShape, d: u32, a: u32, b: u32, mask: [u8; 16]) {
        let m = u128::from_le_bytes(mask);
        let c = [
            shape.carg(),
            d as u64,
            a as u64,
            b as u64,
            m as u64,
            (m >> 64) as u64,
        ];
        self.emit(Opc::VShuf, Type::I64, &[], &[], &c);
    }

    pub fn insn_start(&mut self, pc: u64) {
        self.emit(Opc::InsnStart, Type::I64, &[], &[], &[pc]);
    }

    /// Marks `goto_tb slot` as continuing at this TB's own start (see [`Func::self_loops`]).
    pub fn mark_self_loop(&mut self, slot: u32) {
        if slot < 8 {
            self.func.self_loops |= 1 << slot;
        }
    }

    pub fn goto_tb(&mut self, slot: u32) {
        self.emit(Opc::GotoTb, Type::I64, &[], &[], &[slot as u64]);
    }

    /// Jumps to the TB for guest pc `pc` (flags `tb_flags`, code fetched through `mmu`)
    /// if the vCPU's jump cache has it; falls through otherwise.
    pub fn lookup_goto(&mut self, pc: Temp, tb_flags: u64, mmu: MmuIdx) {
        self.emit(
            Opc::LookupGoto,
            Type::I64,
            &[],
            &[pc],
            &[tb_flags, mmu.0 as u64],
        );
    }

    pub fn exit_tb(&mut self, code: u64) {
        self.emit(Opc::ExitTb, Type::I64, &[], &[], &[code]);
    }
}
