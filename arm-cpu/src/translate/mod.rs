//! A64 -> IR: the block loop and the machinery every instruction group uses (register
//! access, lazy flags, conditions, block exits). The groups live in the sibling modules.

pub(crate) mod atomic;
mod branch;
mod dp;
mod fpsimd;
mod ldst;
mod lookahead;
mod simd_native;
mod system;

use crate::exits;
use crate::state::{off, CpuEnv};
use arm_decode::{decode, Cond as ACond, Insn, InsnClass, Reg, RegKind};
use softmmu::layout::{PAGE_MASK, PAGE_SIZE};
use tcg_ir::types::{Cond, MemOp, MmuIdx, Type};
use tcg_ir::{Builder, ExitCode, Func, HelperFlags, Opc, Temp};

/// Most guest instructions in one block (keeps compile units small and exits frequent).
pub const MAX_INSNS: usize = 128;

bitflags::bitflags! {
    /// System-control bits that change how code translates: alignment checking, and what
    /// EL0 may do without trapping (from SCTLR_EL1 and CNTKCTL_EL1).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Ctl: u32 {
        /// SCTLR_EL1.A: every data access must be aligned to its size.
        const ALIGN = 1 << 0;
        /// SCTLR_EL1.UMA: EL0 may access DAIF.
        const UMA = 1 << 1;
        /// SCTLR_EL1.UCT: EL0 may read CTR_EL0.
        const UCT = 1 << 2;
        /// SCTLR_EL1.UCI: EL0 may clean/invalidate caches by VA.
        const UCI = 1 << 3;
        /// SCTLR_EL1.DZE: EL0 may use DC ZVA.
        const DZE = 1 << 4;
        /// SCTLR_EL1.nTWI / nTWE: EL0 WFI / WFE do not trap.
        const NTWI = 1 << 5;
        const NTWE = 1 << 6;
        /// CNTKCTL_EL1: EL0 access to the physical / virtual counter and timer.
        const EL0PCTEN = 1 << 7;
        const EL0VCTEN = 1 << 8;
        const EL0VTEN = 1 << 9;
        const EL0PTEN = 1 << 10;
        /// SCTLR_EL1.SA (at EL1) / SA0 (at EL0): SP must be 16-byte aligned when used as
        /// the base of a load or store.
        const SP_ALIGN = 1 << 11;
        /// CPACR_EL1.FPEN allows FP/SIMD at this EL (else it traps with EC 0x07).
        const FPEN = 1 << 12;
        /// At EL1 with a GICv3: the ICC_*_EL1 registers exist (ID_AA64PFR0_EL1.GIC).
        /// Constant for a machine; in the key so a translation never mixes them up.
        const GICV3 = 1 << 13;
        /// A debugger is attached, which may stop the vCPU between any two blocks and
        /// show NZCV: no block leaves the flags unwritten because the code it continues
        /// at overwrites them unread (see `lookahead`).
        const EXACT_NZCV = 1 << 14;
    }
}

/// The translation-relevant state a block was translated under (part of the TB key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TbFlags {
    pub el: u8,
    pub ctl: Ctl,
}

impl TbFlags {
    /// Flags at `el` with everything EL0 can be allowed allowed and no alignment checks
    /// (tests and tools that run code outside a full CPU).
    pub fn at_el(el: u8) -> TbFlags {
        TbFlags {
            el,
            ctl: Ctl::all() - Ctl::ALIGN - Ctl::SP_ALIGN - Ctl::EXACT_NZCV,
        }
    }

    /// The EL (0 or 1: `from_env` folds higher ones) in bit 0, the [`Ctl`] bits above it:
    /// 16 bits, all of which the jump cache's key keeps (`softmmu::jmp::key`; TBs whose
    /// flags do not fit are never entered through it).
    pub fn bits(self) -> u32 {
        (self.el & 1) as u32 | self.ctl.bits() << 1
    }

    pub fn from_bits(bits: u32) -> TbFlags {
        TbFlags {
            el: (bits & 1) as u8,
            ctl: Ctl::from_bits_truncate(bits >> 1),
        }
    }

