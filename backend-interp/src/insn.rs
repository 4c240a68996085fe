//! The interpreter's instruction format: 16-byte register-machine instructions whose
//! operands are frame slots (`S`), resolved at compile time.
//!
//! Globals, locals and the constants that are not folded into an immediate all live in
//! frame slots, so an operand is one load from `frame + 8 * slot` with no "global or local?"
//! test. Slot values are kept masked to their temp's type (I32 zero-extended), which the
//! 64-bit arithmetic variants rely on: and/or/xor/shr of masked values stay masked, 32-bit
//! add/sub/mul/shl mask their result.

use tcg_ir::{Cond, MemOp, Opc, RmwOp, Type};

/// A frame slot.
pub(crate) type S = u16;

/// A condition and operand width packed in one byte: `cond | I32_FLAG` for 32-bit compares.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cc(pub u8);

impl Cc {
    const I32_FLAG: u8 = 0x80;

    pub fn new(cond: Cond, ty: Type) -> Cc {
        Cc(cond as u8 | if ty == Type::I32 { Self::I32_FLAG } else { 0 })
    }

    /// Evaluates the condition (the same truth table as `Cond::eval`, without the
    /// fallible conversion on the hot path).
    #[inline(always)]
    pub fn eval(self, a: u64, b: u64) -> bool {
        let (a, b, sa, sb) = if self.0 & Self::I32_FLAG != 0 {
            let (a, b) = (a as u32 as u64, b as u32 as u64);
            (a, b, a as u32 as i32 as i64, b as u32 as i32 as i64)
        } else {
            (a, b, a as i64, b as i64)
        };
        match self.0 & !Self::I32_FLAG {
            0 => a == b,
            1 => a != b,
            2 => sa < sb,
            3 => sa >= sb,
            4 => sa <= sb,
            5 => sa > sb,
            6 => a < b,
            7 => a >= b,
            8 => a <= b,
            9 => a > b,
            10 => a & b == 0,
            _ => a & b != 0,
        }
    }
}

/// Where a vector op's operands are (kept out of line: rare and large).
#[derive(Clone, Copy, Debug)]
pub(crate) struct VecInfo {
    pub opc: Opc,
    pub shape: tcg_ir::vector::VecShape,
    pub cond: Cond,
    pub imm: u64,
    /// Destination then sources (`nsrc` of them), env offsets.
    pub offs: [u32; 4],
    pub nsrc: u8,
    pub scalar: Option<S>,
    /// The saturation flag of the saturating ops.
    pub out: Option<S>,
    /// The index bytes of `vshuf`.
    pub mask: Option<u128>,
}

/// A helper call's resolved operands.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallInfo {
    pub addr: usize,
    pub nargs: u8,
    pub args: [S; tcg_ir::Helper::MAX_ARGS as usize],
    pub ret: Option<S>,
    /// The result is an I32 temp (masked).
    pub ret_i32: bool,
    /// Write the written globals back before the call.
    pub sync_before: bool,
    /// Reload every used global after it.
    pub reload_after: bool,
    pub sl: u16,
}

/// An atomic guest memory op's operands.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AtomicInfo {
    pub memop: MemOp,
    pub mmu: u8,
    /// `None`: compare-and-swap (`v` is the compare value, `new` the new one).
    pub rmw: Option<RmwOp>,
    pub i32: bool,
    pub d: S,
    pub addr: S,
    pub v: S,
    pub new: S,
    pub pcx: u16,
    pub sl: u16,
}

