//! The one table of IR opcodes: name, argument counts, kinds of constant arguments, flags.

use bitflags::bitflags;

bitflags! {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct OpFlags: u16 {
        /// Must not be removed even if its outputs are unused (stores, faults, control flow).
        const SIDE_EFFECTS = 1;
        /// Ends a basic block: control may leave here (branches, exits).
        const BB_END = 2;
        /// Prints and parses without a `.type` suffix; its type is irrelevant.
        const UNTYPED = 4;
        /// Accesses guest memory (may fault, may call the softmmu slow path).
        const GUEST_MEM = 8;
        /// Variable number of inputs/outputs (helper calls).
        const VARIADIC = 16;
        /// Pure arithmetic evaluated by `semantics` (foldable when all inputs are constant).
        const PURE = 32;
        /// A vector op (see `vector.rs`): reads and writes 16-byte operands in env at the
        /// offsets of its `Env` constant arguments (destination first).
        const VECTOR = 64;
    }
}

/// What a constant argument of an op means (for printing, parsing and verifying).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CArg {
    Int,
    Cond,
    MemOp,
    Mmu,
    Label,
    Helper,
    Barrier,
    Rmw,
    /// A vector op's lane size and operation size ([`crate::vector::VecShape`]).
    Vec,
    /// Byte offset of a 16-byte vector operand in env.
    Env,
}

/// Static description of an opcode.
#[derive(Debug)]
pub struct OpDef {
    pub name: &'static str,
    pub nb_oargs: u8,
    pub nb_iargs: u8,
    pub cargs: &'static [CArg],
    pub flags: OpFlags,
}

macro_rules! opcodes {
    ($($v:ident = $name:literal, $o:literal, $i:literal, [$($c:ident),*], $flags:expr;)*) => {
        /// An IR opcode; its properties are in [`Opc::def`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Opc { $($v,)* }

        const DEFS: &[OpDef] = &[
            $(OpDef { name: $name, nb_oargs: $o, nb_iargs: $i, cargs: &[$(CArg::$c),*], flags: $flags },)*
        ];

        impl Opc {
            pub const ALL: &'static [Opc] = &[$(Opc::$v,)*];
        }
    };
}

const P: OpFlags = OpFlags::PURE;
const SE: OpFlags = OpFlags::SIDE_EFFECTS;
const fn f(a: OpFlags, b: OpFlags) -> OpFlags {
    OpFlags::from_bits_retain(a.bits() | b.bits())
}
const CTRL: OpFlags = f(f(OpFlags::SIDE_EFFECTS, OpFlags::BB_END), OpFlags::UNTYPED);
const MEM: OpFlags = f(OpFlags::SIDE_EFFECTS, OpFlags::GUEST_MEM);
const UNT: OpFlags = f(OpFlags::SIDE_EFFECTS, OpFlags::UNTYPED);
const VEC: OpFlags = f(UNT, OpFlags::VECTOR);