    pub fn from_env(env: &CpuEnv) -> TbFlags {
        let el = env.el.min(1) as u8;
        let sctlr = env.sysregs[crate::sysregs::slot::SCTLR];
        let mut ctl = Ctl::empty();
        ctl.set(Ctl::ALIGN, sctlr & (1 << 1) != 0);
        let sa_bit = if el == 0 { 4 } else { 3 };
        ctl.set(Ctl::SP_ALIGN, sctlr & (1 << sa_bit) != 0);
        // FPEN: 0b11 enables both ELs, 0b01 EL1 only, 0b00/0b10 neither.
        let fpen = (env.sysregs[crate::sysregs::slot::CPACR] >> 20) & 3;
        ctl.set(Ctl::FPEN, fpen == 3 || (fpen == 1 && el == 1));
        let gic = env.sysregs[crate::sysregs::slot::PFR0] & crate::sysregs::PFR0_GIC != 0;
        ctl.set(Ctl::GICV3, gic && el == 1);
        ctl.set(Ctl::EXACT_NZCV, env.debugged);
        if el == 0 {
            // EL0 permissions only matter at EL0; keeping them out of EL1 keys means a
            // change of them does not retranslate kernel code.
            let cntkctl = env.sysregs[crate::sysregs::slot::CNTKCTL];
            for (bit, f) in [
                (9, Ctl::UMA),
                (15, Ctl::UCT),
                (26, Ctl::UCI),
                (14, Ctl::DZE),
                (16, Ctl::NTWI),
                (18, Ctl::NTWE),
            ] {
                ctl.set(f, sctlr & (1 << bit) != 0);
            }
            for (bit, f) in [
                (0, Ctl::EL0PCTEN),
                (1, Ctl::EL0VCTEN),
                (8, Ctl::EL0VTEN),
                (9, Ctl::EL0PTEN),
            ] {
                ctl.set(f, cntkctl & (1 << bit) != 0);
            }
        }
        TbFlags { el, ctl }
    }

    pub fn mmu_idx(self) -> MmuIdx {
        MmuIdx(self.el)
    }

    /// At EL0 without `f` (at EL1 everything is allowed).
    pub fn el0_denied(self, f: Ctl) -> bool {
        self.el == 0 && !self.ctl.contains(f)
    }
}

/// Names of the X registers as IR globals (static: no allocation per TB).
const X_NAMES: [&str; 31] = [
    "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
    "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27",
    "x28", "x29", "x30",
];

/// The guest registers as IR globals.
#[derive(Clone, Copy)]
pub(crate) struct Globals {
    pub x: [Temp; 31],
    pub sp: Temp,
    pub pc: Temp,
    pub nf: Temp,
    pub zf: Temp,
    pub cf: Temp,
    pub vf: Temp,
    pub cc_a: Temp,
    pub cc_b: Temp,
    pub cc_pending: Temp,
    pub excl_addr: Temp,
    pub excl_val: Temp,
    pub excl_val2: Temp,
}

/// How the block ended so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockEnd {
    /// Fall through to the next instruction.
    Next,
    /// The instruction emitted its own exit; stop translating.
    Exited,
    /// Stop after this instruction and continue at the next PC via lookup (state that
    /// affects translation may have changed).
    StopAfter,
    /// Stop after this instruction and continue at the next PC through the jump cache
    /// from generated code (`lookup_goto`): the TB flags are unchanged, but the next
    /// instruction must start a TB. For ISB (later instructions are fetched anew) and
    /// DAIF writes (an interrupt they unmask is taken at that TB's entry: the write's
    /// `CHECK_IRQ` requests the exit). A boot ran ~1.5 M loop trips from these.
    StopLookup,
    /// An unconditional direct branch (B, BL: the link already written) to this address:
    /// the block goes on there if it may (see `translate_block_debug`), else it leaves
    /// through `goto_tb` slot 0.
    Jump(u64),
}

pub(crate) struct Ctx {
    pub b: Builder,
    pub g: Globals,
    /// Address of the block's first instruction.
    pub start_pc: u64,
    /// Address of the instruction being translated.
    pub pc: u64,
    pub word: u32,
    pub flags: TbFlags,
    /// A debugger single-steps: block exits neither chain nor probe the jump cache, so
    /// the execution loop sees the end of the one instruction.
    pub no_chain: bool,
    /// SP was checked 16-byte aligned earlier in the block and has only changed by
    /// multiples of 16 since (see `ldst::check_sp_base`).
    pub sp_aligned: bool,
    /// The last CMP/SUBS of the block: its operands, for [`Ctx::cond_test`] while nothing
    /// else wrote the flags.
    pub last_sub: Option<LastSub>,
    /// What the block knows of the flag globals at this point (see [`FlagState`]).
    pub flag_state: FlagState,
    /// Values the MOVZ/MOVN/MOVKs since the last other instruction left in X registers
    /// (bit n of `wide_known`: `wide[n]` holds Xn), so a MOVK of such a register writes
    /// a constant: a 64-bit constant built by MOVZ + three MOVKs, interleaved with
    /// another one as compilers do, becomes two constants instead of six deposits.
    pub wide: [u64; 31],
    pub wide_known: u32,
    /// The look at the code block exits go to (see [`lookahead`]): whether it may be
    /// done, the host view of the block's page, and the guest bytes read (`span`,
    /// `[lo, hi)`, empty at the start).
    pub lookahead: bool,
    pub code: *const u8,
    pub span: (u64, u64),
    /// `goto_tb` slots whose target overwrites all of NZCV before reading any: the flag
    /// globals are dead there.
    pub flags_dead_exits: u8,
}

/// Whether `nf`..`vf` hold NZCV at a point of the block (`CpuEnv::cc_pending`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlagState {
    /// Not known (the block's start): `cc_pending` decides at run time.
    Unknown,
    /// They do: the block wrote all four, or computed them, and cleared `cc_pending`.
    Current,
    /// A CMP/SUBS of the block deferred them: `cc_a - cc_b` with `cc_pending` set.
    Deferred,
}