/// One instruction. `sl` fields name the store list (globals written back) of an exit,
/// fault exit or sync point. `f` fields of the flag superinstructions name the first of four
/// consecutive slots holding the NZCV globals `nf, zf, cf, vf`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Insn {
    Mov {
        d: S,
        a: S,
    },
    MovI {
        d: S,
        imm: u64,
    },

    Add {
        d: S,
        a: S,
        b: S,
    },
    Sub {
        d: S,
        a: S,
        b: S,
    },
    Mul {
        d: S,
        a: S,
        b: S,
    },
    And {
        d: S,
        a: S,
        b: S,
    },
    Or {
        d: S,
        a: S,
        b: S,
    },
    Xor {
        d: S,
        a: S,
        b: S,
    },
    Andc {
        d: S,
        a: S,
        b: S,
    },
    Shl {
        d: S,
        a: S,
        b: S,
    },
    Shr {
        d: S,
        a: S,
        b: S,
    },
    Sar {
        d: S,
        a: S,
        b: S,
    },
    Add32 {
        d: S,
        a: S,
        b: S,
    },
    Sub32 {
        d: S,
        a: S,
        b: S,
    },
    Mul32 {
        d: S,
        a: S,
        b: S,
    },

    AddI {
        d: S,
        a: S,
        imm: u64,
    },
    AndI {
        d: S,
        a: S,
        imm: u64,
    },
    OrI {
        d: S,
        a: S,
        imm: u64,
    },
    XorI {
        d: S,
        a: S,
        imm: u64,
    },
    AddI32 {
        d: S,
        a: S,
        imm: u64,
    },
    /// Shifts by a constant already reduced modulo the width (`sh < 64`).
    ShlI {
        d: S,
        a: S,
        sh: u8,
    },
    ShlI32 {
        d: S,
        a: S,
        sh: u8,
    },
    ShrI {
        d: S,
        a: S,
        sh: u8,
    },
    SarI {
        d: S,
        a: S,
        sh: u8,
    },
    SarI32 {
        d: S,
        a: S,
        sh: u8,
    },

    Ext32u {
        d: S,
        a: S,
    },
    Ext32s {
        d: S,
        a: S,
    },
    Neg {
        d: S,
        a: S,
    },
    Not {
        d: S,
        a: S,
    },
    /// `(a >> pos) & mask`: unsigned `extract` (the result fits the type).
    Extract {
        d: S,
        a: S,
        pos: u8,
        len: u8,
    },
    /// Signed `extract`, sign-extended from `len` bits and masked to 32 bits if `i32`.
    Sextract {
        d: S,
        a: S,
        pos: u8,
        len: u8,
        i32: bool,
    },
    Deposit {
        d: S,
        a: S,
        b: S,
        pos: u8,
        len: u8,
        ty: Type,
    },
    /// Any other pure op, through `tcg_ir::semantics`.
    Un {
        d: S,
        a: S,
        opc: Opc,
        ty: Type,
    },
    Bin {
        d: S,
        a: S,
        b: S,
        opc: Opc,
        ty: Type,
    },
    Mul2 {
        lo: S,
        hi: S,
        a: S,
        b: S,
        signed: bool,
        ty: Type,
    },

    Setcond {
        d: S,
        a: S,
        b: S,
        cc: Cc,
    },
    SetcondI {
        d: S,
        a: S,
        cc: Cc,
        imm: u64,
    },
    Movcond {
        d: S,
        c1: S,
        c2: S,
        v1: S,
        v2: S,
        cc: Cc,
    },

    /// `nf = zf = d = a - b, cf = a >= b, vf = (a ^ b) & (a ^ d)` (64-bit SUBS/CMP).
    SubFlags {
        d: S,
        a: S,
        b: S,
        f: S,
    },
    SubFlagsI {
        d: S,
        a: S,
        f: S,
        imm: u64,
    },
    /// `d = a + b, c = d < a, cf = c, vf = (d ^ a) & !(a ^ b), nf = zf = d` (64-bit ADDS).
    AddFlags {
        d: S,
        c: S,
        a: S,
        b: S,
        f: S,
    },
    /// The 32-bit add-with-carry flags: `s = a + b + c` (64-bit), `cf = s >> 32 & 1`,
    /// `d = s as u32`, `vf = ((d ^ a) & !(a ^ b)) << 32`, `nf = d as i32`, `zf = d`, where
    /// `c = cin & 1` and the operands were first taken as `a as u32` if `cin & 2`, `b as
    /// u32` if `cin & 4`, `!b as u32` if `cin & 8` (their `ext32u`/`xor` folded in).
    AddFlags32 {
        d: S,
        a: S,
        b: S,
        f: S,
        cin: u8,
    },
    AddFlags32I {
        d: S,
        a: S,
        f: S,
        cin: u8,
        imm: u32,
    },
    /// Logical-op flags: `nf = zf = a` (sign-extended from 32 bits if `i32`), cf = vf = 0.
    LogicFlags {
        a: S,
        f: S,
        i32: bool,
    },
    /// `d = (zf != 0) & !sign(nf ^ vf)`: the A64 GT test as 0/1 (LE is `d == 0`).
    TestGt {
        d: S,
        f: S,
    },

    Brcond {
        a: S,
        b: S,
        cc: Cc,
        target: u32,
    },
    BrcondI {
        a: S,
        cc: Cc,
        target: u32,
        imm: u64,
    },
    /// `if a == 0 goto target` / `if a != 0 goto target`.
    BrZ {
        a: S,
        target: u32,
    },
    BrNz {
        a: S,
        target: u32,
    },
    Br {
        target: u32,
    },

    LdEnv {
        d: S,
        memop: MemOp,
        i32: bool,
        off: u32,
    },
    StEnv {
        a: S,
        memop: MemOp,
        off: u32,
    },
    /// Global sync around env accesses that overlap it (`wide`: 8 bytes, else 4).
    LdGlobal {
        d: S,
        wide: bool,
        off: u32,
    },
    StGlobal {
        a: S,
        wide: bool,
        off: u32,
    },

    /// Guest loads of 1/2/4/8 bytes at `a + off`; `memop` gives sign and alignment, the
    /// variant the size. `pcx` indexes the TB's guest-pc table (for the slow path).
    Ld1 {
        d: S,
        a: S,
        mmu: u8,
        memop: MemOp,
        pcx: u16,
        i32: bool,
        off: i32,
        sl: u16,
    },
    Ld2 {
        d: S,
        a: S,
        mmu: u8,
        memop: MemOp,
        pcx: u16,
        i32: bool,
        off: i32,
        sl: u16,
    },
    Ld4 {
        d: S,
        a: S,
        mmu: u8,
        memop: MemOp,
        pcx: u16,
        i32: bool,
        off: i32,
        sl: u16,
    },
    Ld8 {
        d: S,
        a: S,
        mmu: u8,
        memop: MemOp,
        pcx: u16,
        i32: bool,
        off: i32,
        sl: u16,
    },
    St1 {
        v: S,
        a: S,
        mmu: u8,
        memop: MemOp,
        pcx: u16,
        off: i32,
        sl: u16,
    },
    St2 {
        v: S,
        a: S,
        mmu: u8,
        memop: MemOp,
        pcx: u16,
        off: i32,
        sl: u16,
    },
    St4 {
        v: S,
        a: S,
        mmu: u8,
        memop: MemOp,
        pcx: u16,
        off: i32,
        sl: u16,
    },
    St8 {
        v: S,
        a: S,
        mmu: u8,
        memop: MemOp,
        pcx: u16,
        off: i32,
        sl: u16,
    },
    Atomic {
        idx: u32,
    },
    Mb {
        full: bool,
    },
    Call {
        idx: u32,
    },
    Vec {
        idx: u32,
    },

    /// The end of a conditional-branch TB in one: `if test(a) { pc = pcs[t]; goto_tb
    /// slots >> 1 } else { pc = pcs[f]; goto_tb slots & 1 }` (each `goto_tb` followed by its
    /// `exit_tb`). `kind`: 0 `a == 0`, 1 `a != 0`, 2 `a < 0`, 3 `a >= 0` (signed 64-bit).
    BrGoto {
        a: S,
        kind: u8,
        slots: u8,
        pc: S,
        sl: u16,
        t: u16,
        f: u16,
    },
    /// `goto_tb slot`: if the slot is chained, write the globals back and continue in the
    /// next TB; otherwise fall through (to the `exit_tb` that follows).
    GotoTb {
        slot: u8,
        sl: u16,
    },
    /// `[mov pc, $imm;] goto_tb slot; exit_tb slot` in one: the globals are written back
    /// once; slot `pc` is set to `imm` first unless `pc` is `S::MAX`.
    GotoExit {
        slot: u8,
        sl: u16,
        pc: S,
        imm: u64,
    },
    /// `lookup_goto`: continues in the interpreted TB the vCPU's jump cache names for the
    /// pc in slot `pc` (with TB flags `flags`, code fetched through `mmu`), if the entry
    /// is for this pc, its guest code is what the code TLB maps the pc to now, its flags
    /// are `flags` and the TB is alive and of this TB's generation; falls through
    /// otherwise. Globals written back (list `sl`) before continuing.
    LookupGoto {
        pc: S,
        mmu: u8,
        sl: u16,
        flags: u32,
    },
    /// Writes the globals back and leaves with `code` (a chainable exit for the slot in
    /// `code` if `chainable`).
    Exit {
        chainable: bool,
        sl: u16,
        code: u64,
    },
}