// Semantics (see `semantics.rs`): I32 values live zero-extended in 64-bit slots; shift and
// rotate counts are taken modulo the width; x/0 = 0, x%0 = x, MIN/-1 = MIN, MIN%-1 = 0;
// clz/ctz of 0 give the width; deposit/extract take (pos, len) with pos+len <= width.
opcodes! {
    Mov = "mov", 1, 1, [], P;
    Add = "add", 1, 2, [], P;
    Sub = "sub", 1, 2, [], P;
    Mul = "mul", 1, 2, [], P;
    And = "and", 1, 2, [], P;
    Or = "or", 1, 2, [], P;
    Xor = "xor", 1, 2, [], P;
    Andc = "andc", 1, 2, [], P;
    Orc = "orc", 1, 2, [], P;
    Eqv = "eqv", 1, 2, [], P;
    Shl = "shl", 1, 2, [], P;
    Shr = "shr", 1, 2, [], P;
    Sar = "sar", 1, 2, [], P;
    Rotl = "rotl", 1, 2, [], P;
    Rotr = "rotr", 1, 2, [], P;
    Div = "div", 1, 2, [], P;
    Divu = "divu", 1, 2, [], P;
    Rem = "rem", 1, 2, [], P;
    Remu = "remu", 1, 2, [], P;
    Neg = "neg", 1, 1, [], P;
    Not = "not", 1, 1, [], P;
    Ext8s = "ext8s", 1, 1, [], P;
    Ext8u = "ext8u", 1, 1, [], P;
    Ext16s = "ext16s", 1, 1, [], P;
    Ext16u = "ext16u", 1, 1, [], P;
    Ext32s = "ext32s", 1, 1, [], P;
    Ext32u = "ext32u", 1, 1, [], P;
    ExtuI32I64 = "extu_i32_i64", 1, 1, [], f(P, OpFlags::UNTYPED);
    ExtsI32I64 = "exts_i32_i64", 1, 1, [], f(P, OpFlags::UNTYPED);
    ExtrlI64I32 = "extrl_i64_i32", 1, 1, [], f(P, OpFlags::UNTYPED);
    ExtrhI64I32 = "extrh_i64_i32", 1, 1, [], f(P, OpFlags::UNTYPED);
    Clz = "clz", 1, 1, [], P;
    Ctz = "ctz", 1, 1, [], P;
    Ctpop = "ctpop", 1, 1, [], P;
    Bswap16 = "bswap16", 1, 1, [], P;
    Bswap32 = "bswap32", 1, 1, [], P;
    Bswap64 = "bswap64", 1, 1, [], P;
    Deposit = "deposit", 1, 2, [Int, Int], P;
    Extract = "extract", 1, 1, [Int, Int], P;
    Sextract = "sextract", 1, 1, [Int, Int], P;
    Mulu2 = "mulu2", 2, 2, [], P;
    Muls2 = "muls2", 2, 2, [], P;
    Setcond = "setcond", 1, 2, [Cond], P;
    Movcond = "movcond", 1, 4, [Cond], P;
    Brcond = "brcond", 0, 2, [Cond, Label], f(OpFlags::SIDE_EFFECTS, OpFlags::BB_END);
    Br = "br", 0, 0, [Label], CTRL;
    SetLabel = "set_label", 0, 0, [Label], UNT;
    LdEnv = "ld_env", 1, 0, [Int, MemOp], OpFlags::empty();
    StEnv = "st_env", 0, 1, [Int, MemOp], SE;
    QemuLd = "qemu_ld", 1, 1, [MemOp, Mmu], MEM;
    QemuSt = "qemu_st", 0, 2, [MemOp, Mmu], MEM;
    AtomicCmpxchg = "atomic_cmpxchg", 1, 3, [MemOp, Mmu], MEM;
    AtomicRmw = "atomic_rmw", 1, 2, [MemOp, Mmu, Rmw], MEM;
    Mb = "mb", 0, 0, [Barrier], UNT;
    Call = "call", 0, 0, [Helper], f(SE, OpFlags::VARIADIC);
    InsnStart = "insn_start", 0, 0, [Int], UNT;
    GotoTb = "goto_tb", 0, 0, [Int], UNT;
    // Indirect TB-to-TB jump: if the vCPU's jump cache holds a TB for guest pc = the
    // input, TB flags = the Int and the code mapping of that pc under the MMU index, with
    // the globals written back continue there; otherwise fall through (to the
    // `exit_tb LOOKUP` that follows). A back end may always fall through.
    LookupGoto = "lookup_goto", 0, 1, [Int, Mmu], UNT;
    ExitTb = "exit_tb", 0, 0, [Int], CTRL;
    // Vector ops on env operands (semantics in `vector.rs`): shape, then the destination
    // and source offsets. The scalar input of vdup/vands/vors/vcmps is an I64 whose low
    // lane bits are replicated to every lane.
    VMov = "vmov", 0, 0, [Vec, Env, Env], VEC;
    VNot = "vnot", 0, 0, [Vec, Env, Env], VEC;
    VNeg = "vneg", 0, 0, [Vec, Env, Env], VEC;
    VAbs = "vabs", 0, 0, [Vec, Env, Env], VEC;
    VAdd = "vadd", 0, 0, [Vec, Env, Env, Env], VEC;
    VSub = "vsub", 0, 0, [Vec, Env, Env, Env], VEC;
    VMul = "vmul", 0, 0, [Vec, Env, Env, Env], VEC;
    VAnd = "vand", 0, 0, [Vec, Env, Env, Env], VEC;
    VOr = "vor", 0, 0, [Vec, Env, Env, Env], VEC;
    VXor = "vxor", 0, 0, [Vec, Env, Env, Env], VEC;
    VAndc = "vandc", 0, 0, [Vec, Env, Env, Env], VEC;
    VOrc = "vorc", 0, 0, [Vec, Env, Env, Env], VEC;
    VSmin = "vsmin", 0, 0, [Vec, Env, Env, Env], VEC;
    VSmax = "vsmax", 0, 0, [Vec, Env, Env, Env], VEC;
    VUmin = "vumin", 0, 0, [Vec, Env, Env, Env], VEC;
    VUmax = "vumax", 0, 0, [Vec, Env, Env, Env], VEC;
    // Multiply-accumulate: d = acc + a * b (vmls: acc - a * b) for operands d, a, b, acc.
    VMla = "vmla", 0, 0, [Vec, Env, Env, Env, Env], VEC;
    VMls = "vmls", 0, 0, [Vec, Env, Env, Env, Env], VEC;
    // Lanes `a cond b` become all-ones, others zero.
    VCmp = "vcmp", 0, 0, [Vec, Cond, Env, Env, Env], VEC;
    // Shifts by an immediate; a count of the lane size or more gives 0 (vsari: the sign).
    VShli = "vshli", 0, 0, [Vec, Env, Env, Int], VEC;
    VShri = "vshri", 0, 0, [Vec, Env, Env, Int], VEC;
    VSari = "vsari", 0, 0, [Vec, Env, Env, Int], VEC;
    // `d = (t & c) | (f & !c)` for operands d, c, t, f.
    VBitsel = "vbitsel", 0, 0, [Vec, Env, Env, Env, Env], VEC;
    VDup = "vdup", 0, 1, [Vec, Env], VEC;
    VAnds = "vands", 0, 1, [Vec, Env, Env], VEC;
    VOrs = "vors", 0, 1, [Vec, Env, Env], VEC;
    VCmps = "vcmps", 0, 1, [Vec, Cond, Env, Env], VEC;
    // Byte permutation: byte i of d = byte m[i] of the 32 bytes a:b (a first), zero for
    // m[i] >= 32, where m[0..8] are the bytes of the first Int (little-endian) and
    // m[8..16] of the second.
    VShuf = "vshuf", 0, 0, [Vec, Env, Env, Env, Int, Int], VEC;
    // Table lookup (A64 TBL with one table register): byte i of d = byte idx[i] of the
    // table for idx[i] < 16, else zero; operands d, table, idx.
    VTbl = "vtbl", 0, 0, [Vec, Env, Env, Env], VEC;
    // Saturating add/sub (unsigned, signed); the I64 output (written after the
    // destination) is 1 when any lane of the operation size saturated, else 0.
    VUsadd = "vusadd", 1, 0, [Vec, Env, Env, Env], VEC;
    VSsadd = "vssadd", 1, 0, [Vec, Env, Env, Env], VEC;
    VUssub = "vussub", 1, 0, [Vec, Env, Env, Env], VEC;
    VSssub = "vsssub", 1, 0, [Vec, Env, Env, Env], VEC;
}

impl Opc {
    pub fn def(self) -> &'static OpDef {
        &DEFS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn from_name(s: &str) -> Option<Opc> {
        Opc::ALL.iter().copied().find(|o| o.name() == s)
    }

    pub fn flags(self) -> OpFlags {
        self.def().flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_discriminant_and_names_are_unique() {
        assert_eq!(DEFS.len(), Opc::ALL.len());
        let mut names: Vec<_> = Opc::ALL.iter().map(|o| o.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Opc::ALL.len());
        for &o in Opc::ALL {
            assert_eq!(Opc::from_name(o.name()), Some(o));
        }
    }
}