/// A flag-setting subtraction `a - b` (`a`, `b` zero-extended when 32-bit, values no
/// later instruction changes) whose IR ends before op `end`.
#[derive(Clone, Copy)]
pub(crate) struct LastSub {
    pub end: usize,
    pub a: Temp,
    pub b: Temp,
    pub is64: bool,
}

/// A condition in IR terms: holds when `a cond b`.
pub(crate) struct Test {
    pub cond: Cond,
    pub a: Temp,
    pub b: Temp,
}

impl Ctx {
    fn new(flags: TbFlags) -> Ctx {
        let mut b = Builder::new();
        let x = std::array::from_fn(|i| b.global(X_NAMES[i], Type::I64, off::x(i)));
        let g = Globals {
            x,
            sp: b.global("sp", Type::I64, off::SP),
            pc: b.global("pc", Type::I64, off::PC),
            nf: b.global("nf", Type::I64, off::NF),
            zf: b.global("zf", Type::I64, off::ZF),
            cf: b.global("cf", Type::I64, off::CF),
            vf: b.global("vf", Type::I64, off::VF),
            cc_a: b.global("cc_a", Type::I64, off::CC_A),
            cc_b: b.global("cc_b", Type::I64, off::CC_B),
            cc_pending: b.global("cc_pending", Type::I64, off::CC_PENDING),
            excl_addr: b.global("excl_addr", Type::I64, off::EXCL_ADDR),
            excl_val: b.global("excl_val", Type::I64, off::EXCL_VAL),
            excl_val2: b.global("excl_val2", Type::I64, off::EXCL_VAL2),
        };
        Ctx {
            b,
            g,
            start_pc: 0,
            pc: 0,
            word: 0,
            flags,
            no_chain: false,
            sp_aligned: false,
            last_sub: None,
            flag_state: FlagState::Unknown,
            lookahead: false,
            code: std::ptr::null(),
            span: (0, 0),
            flags_dead_exits: 0,
            wide: [0; 31],
            wide_known: 0,
        }
    }

    pub fn tmp(&mut self) -> Temp {
        self.b.temp(Type::I64)
    }

    pub fn c(&mut self, v: u64) -> Temp {
        self.b.c64(v)
    }

    pub fn mmu(&self) -> MmuIdx {
        self.flags.mmu_idx()
    }

    /// Reads a register as 64 bits (ZR reads 0).
    pub fn rx(&mut self, r: Reg) -> Temp {
        match r.kind() {
            RegKind::Gpr(n) => self.g.x[n as usize],
            RegKind::Sp => self.g.sp,
            RegKind::Zr => self.c(0),
        }
    }

    /// Reads a register at the operation width: W registers come zero-extended.
    pub fn rw(&mut self, r: Reg, is64: bool) -> Temp {
        let v = self.rx(r);
        if is64 || r.kind() == RegKind::Zr {
            return v;
        }
        let t = self.tmp();
        self.b.ext32u(t, v);
        t
    }

    /// Writes a register; 32-bit results are zero-extended; ZR discards.
    pub fn wr(&mut self, r: Reg, v: Temp, is64: bool) {
        let dst = match r.kind() {
            RegKind::Gpr(n) => self.g.x[n as usize],
            RegKind::Sp => {
                self.sp_aligned = false;
                self.g.sp
            }
            RegKind::Zr => return,
        };
        if is64 {
            self.b.mov(dst, v);
        } else {
            self.b.ext32u(dst, v);
        }
    }

    /// Sets N and Z from a result (32-bit results are taken from the low half).
    pub fn set_nz(&mut self, res: Temp, is64: bool) {
        if is64 {
            self.b.mov(self.g.nf, res);
            self.b.mov(self.g.zf, res);
        } else {
            self.b.ext32s(self.g.nf, res);
            self.b.ext32u(self.g.zf, res);
        }
    }

    /// Before an instruction writes all four flags (whatever it does on every path of
    /// the block from here): they are no longer deferred.
    pub fn flags_overwritten(&mut self) {
        if self.flag_state != FlagState::Current {
            let z = self.c(0);
            self.b.mov(self.g.cc_pending, z);
            self.flag_state = FlagState::Current;
        }
    }

    /// Before an instruction reads `nf`..`vf`: computes deferred flags (at run time when
    /// the block does not know whether an earlier block deferred them).
    pub fn flags_for_read(&mut self) {
        let skip = match self.flag_state {
            FlagState::Current => return,
            FlagState::Deferred => None,
            FlagState::Unknown => {
                let l = self.b.new_label();
                let z = self.c(0);
                self.b.brcond(Cond::Eq, self.g.cc_pending, z, l);
                Some(l)
            }
        };
        let g = self.g;
        self.b.sub(g.nf, g.cc_a, g.cc_b);
        self.b.mov(g.zf, g.nf);
        self.b.setcond(Cond::Geu, g.cf, g.cc_a, g.cc_b);
        let (t1, t2) = (self.tmp(), self.tmp());
        self.b.xor(t1, g.cc_a, g.cc_b);
        self.b.xor(t2, g.cc_a, g.nf);
        self.b.and(g.vf, t1, t2);
        let z = self.c(0);
        self.b.mov(g.cc_pending, z);
        if let Some(l) = skip {
            self.b.set_label(l);
        }
        self.flag_state = FlagState::Current;
    }

    /// Logical-op flags: N, Z from the result, C = V = 0.
    pub fn set_logic_flags(&mut self, res: Temp, is64: bool) {
        self.flags_overwritten();
        self.set_nz(res, is64);
        let z = self.c(0);
        self.b.mov(self.g.cf, z);
        self.b.mov(self.g.vf, z);
    }

    /// `a + b + carry_in` with NZCV; `carry_in` is a 0/1 temp or None for 0.
    /// Operands must be zero-extended when !is64. Returns the (masked) result.
    pub fn add_with_flags(&mut self, a: Temp, b: Temp, carry_in: Option<Temp>, is64: bool) -> Temp {
        self.flags_overwritten();
        let res = self.tmp();
        if is64 {
            let t = self.tmp();
            self.b.add(t, a, b);
            let c1 = self.tmp();
            self.b.setcond(Cond::Ltu, c1, t, a);
            match carry_in {
                Some(ci) => {
                    self.b.add(res, t, ci);
                    let c2 = self.tmp();
                    self.b.setcond(Cond::Ltu, c2, res, t);
                    self.b.or(self.g.cf, c1, c2);
                }
                None => {
                    self.b.mov(res, t);
                    self.b.mov(self.g.cf, c1);
                }
            }
            // V: operands of equal sign, result of the other sign.
            let t1 = self.tmp();
            let t2 = self.tmp();
            self.b.xor(t1, res, a);
            self.b.xor(t2, a, b);
            self.b.andc(self.g.vf, t1, t2);
            self.set_nz(res, true);
            res
        } else {
            let sum = self.tmp();
            self.b.add(sum, a, b);
            if let Some(ci) = carry_in {
                self.b.add(sum, sum, ci);
            }
            self.b.extract(self.g.cf, sum, 32, 1);
            self.b.ext32u(res, sum);
            let t1 = self.tmp();
            let t2 = self.tmp();
            let t3 = self.tmp();
            self.b.xor(t1, res, a);
            self.b.xor(t2, a, b);
            self.b.andc(t3, t1, t2);
            let s = self.c(32);
            self.b.shl(self.g.vf, t3, s);
            self.set_nz(res, false);
            res
        }
    }

    /// `a - b` with NZCV (C = no borrow). Operands zero-extended when !is64.
    pub fn sub_with_flags(&mut self, a: Temp, b: Temp, is64: bool) -> Temp {
        if is64 {
            self.flags_overwritten();
            let res = self.tmp();
            self.b.sub(res, a, b);
            self.b.setcond(Cond::Geu, self.g.cf, a, b);
            let t1 = self.tmp();
            let t2 = self.tmp();
            self.b.xor(t1, a, b);
            self.b.xor(t2, a, res);
            self.b.and(self.g.vf, t1, t2);
            self.set_nz(res, true);
            res
        } else {
            // a + ~b + 1 at 33 bits: the form the interpreter's 32-bit flag
            // superinstruction (`AddFlags32`) recognises.
            let nb = self.tmp();
            let m = self.c(0xffff_ffff);
            self.b.xor(nb, b, m);
            let one = self.c(1);
            self.add_with_flags(a, nb, Some(one), false)
        }
    }

    /// `a` itself unless it is a global, else a copy: a value later instructions of the
    /// block cannot change.
    fn snapshot(&mut self, a: Temp) -> Temp {
        let global = matches!(
            self.b.func().temps.get(a.index()).map(|t| &t.kind),
            Some(tcg_ir::TempKind::Global { .. })
        );
        if !global {
            return a;
        }
        let t = self.tmp();
        self.b.mov(t, a);
        t
    }

    /// CMP/SUBS: `a - b`, its flags deferred (the operands go to `cc_a`/`cc_b`, shifted
    /// left by 32 when 32-bit, which gives the same NZCV), and remembered so that a
    /// condition tested later in the block, before any other flag write, compares `a`
    /// and `b` directly. Returns the (masked) difference.
    pub fn compare(&mut self, a: Temp, b: Temp, is64: bool) -> Temp {
        let (sa, sb) = (self.snapshot(a), self.snapshot(b));
        let r = self.tmp();
        self.b.sub(r, sa, sb);
        let g = self.g;
        if is64 {
            self.b.mov(g.cc_a, sa);
            self.b.mov(g.cc_b, sb);
        } else {
            self.b.ext32u(r, r);
            let s = self.c(32);
            self.b.shl(g.cc_a, sa, s);
            self.b.shl(g.cc_b, sb, s);
        }
        let one = self.c(1);
        self.b.mov(g.cc_pending, one);
        self.flag_state = FlagState::Deferred;
        self.last_sub = Some(LastSub {
            end: self.b.len(),
            a: sa,
            b: sb,
            is64,
        });
        r
    }

    /// Whether the flags may have been written since op `from` (by an op writing one of
    /// the NZCV globals, an env store, or a helper that may write globals).
    fn flags_written_since(&self, from: usize) -> bool {
        let f = self.b.func();
        let g = &self.g;
        f.ops
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .any(|op| match op.opc {
                Opc::StEnv => true,
                Opc::Call => op
                    .cargs
                    .first()
                    .and_then(|&h| f.helpers.get(h as usize))
                    .is_none_or(|h| !h.flags.contains(HelperFlags::NO_WRITE_GLOBALS)),
                _ => op
                    .oargs
                    .iter()
                    .any(|&t| [g.nf, g.zf, g.cf, g.vf, g.cc_a, g.cc_b, g.cc_pending].contains(&t)),
            })
    }

    /// A test of `c` as a comparison of the operands of the block's last CMP/SUBS when
    /// nothing wrote the flags since and `c` only depends on them.
    fn fused_test(&mut self, c: ACond) -> Option<Test> {
        let s = self.last_sub?;
        if self.flags_written_since(s.end) {
            self.last_sub = None;
            return None;
        }
        let cond = match c {
            ACond::Eq => Cond::Eq,
            ACond::Ne => Cond::Ne,
            ACond::Cs => Cond::Geu,
            ACond::Cc => Cond::Ltu,
            ACond::Hi => Cond::Gtu,
            ACond::Ls => Cond::Leu,
            ACond::Ge => Cond::Ge,
            ACond::Lt => Cond::Lt,
            ACond::Gt => Cond::Gt,
            ACond::Le => Cond::Le,
            _ => return None,
        };
        let signed = matches!(c, ACond::Ge | ACond::Lt | ACond::Gt | ACond::Le);
        if signed && !s.is64 {
            let (a, b) = (self.tmp(), self.tmp());
            self.b.ext32s(a, s.a);
            self.b.ext32s(b, s.b);
            return Some(Test { cond, a, b });
        }
        Some(Test {
            cond,
            a: s.a,
            b: s.b,
        })
    }

    /// The IR test for an A64 condition code (`Al`/`Nv` give an always-true test).
    pub fn cond_test(&mut self, c: ACond) -> Test {
        if let Some(t) = self.fused_test(c) {
            return t;
        }
        if !matches!(c, ACond::Al | ACond::Nv) {
            self.flags_for_read();
        }
        let zero = self.c(0);
        let (nf, zf, cf, vf) = (self.g.nf, self.g.zf, self.g.cf, self.g.vf);
        // Every condition is "some temp <cond> 0".
        let (cond, a) = match c {
            ACond::Eq => (Cond::Eq, zf),
            ACond::Ne => (Cond::Ne, zf),
            ACond::Cs => (Cond::Ne, cf),
            ACond::Cc => (Cond::Eq, cf),
            ACond::Mi => (Cond::Lt, nf),
            ACond::Pl => (Cond::Ge, nf),
            ACond::Vs => (Cond::Lt, vf),
            ACond::Vc => (Cond::Ge, vf),
            ACond::Hi | ACond::Ls => {
                // C set and Z clear: (-CF & ZF) != 0.
                let t = self.tmp();
                self.b.neg(t, cf);
                self.b.and(t, t, zf);
                (if c == ACond::Hi { Cond::Ne } else { Cond::Eq }, t)
            }
            ACond::Ge | ACond::Lt => {
                // N == V: the sign of NF ^ VF is clear.
                let t = self.tmp();
                self.b.xor(t, nf, vf);
                (if c == ACond::Ge { Cond::Ge } else { Cond::Lt }, t)
            }
            ACond::Gt | ACond::Le => {
                // Z clear and N == V: (ZF != 0) & !((NF ^ VF) >> 63 arith) != 0.
                let z = self.tmp();
                self.b.setcond(Cond::Ne, z, zf, zero);
                let t = self.tmp();
                self.b.xor(t, nf, vf);
                let s = self.c(63);
                self.b.sar(t, t, s);
                self.b.andc(t, z, t);
                (if c == ACond::Gt { Cond::Ne } else { Cond::Eq }, t)
            }
            ACond::Al | ACond::Nv => (Cond::Eq, zero),
        };
        Test { cond, a, b: zero }
    }

    /// Leaves the block to continue at the constant `target`: through `goto_tb` slot
    /// (chainable) within the block's guest page, through the jump cache otherwise (a
    /// chain may not cross pages: the other page's mapping can change).
    pub fn goto(&mut self, slot: u32, target: u64) {
        let t = self.vpc(target);
        self.b.mov(self.g.pc, t);
        if self.no_chain {
            self.b.exit_tb(ExitCode::LOOKUP);
        } else if (target ^ self.start_pc) & PAGE_MASK == 0 {
            if target == self.start_pc {
                self.b.mark_self_loop(slot);
            }
            if self.lookahead && lookahead::flags_dead_at(self, target) {
                self.flags_dead_exits |= 1 << slot;
            }
            self.b.goto_tb(slot);
            self.b.exit_tb(slot as u64);
        } else {
            self.lookup_exit(t);
        }
    }

    /// Leaves the block for the pc in `target` (already in the pc global), continuing in
    /// the next TB straight from generated code when the jump cache has it. Only for exits
    /// after which the TB flags are unchanged.
    pub fn lookup_exit(&mut self, target: Temp) {
        if !self.no_chain {
            self.b
                .lookup_goto(target, self.flags.bits() as u64, self.flags.mmu_idx());
        }
        self.b.exit_tb(ExitCode::LOOKUP);
    }

    /// The virtual address the instruction at `addr` (an address of the block as
    /// translated, in the same page or the next) runs at: blocks are position independent
    /// within their page, so this is the pc the block was entered at (`env.pc`, written
    /// only when the block exits) plus the distance.
    pub fn vpc(&mut self, addr: u64) -> Temp {
        let d = self.c(addr.wrapping_sub(self.start_pc));
        let t = self.tmp();
        self.b.add(t, self.g.pc, d);
        t
    }

    /// Leaves the block with a guest exit code; `pc` becomes `pc_after`.
    pub fn exit_with(&mut self, code: u64, pc_after: u64, info: u64) {
        let p = self.vpc(pc_after);
        self.b.mov(self.g.pc, p);
        let i = self.c(info);
        self.b.st_env(i, off::EXIT_INFO, MemOp::UQ);
        self.b.exit_tb(code);
    }

    /// A trapped instruction: a synchronous exception with syndrome `esr`, taken at it.
    pub fn trap(&mut self, esr: u64) -> BlockEnd {
        self.exit_with(exits::TRAP, self.pc, esr);
        BlockEnd::Exited
    }

    /// A trapped MRS/MSR/SYS (EC 0x18): the syndrome names the register and Rt.
    pub fn trap_sysreg(&mut self, reg: arm_decode::SysReg, rt: u8, read: bool) -> BlockEnd {
        let iss = (reg.op0() as u64) << 20
            | (reg.op2() as u64) << 17
            | (reg.op1() as u64) << 14
            | (reg.crn() as u64) << 10
            | (rt as u64 & 31) << 5
            | (reg.crm() as u64) << 1
            | read as u64;
        self.trap(crate::except::esr(crate::except::ec::SYSREG, iss))
    }

    /// Sets NZCV from a value holding them in bits 31..28 (the NZCV register layout).
    pub fn set_nzcv(&mut self, v: Temp) {
        self.flags_overwritten();
        let s = self.c(32);
        self.b.shl(self.g.nf, v, s);
        let z = self.tmp();
        self.b.extract(z, v, 30, 1);
        let one = self.c(1);
        self.b.xor(self.g.zf, z, one);
        self.b.extract(self.g.cf, v, 29, 1);
        let s35 = self.c(35);
        self.b.shl(self.g.vf, v, s35);
        let m = self.c(1 << 63);
        self.b.and(self.g.vf, self.g.vf, m);
        self.b.and(self.g.nf, self.g.nf, m);
    }

    /// FP/SIMD disabled by CPACR_EL1.FPEN: the access traps (EC 0x07; the ISS has CV
    /// set and COND 0xE, as for every trapped A64 instruction with a condition field).
    pub fn fp_trapped(&mut self) -> Option<BlockEnd> {
        if self.flags.ctl.contains(Ctl::FPEN) {
            return None;
        }
        let esr = crate::except::esr(crate::except::ec::FP_ACCESS, 1 << 24 | 0xe << 20);
        Some(self.trap(esr))
    }

    /// An instruction we cannot execute: stop here with the UNDEF exit.
    pub fn undef(&mut self) -> BlockEnd {
        self.exit_with(exits::UNDEF, self.pc, self.word as u64);
        BlockEnd::Exited
    }
}

/// Why translation could not even start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchFault {
    pub pc: u64,
}

/// Translates the block at `pc`, reading instruction words from `code` (the host view of
/// the guest page holding `pc`). Returns the IR, bytes covered and instruction count.
///
/// The block is position independent within its page: every pc-derived value (branch
/// targets, link addresses, ADR/ADRP, literal addresses, exit pcs) is computed from the
/// pc it is entered at (`env.pc`), so one translation serves every virtual address that
/// maps the code. `pc` is only the address it is translated at: the CPU passes the
/// physical address; `insn_start`s carry it, and a fault's recorded pc is that address,
/// whose page offset is the faulting instruction's (the CPU takes the page from `env.pc`).
///
/// # Safety
/// `code` must point at the 4 KiB host page that holds `pc` (valid for reads).
pub unsafe fn translate_block(code: *const u8, pc: u64, flags: TbFlags) -> (Func, u32, u32) {
    // SAFETY: caller contract.
    let b = unsafe { translate_block_debug(code, pc, flags, &BlockDebug::NONE) };
    (b.func, b.size, b.insns)
}

/// A translated block.
pub struct Block {
    pub func: Func,
    /// Guest bytes from the block's start that it covers: its instructions, and the
    /// code after them its exits were looked at for.
    pub size: u32,
    /// Guest bytes before the block's start it depends on (a backward branch's target,
    /// looked at): a write there invalidates the block too.
    pub before: u32,
    /// Guest instructions in the block.
    pub insns: u32,
}

/// What a debugger asks of a translation (see `vcpu_sched::GuestCpu::translate_debug`).
#[derive(Clone, Copy, Debug)]
pub struct BlockDebug<'a> {
    /// The virtual address the block's first instruction runs at (the pc translation
    /// starts from may be its physical address).
    pub vpc: u64,
    /// Sorted virtual addresses of breakpoints: the block ends before reaching one.
    pub breakpoints: &'a [u64],
    /// Exactly one instruction, breakpoints ignored, exits without chaining.
    pub one_insn: bool,
}

impl BlockDebug<'_> {
    pub const NONE: BlockDebug<'static> = BlockDebug {
        vpc: 0,
        breakpoints: &[],
        one_insn: false,
    };
}

/// [`translate_block`] under a debugger's requests (`dbg`), with the guest bytes it
/// depends on.
///
/// A breakpoint ends the block before its instruction with the [`exits::DEBUG`] exit
/// (pc at the instruction); the block's size still counts that instruction, so that
/// invalidating the breakpoint's bytes (when it is removed) drops the block.
///
/// # Safety
/// As [`translate_block`].
pub unsafe fn translate_block_debug(
    code: *const u8,
    pc: u64,
    flags: TbFlags,
    dbg: &BlockDebug,
) -> Block {
    let mut cx = Ctx::new(flags);
    cx.start_pc = pc;
    cx.no_chain = dbg.one_insn;
    cx.code = code;
    cx.span = (pc, pc);
    cx.lookahead = !flags.ctl.contains(Ctl::EXACT_NZCV) && dbg.breakpoints.is_empty();
    let page_end = (pc & PAGE_MASK) + PAGE_SIZE;
    let mut cur = pc;
    let mut n = 0u32;
    let mut size_extra = 0u32;
    loop {
        if !dbg.one_insn
            && !dbg.breakpoints.is_empty()
            && dbg
                .breakpoints
                .binary_search(&dbg.vpc.wrapping_add(cur.wrapping_sub(pc)))
                .is_ok()
        {
            let p = cx.vpc(cur);
            cx.b.mov(cx.g.pc, p);
            cx.b.exit_tb(exits::DEBUG);
            size_extra = 4;
            break;
        }
        let offset = (cur & !PAGE_MASK) as usize;
        // SAFETY: offset + 4 <= page size (pc is 4-aligned within the page; the caller
        // guarantees `code` covers the page). Guest code is read racily like any RAM.
        let word = unsafe { (code.add(offset) as *const u32).read_unaligned() }.to_le();
        cx.pc = cur;
        cx.word = word;
        cx.b.insn_start(cur);
        n += 1;
        let end = translate_insn(&mut cx, decode(word));
        cur = cur.wrapping_add(4);
        match end {
            BlockEnd::Exited => break,
            BlockEnd::StopAfter => {
                let p = cx.vpc(cur);
                cx.b.mov(cx.g.pc, p);
                cx.b.exit_tb(ExitCode::LOOKUP);
                break;
            }
            BlockEnd::StopLookup => {
                let p = cx.vpc(cur);
                cx.b.mov(cx.g.pc, p);
                cx.lookup_exit(p);
                break;
            }
            BlockEnd::Next => {
                if cur >= page_end || n as usize >= MAX_INSNS || dbg.one_insn {
                    cx.goto(0, cur);
                    break;
                }
            }
            BlockEnd::Jump(to) => {
                // Forward in the page: the block's code stays one range growing upwards
                // (nothing is translated twice, the bytes jumped over are covered too),
                // and a chained exit would only have cost a TB transition.
                if to < cur || to >= page_end || n as usize >= MAX_INSNS || dbg.one_insn {
                    cx.goto(0, to);
                    break;
                }
                cur = to;
            }
        }
    }
    let (dead_exits, g, span) = (cx.flags_dead_exits, cx.g, cx.span);
    let mut func = cx.b.finish();
    if dead_exits != 0 {
        lookahead::drop_dead_flag_writes(&mut func, &g, dead_exits);
    }
    if flags.ctl.contains(Ctl::ALIGN) {
        // SCTLR_EL1.A: every load and store faults when not aligned to its size.
        for op in &mut func.ops {
            if matches!(op.opc, Opc::QemuLd | Opc::QemuSt) {
                if let Some(m) = op.cargs.first_mut() {
                    *m |= MemOp::ALIGN as u64;
                }
            }
        }
    }
    let size = (cur.wrapping_sub(pc) as u32 + size_extra).max(span.1.saturating_sub(pc) as u32);
    Block {
        func,
        size,
        before: pc.saturating_sub(span.0) as u32,
        insns: n,
    }
}

fn translate_insn(cx: &mut Ctx, insn: Insn) -> BlockEnd {
    if !matches!(insn, Insn::MoveWide { .. }) {
        // Any other instruction may write any register (see `Ctx::wide`).
        cx.wide_known = 0;
    }
    match insn.class() {
        InsnClass::DataProcessing => dp::translate(cx, insn),
        InsnClass::Branch => branch::translate(cx, insn),
        InsnClass::LoadStore => match insn {
            Insn::AtomicMem { .. }
            | Insn::CompareSwap { .. }
            | Insn::CompareSwapPair { .. }
            | Insn::LoadAcquirePc { .. } => atomic::translate(cx, insn),
            _ => ldst::translate(cx, insn),
        },
        InsnClass::Exception | InsnClass::System => {
            // A system instruction may switch or write the stack pointer behind `wr`.
            cx.sp_aligned = false;
            system::translate(cx, insn)
        }
        InsnClass::FpSimd => fpsimd::translate(cx, insn),
        InsnClass::Unallocated => cx.undef(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0x4008_0000;
    const NOP: u32 = 0xd503_201f;
    const ADD_X1_1: u32 = 0x9100_0421;

    fn b(from: u64, to: u64, link: bool) -> u32 {
        let op = if link { 0x9400_0000 } else { 0x1400_0000 };
        op | ((to as i64 - from as i64) >> 2) as u32 & 0x3ff_ffff
    }

    /// Translates the block at `BASE` of a page holding `words` at their offsets (UDF
    /// elsewhere).
    fn block(words: &[(u64, u32)], one_insn: bool) -> Block {
        let mut page = vec![0u32; 1024];
        for &(off, w) in words {
            page[off as usize / 4] = w;
        }
        let dbg = BlockDebug {
            vpc: BASE,
            breakpoints: &[],
            one_insn,
        };
        // SAFETY: `page` is a whole 4 KiB page of code.
        unsafe { translate_block_debug(page.as_ptr() as *const u8, BASE, TbFlags::at_el(1), &dbg) }
    }

    fn insn_pcs(b: &Block) -> Vec<u64> {
        b.func
            .ops
            .iter()
            .filter(|o| o.opc == Opc::InsnStart)
            .map(|o| o.cargs[0])
            .collect()
    }

    fn last_two(b: &Block) -> (Opc, Opc) {
        let n = b.func.ops.len();
        (b.func.ops[n - 2].opc, b.func.ops[n - 1].opc)
    }

    #[test]
    fn blocks_go_on_at_forward_branches_in_their_page() {
        // b over a UDF, bl forward (the link written), then a backward b ends the block.
        let code = [
            (0x0, b(0x0, 0x8, false)),
            (0x8, ADD_X1_1),
            (0xc, b(0xc, 0x40, true)),
            (0x40, NOP),
            (0x44, b(0x44, 0x0, false)),
        ];
        let blk = block(&code, false);
        assert_eq!(
            insn_pcs(&blk),
            [0x0, 0x8, 0xc, 0x40, 0x44].map(|o| BASE + o)
        );
        assert_eq!(blk.insns, 5);
        // The bytes jumped over are covered too: one range.
        assert_eq!((blk.before, blk.size), (0, 0x48));
        assert_eq!(last_two(&blk), (Opc::GotoTb, Opc::ExitTb));
        let lr = blk
            .func
            .temps
            .iter()
            .position(|t| t.name.as_deref() == Some("x30"))
            .expect("x30 written");
        assert!(blk
            .func
            .ops
            .iter()
            .any(|o| o.oargs.iter().any(|t| t.index() == lr)));
    }

    #[test]
    fn blocks_end_at_branches_out_of_the_page_and_when_single_stepped() {
        let out = [(0x0, b(0x0, 0x1000, false))];
        let blk = block(&out, false);
        assert_eq!(blk.insns, 1);
        assert_eq!(last_two(&blk), (Opc::LookupGoto, Opc::ExitTb));
        let fwd = [(0x0, b(0x0, 0x8, false)), (0x8, NOP)];
        let blk = block(&fwd, true);
        assert_eq!(insn_pcs(&blk), [BASE]);
        assert_eq!(blk.size, 4);
    }

    #[test]
    fn tb_flags_round_trip_and_fit_the_jump_cache_key() {
        for el in [0, 1] {
            for ctl in [Ctl::empty(), Ctl::all(), Ctl::EXACT_NZCV | Ctl::ALIGN] {
                let f = TbFlags { el, ctl };
                assert_eq!(TbFlags::from_bits(f.bits()), f);
                // With every bit set (a debugger attached), still a jump-cache key.
                assert!(softmmu::jmp::key(0x7f00_1234_5000, f.bits()).is_some());
            }
        }
    }
}
